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

/// Whether `s` can name a Rust module.
pub(crate) fn is_ident(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
        && syn::parse_str::<syn::Ident>(s).is_ok()
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
        assert!(is_ident("room"));
        assert!(!is_ident("my-room"));
        assert!(!is_ident("type"));
    }
}
