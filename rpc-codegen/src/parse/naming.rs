//! TSRPC's naming conventions in Rust case: `ptl_login.rs` holds API `Login` (`ReqLogin`,
//! `ResLogin`), `room/msg_user_join.rs` holds message `room/UserJoin` (`MsgUserJoin`).

use heck::{ToSnakeCase, ToUpperCamelCase};

use crate::model::FileKind;

/// Prefix of an API file stem.
const PTL_PREFIX: &str = "ptl_";
/// Prefix of a message file stem.
const MSG_PREFIX: &str = "msg_";

/// What a file stem says the file holds; `Err` with the expected stem for a misnamed one.
pub(crate) fn file_kind(stem: &str) -> Result<FileKind, String> {
    if stem != stem.to_snake_case() {
        let expected = stem.to_snake_case();
        return Err(format!(
            "file name `{stem}.rs` is not snake_case: rename it to `{expected}.rs`"
        ));
    }
    if let Some(rest) = stem.strip_prefix(PTL_PREFIX) {
        return Ok(FileKind::Ptl {
            base: rest.to_upper_camel_case(),
        });
    }
    if let Some(rest) = stem.strip_prefix(MSG_PREFIX) {
        return Ok(FileKind::Msg {
            base: rest.to_upper_camel_case(),
        });
    }
    Ok(FileKind::Other)
}

/// The service name: folder path then base name (`room/UserJoin`).
pub(crate) fn service_name(folder: &[String], base: &str) -> String {
    let mut parts: Vec<&str> = folder.iter().map(String::as_str).collect();
    parts.push(base);
    parts.join("/")
}

/// snake_case of a whole service name, the suffix of generated methods
/// (`room/UserJoin` -> `room_user_join`).
pub(crate) fn method_suffix(name: &str) -> String {
    name.split('/')
        .map(|p| p.to_snake_case())
        .collect::<Vec<_>>()
        .join("_")
}

/// CamelCase of a whole service name, a `Msg` enum variant (`room/UserJoin` -> `RoomUserJoin`).
pub(crate) fn variant_name(name: &str) -> String {
    name.split('/')
        .map(|p| p.to_upper_camel_case())
        .collect::<String>()
}

/// `ReqLogin` -> `Some("Login")` for prefix `Req`: the prefix followed by an upper-case letter.
pub(crate) fn strip_type_prefix<'a>(ident: &'a str, prefix: &str) -> Option<&'a str> {
    ident
        .strip_prefix(prefix)
        .filter(|rest| rest.starts_with(|c: char| c.is_ascii_uppercase()))
}

/// The type among `candidates` that most likely was meant to be `expected` (a type the file
/// name asks for and the file does not declare), for a "did you mean" hint.
///
/// Only a missing type is ever reported; this picks the hint, so it must not guess wildly: a
/// helper such as `MsgChatAttachment` next to a missing `MsgChat` is a compound name (a new
/// CamelCase word after `MsgChat`), not a misspelling, and is not proposed. A candidate is a
/// near miss when, compared without case and `_`:
///
/// 1. it is the same name (`Msgchat`, `MSG_CHAT`), or the name without its role prefix
///    (`Chat` for `MsgChat`);
/// 2. it is at most `max(1, len / 3)` edits away (insert, delete, replace, swap two neighbours;
///    rustc's rule for its own suggestions): `MsgCaht`, `ResLgoin`, `ReqLogn`;
/// 3. it is the expected name with its last word continued in lower case (`MsgChatter`,
///    `ReqLogins`): the same word, misspelled or inflected.
///
/// Ties go to the lower rule, then the smaller distance, then the first candidate.
pub(crate) fn near_miss<'a>(
    expected: &str,
    prefix: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .filter_map(|c| Some((closeness(expected, prefix, c)?, c)))
        .min_by_key(|(score, _)| *score)
        .map(|(_, c)| c)
}

/// How close `candidate` is to `expected` by [`near_miss`]'s rules: (rule, distance), lower is
/// closer; `None` when it is no near miss (or is `expected` itself).
pub(crate) fn closeness(expected: &str, prefix: &str, candidate: &str) -> Option<(u8, usize)> {
    if candidate == expected {
        return None;
    }
    let (want, got) = (fold(expected), fold(candidate));
    if got == want || expected.strip_prefix(prefix).map(fold) == Some(got.clone()) {
        return Some((0, 0));
    }
    let limit = (expected.chars().count() / 3).max(1);
    if let Some(d) = edit_distance(&want, &got).filter(|d| *d <= limit) {
        return Some((1, d));
    }
    candidate
        .strip_prefix(expected)
        .filter(|rest| rest.starts_with(|ch: char| ch.is_ascii_lowercase()))
        .map(|rest| (2, rest.len()))
}

/// Lower case without `_`: how [`near_miss`] compares names.
fn fold(s: &str) -> String {
    s.chars()
        .filter(|c| *c != '_')
        .flat_map(char::to_lowercase)
        .collect()
}

/// Optimal string alignment distance (Levenshtein plus swaps of neighbours), by chars; `None`
/// when the lengths alone differ by more than the longest name could matter (over 32).
pub(crate) fn edit_distance(a: &str, b: &str) -> Option<usize> {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    if a.len().abs_diff(b.len()) > 32 {
        return None;
    }
    // Three rows: two back (for swaps), previous, current.
    let mut before: Vec<usize> = vec![0; b.len() + 1];
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur: Vec<usize> = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        cur[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(before[j - 2] + 1);
            }
            cur[j] = d;
        }
        std::mem::swap(&mut before, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    Some(prev[b.len()])
}

/// The keywords that cannot be raw identifiers (`r#self` is refused by the compiler).
const NOT_RAW: [&str; 4] = ["self", "Self", "super", "crate"];

/// The Rust spelling of a name the generator makes from a file or folder name (a module, a
/// handler method, a `Msg` variant). Total: it never fails, so no name can make the macro
/// panic. The rules, in order:
///
/// - an identifier stays as it is (`room`, `user_join`, `RoomUserJoin`);
/// - `self`, `Self`, `super`, `crate` get a trailing underscore (`self_`, `Self_`): they
///   cannot be raw identifiers;
/// - a name that starts with a digit gets a leading underscore (`2fa` -> `_2fa`);
/// - another keyword becomes a raw identifier (`match` -> `r#match`, `type` -> `r#type`);
/// - anything else (reached only by names the checks refuse) has every character that is not
///   ASCII alphanumeric replaced by `_` and a `__` prefix.
///
/// The names it is given come out of `to_snake_case` / `to_upper_camel_case`, which never
/// start or end with `_`, so two different names never get the same spelling through the
/// first four rules; the duplicate check compares spellings anyway.
pub(crate) fn spell(name: &str) -> String {
    if is_plain_ident(name) {
        return name.to_owned();
    }
    if NOT_RAW.contains(&name) {
        return format!("{name}_");
    }
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        let spelled = format!("_{name}");
        if is_plain_ident(&spelled) {
            return spelled;
        }
    }
    let raw = format!("r#{name}");
    if syn::parse_str::<syn::Ident>(&raw).is_ok_and(|i| i == raw) {
        return raw;
    }
    let ascii: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    format!("__{ascii}")
}

/// An identifier that needs no spelling: parses, and is not a keyword.
fn is_plain_ident(s: &str) -> bool {
    !s.is_empty() && !s.starts_with("r#") && syn::parse_str::<syn::Ident>(s).is_ok_and(|i| i == s)
}

/// The module name of a protocol file stem or folder name: [`spell`] of it, or `None` when it
/// holds something other than ASCII letters, digits and `_` (`my-room`, `été`, an empty name).
/// Keywords are fine: `match/` is `pub mod r#match`, `self/` is `pub mod self_`.
pub(crate) fn module_name(s: &str) -> Option<String> {
    (!s.is_empty() && s.chars().all(|c| c == '_' || c.is_ascii_alphanumeric())).then(|| spell(s))
}

/// A name [`module_name`] accepts, for a message refusing `s`: `my-room` -> `my_room`.
pub(crate) fn module_suggestion(s: &str) -> String {
    let ascii: String = s
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if ascii.is_empty() {
        "protocols".to_owned()
    } else {
        ascii
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_from_stems() {
        assert_eq!(
            file_kind("ptl_login"),
            Ok(FileKind::Ptl {
                base: "Login".into()
            })
        );
        assert_eq!(
            file_kind("msg_user_join"),
            Ok(FileKind::Msg {
                base: "UserJoin".into()
            })
        );
        assert_eq!(file_kind("base"), Ok(FileKind::Other));
        assert!(file_kind("PtlLogin")
            .unwrap_err()
            .contains("`ptl_login.rs`"));
    }

    #[test]
    fn names() {
        let room = vec!["room".to_owned()];
        assert_eq!(service_name(&room, "UserJoin"), "room/UserJoin");
        assert_eq!(service_name(&[], "Login"), "Login");
        assert_eq!(method_suffix("room/UserJoin"), "room_user_join");
        assert_eq!(method_suffix("game/GameFrame"), "game_game_frame");
        assert_eq!(variant_name("room/UserJoin"), "RoomUserJoin");
        assert_eq!(module_name("room").as_deref(), Some("room"));
        assert_eq!(module_name("my-room"), None);
        assert_eq!(module_name(""), None);
        assert_eq!(module_suggestion("my-room"), "my_room");
        assert_eq!(module_name("type").as_deref(), Some("r#type"));
    }

    #[test]
    fn distances() {
        for (a, b, d) in [
            ("", "", 0),
            ("abc", "", 3),
            ("", "ab", 2),
            ("kitten", "sitting", 3),
            ("msgchat", "msgchta", 1),
            ("reslogin", "reslgoin", 1),
            ("reqlogin", "reqlogn", 1),
            ("msgchat", "msgchatter", 3),
            ("ca", "abc", 3),
        ] {
            assert_eq!(edit_distance(a, b), Some(d), "{a} {b}");
            assert_eq!(edit_distance(b, a), Some(d), "{b} {a}");
        }
        assert_eq!(edit_distance("a", &"b".repeat(40)), None);
    }

    #[test]
    fn near_misses() {
        let hint = |expected: &str, prefix: &str, candidates: &[&'static str]| {
            near_miss(expected, prefix, candidates.iter().copied())
        };
        // Case, `_`, the bare base name.
        assert_eq!(hint("MsgChat", "Msg", &["Msgchat"]), Some("Msgchat"));
        assert_eq!(hint("MsgChat", "Msg", &["MSG_CHAT"]), Some("MSG_CHAT"));
        assert_eq!(hint("MsgChat", "Msg", &["Chat"]), Some("Chat"));
        // Typos within max(1, len / 3) edits.
        assert_eq!(hint("MsgChat", "Msg", &["MsgCaht"]), Some("MsgCaht"));
        assert_eq!(hint("ResLogin", "Res", &["ResLgoin"]), Some("ResLgoin"));
        assert_eq!(
            hint("ReqLogin", "Req", &["User", "ReqLogn"]),
            Some("ReqLogn")
        );
        // The last word continued in lower case.
        assert_eq!(hint("MsgChat", "Msg", &["MsgChatter"]), Some("MsgChatter"));
        // Compound helpers are not near misses, nor are other names.
        assert_eq!(hint("MsgChat", "Msg", &["MsgChatAttachment"]), None);
        assert_eq!(hint("ResLogin", "Res", &["ResLoginProfile", "User"]), None);
        assert_eq!(hint("MsgUserJoin", "Msg", &["MsgJoin"]), None);
        assert_eq!(hint("ReqAdd", "Req", &["ReqSum"]), None);
        assert_eq!(hint("MsgChat", "Msg", &[]), None);
        // The expected name itself is never its own near miss.
        assert_eq!(hint("MsgChat", "Msg", &["MsgChat"]), None);
        // The closest wins: same name before a typo before a continued word; then the first.
        assert_eq!(
            hint("MsgChat", "Msg", &["MsgChatter", "MsgCht", "msgchat"]),
            Some("msgchat")
        );
        assert_eq!(
            hint("MsgChat", "Msg", &["MsgChatter", "MsgCht"]),
            Some("MsgCht")
        );
        assert_eq!(
            hint("MsgChat", "Msg", &["MsgCht", "MsgCha"]),
            Some("MsgCht")
        );
        // Short names still allow one edit.
        assert_eq!(hint("MsgA", "Msg", &["MsgB"]), Some("MsgB"));
    }

    #[test]
    fn spellings() {
        for (name, spelled) in [
            ("room", "room"),
            ("RoomUserJoin", "RoomUserJoin"),
            ("match", "r#match"),
            ("type", "r#type"),
            ("async", "r#async"),
            ("self", "self_"),
            ("Self", "Self_"),
            ("super", "super_"),
            ("crate", "crate_"),
            ("2fa", "_2fa"),
            ("2faLogin", "_2faLogin"),
            ("_", "___"),
            ("", "__"),
            ("my-room", "__my_room"),
            ("écho", "écho"),
        ] {
            assert_eq!(spell(name), spelled, "{name}");
        }
    }
}
