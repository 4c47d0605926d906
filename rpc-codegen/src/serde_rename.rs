//! serde's `rename_all` rules (serde_derive's `RenameRule`), applied as serde applies them:
//! the export reads a type's JSON names through them, the import uses them to know when a
//! field or variant needs its own `rename`.

/// serde's `RenameRule::apply_to_variant`.
pub(crate) fn rename_variant(rule: &str, v: &str) -> Option<String> {
    let snake = || {
        let mut s = String::new();
        for (i, ch) in v.char_indices() {
            if i > 0 && ch.is_uppercase() {
                s.push('_');
            }
            s.push(ch.to_ascii_lowercase());
        }
        s
    };
    Some(match rule {
        "PascalCase" => v.to_owned(),
        "lowercase" => v.to_ascii_lowercase(),
        "UPPERCASE" => v.to_ascii_uppercase(),
        "camelCase" => {
            let mut c = v.chars();
            match c.next() {
                Some(f) => f.to_ascii_lowercase().to_string() + c.as_str(),
                None => String::new(),
            }
        }
        "snake_case" => snake(),
        "SCREAMING_SNAKE_CASE" => snake().to_ascii_uppercase(),
        "kebab-case" => snake().replace('_', "-"),
        "SCREAMING-KEBAB-CASE" => snake().to_ascii_uppercase().replace('_', "-"),
        _ => return None,
    })
}

/// serde's `RenameRule::apply_to_field`.
pub(crate) fn rename_field(rule: &str, f: &str) -> Option<String> {
    let pascal = || {
        let mut s = String::new();
        let mut up = true;
        for ch in f.chars() {
            if ch == '_' {
                up = true;
            } else if up {
                s.push(ch.to_ascii_uppercase());
                up = false;
            } else {
                s.push(ch);
            }
        }
        s
    };
    Some(match rule {
        "lowercase" | "snake_case" => f.to_owned(),
        "UPPERCASE" | "SCREAMING_SNAKE_CASE" => f.to_ascii_uppercase(),
        "PascalCase" => pascal(),
        "camelCase" => {
            let p = pascal();
            let mut c = p.chars();
            match c.next() {
                Some(first) => first.to_ascii_lowercase().to_string() + c.as_str(),
                None => String::new(),
            }
        }
        "kebab-case" => f.replace('_', "-"),
        "SCREAMING-KEBAB-CASE" => f.to_ascii_uppercase().replace('_', "-"),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// serde's own examples (serde_derive `case.rs`).
    #[test]
    fn rename_rules_as_serde() {
        let fields = [
            ("lowercase", "very_tasty"),
            ("UPPERCASE", "VERY_TASTY"),
            ("PascalCase", "VeryTasty"),
            ("camelCase", "veryTasty"),
            ("snake_case", "very_tasty"),
            ("SCREAMING_SNAKE_CASE", "VERY_TASTY"),
            ("kebab-case", "very-tasty"),
            ("SCREAMING-KEBAB-CASE", "VERY-TASTY"),
        ];
        for (rule, want) in fields {
            assert_eq!(
                rename_field(rule, "very_tasty").as_deref(),
                Some(want),
                "{rule}"
            );
        }
        let variants = [
            ("lowercase", "verytasty"),
            ("UPPERCASE", "VERYTASTY"),
            ("PascalCase", "VeryTasty"),
            ("camelCase", "veryTasty"),
            ("snake_case", "very_tasty"),
            ("SCREAMING_SNAKE_CASE", "VERY_TASTY"),
            ("kebab-case", "very-tasty"),
            ("SCREAMING-KEBAB-CASE", "VERY-TASTY"),
        ];
        for (rule, want) in variants {
            assert_eq!(
                rename_variant(rule, "VeryTasty").as_deref(),
                Some(want),
                "{rule}"
            );
        }
        assert_eq!(rename_field("camelCase", "a").as_deref(), Some("a"));
        assert_eq!(rename_field("Title Case", "a"), None);
    }
}
