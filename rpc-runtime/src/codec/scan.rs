//! The codec's scans: the usual frames split without parsing (see the module doc of `codec`).

use serde::de;

use super::is_plain;

/// For a frame ending like `, 123 ]`: where its comma is, and the digits (at most 16, no
/// leading zero). Byte by byte from the end: every byte looked at is ASCII.
pub(super) fn sn_tail(text: &str) -> Option<(usize, &str)> {
    let b = text.as_bytes();
    let is_ws = |c: u8| matches!(c, b' ' | b'\t' | b'\n' | b'\r');
    let mut i = b.len();
    while i > 0 && is_ws(b[i - 1]) {
        i -= 1;
    }
    if i == 0 || b[i - 1] != b']' {
        return None;
    }
    i -= 1;
    while i > 0 && is_ws(b[i - 1]) {
        i -= 1;
    }
    let digits_end = i;
    while i > 0 && b[i - 1].is_ascii_digit() {
        i -= 1;
    }
    let digits = &text[i..digits_end];
    if digits.is_empty() || digits.len() > 16 || (digits.len() > 1 && digits.starts_with('0')) {
        return None;
    }
    while i > 0 && is_ws(b[i - 1]) {
        i -= 1;
    }
    (i > 0 && b[i - 1] == b',').then_some((i - 1, digits))
}

/// An API success `["<plain name>",{"isSucc":true,"res":<res>},<sn>]` split by scanning, the
/// way our servers and TSRPC's write it: the sn and the `res` text, checked to be one JSON
/// value (without building it). `None` for anything else (errors, other spacing or key order),
/// which goes through the full parse and reads the same.
pub(super) fn split_api_success(text: &str) -> Option<(u64, &str)> {
    const HEAD: &str = r#"",{"isSucc":true,"res":"#;
    let (comma, digits) = sn_tail(text)?;
    let sn = digits
        .parse::<u64>()
        .ok()
        .filter(|&sn| sn > 0 && sn <= 1 << 53)?;
    let head = text[..comma].strip_suffix('}')?.strip_prefix("[\"")?;
    let end = head.find('"')?;
    if !is_plain(&head[..end]) {
        return None;
    }
    let res = head[end..].strip_prefix(HEAD)?;
    serde_json::from_str::<de::IgnoredAny>(res).ok()?;
    Some((sn, res))
}

/// An API call `["<plain name>",<body>,<sn>]` split by scanning, without parsing: the name, the
/// unchecked body text and the sn. `None` for anything else, which goes through
/// the full parse. Only a decode of the body that consumes it whole shows the
/// frame is the one the full parse would read.
pub(super) fn split_api_frame(text: &str) -> Option<(&str, &str, u64)> {
    let ws = |c: char| matches!(c, ' ' | '\t' | '\n' | '\r');
    let (comma, digits) = sn_tail(text)?;
    let sn = digits.parse::<u64>().ok().filter(|&sn| sn <= 1 << 53)?;
    let head = text[..comma].strip_prefix("[\"")?;
    let end = head.find('"')?;
    let name = &head[..end];
    if !is_plain(name) {
        return None;
    }
    let body = head[end + 1..].strip_prefix(',')?;
    if body.trim_matches(ws).is_empty() {
        return None;
    }
    Some((name, body, sn))
}

/// A message frame `["<plain name>",<body>]` split by scanning, without parsing: the name and
/// the unchecked body text. `None` for anything else (an escaped name, a trailing sn, ...),
/// which goes through the full parse. The body is not validated: only a
/// listener decoding it successfully shows the frame is the one the full parse would read.
pub(super) fn split_msg_frame(text: &str) -> Option<(&str, &str)> {
    let rest = text.strip_prefix("[\"")?;
    let end = rest.find('"')?;
    let name = &rest[..end];
    if !is_plain(name) {
        return None;
    }
    let ws = |c: char| matches!(c, ' ' | '\t' | '\n' | '\r');
    let body = rest[end + 1..].strip_prefix(',')?;
    let body = body.trim_end_matches(ws).strip_suffix(']')?;
    if body.trim_matches(ws).is_empty() || sn_tail(text).is_some() {
        return None;
    }
    Some((name, body))
}
