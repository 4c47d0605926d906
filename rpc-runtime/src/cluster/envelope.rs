//! What instances send each other through Redis: heartbeats, leaves, and messages (their
//! target, name and JSON body), in a small binary envelope.
//!
//! Layout (integers big-endian): kind `u8`, origin instance `u16`, incarnation `u32`, then
//! per kind: heartbeat: connection count `u32`; leave: nothing; message: sequence number
//! `u64` (0 on an instance's own channel), target (all: nothing; room: `u16` length and the
//! name; connections: `u32` count and `u64` ids), name (`u16` length, bytes), binary frame
//! (`u32` length, bytes; length 0: none), JSON body (the rest).

use crate::server::{ClusterMsg, ClusterTarget};

const HEARTBEAT: u8 = 1;
const LEAVE: u8 = 2;
const TO_ALL: u8 = 3;
const TO_ROOM: u8 = 4;
const TO_CONNS: u8 = 5;

/// Who sent an envelope: an instance id and the run of it (a restarted instance with the same
/// id has another incarnation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Origin {
    pub(crate) instance: u16,
    pub(crate) incarnation: u32,
}

/// A decoded envelope, borrowing from the payload.
#[derive(Debug, PartialEq)]
pub(crate) enum Envelope<'a> {
    Heartbeat {
        origin: Origin,
        conns: u32,
    },
    Leave {
        origin: Origin,
    },
    Msg {
        origin: Origin,
        seq: u64,
        target: Target<'a>,
        name: &'a str,
        binary: Option<&'a [u8]>,
        body: &'a str,
    },
}

/// A message's target as decoded (connection ids still packed).
#[derive(Debug, PartialEq)]
pub(crate) enum Target<'a> {
    All,
    Room(&'a str),
    Conns(Vec<u64>),
}

fn head(kind: u8, origin: Origin, cap: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(7 + cap);
    out.push(kind);
    out.extend_from_slice(&origin.instance.to_be_bytes());
    out.extend_from_slice(&origin.incarnation.to_be_bytes());
    out
}

pub(crate) fn heartbeat(origin: Origin, conns: u32) -> Vec<u8> {
    let mut out = head(HEARTBEAT, origin, 4);
    out.extend_from_slice(&conns.to_be_bytes());
    out
}

pub(crate) fn leave(origin: Origin) -> Vec<u8> {
    head(LEAVE, origin, 0)
}

/// A message envelope; `None` when a room or message name is longer than 65535 bytes (or the
/// binary frame longer than 4 GiB).
pub(crate) fn msg(
    origin: Origin,
    seq: u64,
    target: ClusterTarget<'_>,
    m: ClusterMsg<'_>,
) -> Option<Vec<u8>> {
    let (name, body, binary) = (m.name, m.json, m.binary.unwrap_or_default());
    let (kind, extra) = match target {
        ClusterTarget::All => (TO_ALL, 0),
        ClusterTarget::Room(r) => (TO_ROOM, 2 + r.len()),
        ClusterTarget::Conns(ids) => (TO_CONNS, 4 + 8 * ids.len()),
    };
    let name_len = u16::try_from(name.len()).ok()?;
    let mut out = head(
        kind,
        origin,
        8 + extra + 2 + name.len() + 4 + binary.len() + body.len(),
    );
    out.extend_from_slice(&seq.to_be_bytes());
    match target {
        ClusterTarget::All => {}
        ClusterTarget::Room(r) => {
            out.extend_from_slice(&u16::try_from(r.len()).ok()?.to_be_bytes());
            out.extend_from_slice(r.as_bytes());
        }
        ClusterTarget::Conns(ids) => {
            out.extend_from_slice(&u32::try_from(ids.len()).ok()?.to_be_bytes());
            for id in ids {
                out.extend_from_slice(&id.to_be_bytes());
            }
        }
    }
    out.extend_from_slice(&name_len.to_be_bytes());
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(&u32::try_from(binary.len()).ok()?.to_be_bytes());
    out.extend_from_slice(binary);
    out.extend_from_slice(body.as_bytes());
    Some(out)
}

/// Reads an envelope; `None` when the payload is not one (another program on the channel).
pub(crate) fn decode(buf: &[u8]) -> Option<Envelope<'_>> {
    let mut r = Reader(buf);
    let kind = r.u8()?;
    let origin = Origin {
        instance: u16::from_be_bytes(r.array()?),
        incarnation: u32::from_be_bytes(r.array()?),
    };
    let env = match kind {
        HEARTBEAT => Envelope::Heartbeat {
            origin,
            conns: u32::from_be_bytes(r.array()?),
        },
        LEAVE => Envelope::Leave { origin },
        TO_ALL | TO_ROOM | TO_CONNS => {
            let seq = u64::from_be_bytes(r.array()?);
            let target = match kind {
                TO_ALL => Target::All,
                TO_ROOM => Target::Room(r.str16()?),
                _ => {
                    let n = u32::from_be_bytes(r.array()?) as usize;
                    let bytes = r.take(n.checked_mul(8)?)?;
                    Target::Conns(
                        bytes
                            .chunks_exact(8)
                            .map(|c| u64::from_be_bytes(c.try_into().unwrap_or([0; 8])))
                            .collect(),
                    )
                }
            };
            let name = r.str16()?;
            let n = u32::from_be_bytes(r.array()?) as usize;
            let binary = Some(r.take(n)?).filter(|b| !b.is_empty());
            let body = std::str::from_utf8(r.0).ok()?;
            Envelope::Msg {
                origin,
                seq,
                target,
                name,
                binary,
                body,
            }
        }
        _ => return None,
    };
    Some(env)
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Some(a)
    }
    fn u8(&mut self) -> Option<u8> {
        Some(self.take(1)?[0])
    }
    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.take(N)?.try_into().ok()
    }
    fn str16(&mut self) -> Option<&'a str> {
        let n = u16::from_be_bytes(self.array()?) as usize;
        std::str::from_utf8(self.take(n)?).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const O: Origin = Origin {
        instance: 7,
        incarnation: 0xdead_beef,
    };

    #[test]
    fn round_trips() {
        let hb = heartbeat(O, 250);
        assert_eq!(
            decode(&hb),
            Some(Envelope::Heartbeat {
                origin: O,
                conns: 250
            })
        );
        assert_eq!(decode(&leave(O)), Some(Envelope::Leave { origin: O }));
        let ids = [1u64 << 40, 3];
        for (target, want) in [
            (ClusterTarget::All, Target::All),
            (ClusterTarget::Room("lobby"), Target::Room("lobby")),
            (ClusterTarget::Conns(&ids), Target::Conns(ids.to_vec())),
        ] {
            for binary in [None, Some(&[1u8, 2, 3][..])] {
                let m = ClusterMsg {
                    name: "room/Chat",
                    json: r#"{"a":"é"}"#,
                    binary,
                };
                let buf = msg(O, 9, target, m).unwrap();
                assert_eq!(
                    decode(&buf),
                    Some(Envelope::Msg {
                        origin: O,
                        seq: 9,
                        target: match &want {
                            Target::All => Target::All,
                            Target::Room(r) => Target::Room(r),
                            Target::Conns(c) => Target::Conns(c.clone()),
                        },
                        name: "room/Chat",
                        binary,
                        body: r#"{"a":"é"}"#
                    })
                );
            }
        }
    }

    #[test]
    fn refuses_what_is_not_an_envelope() {
        assert_eq!(decode(b""), None);
        assert_eq!(decode(b"hello world"), None);
        let m = ClusterMsg {
            name: "M",
            json: "{}",
            binary: Some(&[9, 9]),
        };
        let buf = msg(O, 1, ClusterTarget::Conns(&[5, 6]), m).unwrap();
        for cut in 0..buf.len() - 2 {
            // Every truncation before the body is refused, never a panic.
            assert_eq!(decode(&buf[..cut]), None, "cut at {cut}");
        }
    }
}
