//! Small WebSocket facts shared by client and server.

/// The heartbeat frame: one binary byte `00`, in both directions and in every mode.
pub(crate) const HEARTBEAT: &[u8] = &[0];

/// Truncates a close reason to the 123 bytes a close frame allows, on a UTF-8 boundary.
pub(crate) fn truncate_reason(reason: &str) -> &str {
    if reason.len() <= 123 {
        return reason;
    }
    let mut end = 123;
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    &reason[..end]
}

/// A frame as a client sends it: `fin`, `opcode`, `payload` masked with a fixed key (for the
/// fuzz harness and the framing's tests, which write what a client sends byte by byte).
#[cfg(any(test, feature = "fuzz"))]
pub(crate) fn masked_client_frame(fin: bool, opcode: u8, payload: &[u8]) -> Vec<u8> {
    const MASK: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];
    let mut out = Vec::with_capacity(payload.len() + 14);
    out.push(if fin { 0x80 } else { 0 } | (opcode & 0x0f));
    let len = payload.len();
    if len < 126 {
        out.push(0x80 | len as u8);
    } else if let Ok(len) = u16::try_from(len) {
        out.push(0x80 | 126);
        out.extend_from_slice(&len.to_be_bytes());
    } else {
        out.push(0x80 | 127);
        out.extend_from_slice(&(len as u64).to_be_bytes());
    }
    out.extend_from_slice(&MASK);
    out.extend(payload.iter().zip(MASK.iter().cycle()).map(|(b, m)| b ^ m));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncates_on_char_boundary() {
        assert_eq!(truncate_reason("short"), "short");
        let long = "é".repeat(100); // 200 bytes
        let t = truncate_reason(&long);
        assert_eq!(t.len(), 122);
        assert!(t.chars().all(|c| c == 'é'));
        assert_eq!(truncate_reason(&"a".repeat(200)).len(), 123);
    }
}
