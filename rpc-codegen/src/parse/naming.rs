//! TSRPC's naming conventions in Rust case: `ptl_login.rs` holds API `Login` (`ReqLogin`,
//! `ResLogin`), `room/msg_user_join.rs` holds message `room/UserJoin` (`MsgUserJoin`).

use heck::{ToSnakeCase, ToUpperCamelCase};

use crate::model::FileKind;

/// Prefix of an API file stem.
pub(crate) const PTL_PREFIX: &str = "ptl_";
/// Prefix of a message file stem.
pub(crate) const MSG_PREFIX: &str = "msg_";

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

/// The file stem that holds a type with this prefix and base name (`ptl_` + `Login`).
pub(crate) fn expected_stem(prefix: &str, base: &str) -> String {
    format!("{prefix}{}", base.to_snake_case())
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
        assert_eq!(expected_stem(PTL_PREFIX, "GameBurst"), "ptl_game_burst");
        assert_eq!(module_name("room").as_deref(), Some("room"));
        assert_eq!(module_name("my-room"), None);
        assert_eq!(module_name(""), None);
        assert_eq!(module_suggestion("my-room"), "my_room");
        assert_eq!(module_name("type").as_deref(), Some("r#type"));
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
