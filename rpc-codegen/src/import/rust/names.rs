//! Rust names for TypeScript names: types in UpperCamelCase, fields in snake_case, variants
//! from the values they stand for. Total functions: any text gives a name that compiles.

use heck::{ToSnakeCase, ToUpperCamelCase};

use crate::parse::naming::spell;
use crate::serde_rename::{rename_field, rename_variant};

/// Keeps ASCII letters, digits and `_`; anything else becomes a word break.
fn ascii_words(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

/// A type name: `Leaderboard.Entry` -> `LeaderboardEntry`, `user_info` -> `UserInfo`,
/// `Self` -> `Self_`; `Type` when nothing is left.
pub(crate) fn type_name(ts: &str) -> String {
    let camel = ascii_words(ts).to_upper_camel_case();
    if camel.is_empty() {
        return "Type".to_owned();
    }
    if camel.starts_with(|c: char| c.is_ascii_digit()) {
        return format!("T{camel}");
    }
    spell(&camel)
}

/// A field name: `expiresIn` -> `expires_in`, `spring-24` -> `spring_24`, `type` ->
/// `r#type`, `2fa` -> `_2fa`; `field` when nothing is left.
pub(crate) fn field_name(json: &str) -> String {
    let snake = ascii_words(json).to_snake_case();
    if snake.is_empty() {
        return "field".to_owned();
    }
    spell(&snake)
}

/// A module (file or folder) name: snake_case ASCII, never empty.
pub(crate) fn module_name(ts: &str, fallback: &str) -> String {
    let snake = ascii_words(ts).to_snake_case();
    if snake.is_empty() {
        fallback.to_owned()
    } else {
        snake
    }
}

/// A variant for a string value: `world` -> `World`, `spring-24` -> `Spring24`, `` ->
/// `Empty`, `2` -> `V2`.
pub(crate) fn variant_for_str(value: &str) -> String {
    let camel = ascii_words(value).to_upper_camel_case();
    if camel.is_empty() {
        "Empty".to_owned()
    } else if camel.starts_with(|c: char| c.is_ascii_digit()) {
        format!("V{camel}")
    } else {
        spell(&camel)
    }
}

/// A variant for a number: `5` -> `V5`, `-1` -> `Neg1`, `1.5` -> `V1_5`.
pub(crate) fn variant_for_num(value: f64) -> String {
    let mut text = String::new();
    super::super::json::write_number(&mut text, value.abs());
    let text = text.replace(['.', '+'], "_");
    if value < 0.0 {
        format!("Neg{text}")
    } else {
        format!("V{text}")
    }
}

/// What serde's `rename_all = "camelCase"` makes of a field name (`expires_in` ->
/// `expiresIn`), to know when a field needs its own `rename`.
pub(crate) fn serde_camel(field: &str) -> String {
    let field = field.strip_prefix("r#").unwrap_or(field);
    rename_field("camelCase", field).unwrap_or_default()
}

/// What serde's `rename_all = "camelCase"` makes of a variant name (`SomeValue` ->
/// `someValue`).
pub(crate) fn serde_camel_variant(variant: &str) -> String {
    let variant = variant.strip_prefix("r#").unwrap_or(variant);
    rename_variant("camelCase", variant).unwrap_or_default()
}

/// `ReqLogin` -> `Login`, `MsgChat` -> `Chat` (a role prefix then an upper-case letter);
/// other names as they are.
pub(crate) fn strip_role(name: &str) -> &str {
    for prefix in ["Req", "Res", "Msg"] {
        if let Some(rest) = name.strip_prefix(prefix) {
            if rest.starts_with(|c: char| c.is_ascii_uppercase()) {
                return rest;
            }
        }
    }
    name
}

/// UpperCamelCase of a JSON key, for the name of an inline type (`dailyReward` ->
/// `DailyReward`).
pub(crate) fn camel_part(json: &str) -> String {
    let camel = ascii_words(json).to_upper_camel_case();
    if camel.is_empty() {
        "Field".to_owned()
    } else {
        camel
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(type_name("Leaderboard.Entry"), "LeaderboardEntry");
        assert_eq!(type_name("user_info"), "UserInfo");
        assert_eq!(type_name("Self"), "Self_");
        assert_eq!(type_name("2fa"), "T2fa");
        assert_eq!(type_name("$"), "Type");
        assert_eq!(field_name("expiresIn"), "expires_in");
        assert_eq!(field_name("spring-24"), "spring_24");
        assert_eq!(field_name("type"), "r#type");
        assert_eq!(field_name("self"), "self_");
        assert_eq!(field_name("2fa"), "_2fa");
        assert_eq!(field_name("userID"), "user_id");
        assert_eq!(field_name("😀"), "field");
        assert_eq!(variant_for_str("world"), "World");
        assert_eq!(variant_for_str("spring-24"), "Spring24");
        assert_eq!(variant_for_str(""), "Empty");
        assert_eq!(variant_for_str("2"), "V2");
        assert_eq!(variant_for_str("self"), "Self_");
        assert_eq!(variant_for_num(5.0), "V5");
        assert_eq!(variant_for_num(-1.0), "Neg1");
        assert_eq!(variant_for_num(1.5), "V1_5");
        assert_eq!(serde_camel("expires_in"), "expiresIn");
        assert_eq!(serde_camel("r#type"), "type");
        assert_eq!(serde_camel("_2fa"), "2fa");
        assert_eq!(serde_camel_variant("World"), "world");
        assert_eq!(strip_role("ReqLogin"), "Login");
        assert_eq!(strip_role("Result"), "Result");
        assert_eq!(strip_role("Message"), "Message");
        assert_eq!(module_name("RoomTypes", "types"), "room_types");
        assert_eq!(module_name("é", "types"), "types");
    }
}
