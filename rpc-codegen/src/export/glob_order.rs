//! The order in which `tsrpc-cli proto` finds protocol files, which decides the service ids of
//! a first generation and the order of `services` and `types` in its proto.
//!
//! tsrpc-cli lists the files with glob 7, which sorts paths with
//! `a.localeCompare(b, 'en')`: ICU's root collation, not byte order. For the characters a
//! protocol path can hold that means, at the first level, punctuation before digits before
//! letters, letters without regard to case (`game/..` < `MsgChat.ts` < `PtlAdd.ts` <
//! `room/..`); only between paths equal at that level does case count, lower case first.
//! Node 20 (ICU 78) sorts printable ASCII as
//! `` _-,;:!?.'"()[]{}@*/\&#%`^+<=>|~$0-9aAbB..zZ `` (space first): [`compare`] follows that
//! order for ASCII. Other characters (which a Rust protocol folder cannot produce: its file
//! names are ASCII) come after, by code point.

use std::cmp::Ordering;

/// Printable ASCII other than letters and digits, in ICU's root order.
const PUNCTUATION: &str = " _-,;:!?.'\"()[]{}@*/\\&#%`^+<=>|~$";

/// The first-level weight of a character: its place in the collation, case ignored.
fn primary(c: char) -> u32 {
    if let Some(i) = PUNCTUATION.find(c) {
        return i as u32;
    }
    let base = PUNCTUATION.len() as u32;
    match c {
        '0'..='9' => base + (c as u32 - '0' as u32),
        'a'..='z' => base + 10 + (c as u32 - 'a' as u32),
        'A'..='Z' => base + 10 + (c as u32 - 'A' as u32),
        // Control characters and everything past ASCII: after the letters, by code point.
        _ => base + 36 + c as u32,
    }
}

/// The third-level weight: lower case (and anything caseless) before upper case.
fn tertiary(c: char) -> u8 {
    u8::from(c.is_ascii_uppercase())
}

/// `a.localeCompare(b, 'en')` for protocol paths: every first-level weight first, then case.
pub(crate) fn compare(a: &str, b: &str) -> Ordering {
    a.chars()
        .map(primary)
        .cmp(b.chars().map(primary))
        .then_with(|| a.chars().map(tertiary).cmp(b.chars().map(tertiary)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sorted(list: &[&str]) -> Vec<String> {
        let mut v: Vec<String> = list.iter().map(|s| (*s).to_owned()).collect();
        v.sort_by(|a, b| compare(a, b));
        v
    }

    #[test]
    fn printable_ascii_sorts_as_node_does() {
        // Node 20: `[...chars].sort((a, b) => a.localeCompare(b, 'en')).join('')`.
        let node = " _-,;:!?.'\"()[]{}@*/\\&#%`^+<=>|~$0123456789aAbBcCdDeEfFgGhHiIjJkKlLmMnNoOpPqQrRsStTuUvVwWxXyYzZ";
        let mut chars: Vec<char> = (32u8..127).map(char::from).collect();
        chars.sort_by(|a, b| compare(&a.to_string(), &b.to_string()));
        assert_eq!(chars.into_iter().collect::<String>(), node);
    }

    #[test]
    fn paths_sort_as_glob_lists_them() {
        // Node 20's order for the same list, as glob 7 sorts it.
        assert_eq!(
            sorted(&[
                "room/MsgX.ts",
                "PtlAdd.ts",
                "aB",
                "roomB/X.ts",
                "a/b",
                "Ab",
                "MsgChat.ts",
                "a0",
                "Ptl.ts",
                "a.b",
                "ab",
                "game/MsgA.ts",
                "Aa",
                "a_b",
            ]),
            [
                "a_b",
                "a.b",
                "a/b",
                "a0",
                "Aa",
                "ab",
                "aB",
                "Ab",
                "game/MsgA.ts",
                "MsgChat.ts",
                "Ptl.ts",
                "PtlAdd.ts",
                "room/MsgX.ts",
                "roomB/X.ts",
            ]
        );
    }

    #[test]
    fn byte_order_is_not_the_rule() {
        // Bytes put every capital before every small letter; the collation does not.
        assert_eq!(compare("game/MsgA.ts", "MsgChat.ts"), Ordering::Less);
        assert!("game/MsgA.ts" > "MsgChat.ts");
        // A shorter path that is a prefix comes first; equal paths are equal.
        assert_eq!(compare("PtlA", "PtlA.ts"), Ordering::Less);
        assert_eq!(compare("PtlA.ts", "PtlA.ts"), Ordering::Equal);
    }
}
