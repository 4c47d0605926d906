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
