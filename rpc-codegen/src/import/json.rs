//! The JSON of a service proto, read and written the way JavaScript does.
//!
//! A proto must come back out byte for byte as `tsrpc-cli` wrote it (`JSON.stringify(proto,
//! null, 4)`), so object keys keep their order (serde_json's `Value` sorts them unless its
//! `preserve_order` feature is on, which would change the runtime too) and numbers are printed
//! as JavaScript prints them (`1`, not `1.0`). The reader also remembers where every value
//! starts, so a mistake in a proto is reported at its `file:line:column`. Nothing here panics
//! on bad input; nesting deeper than [`MAX_DEPTH`] is refused.

use std::fmt::{self, Write as _};

/// How deep arrays and objects may nest before the reader gives up (a proto nests about 10).
pub const MAX_DEPTH: usize = 256;

/// A JSON value with its object keys in their original order.
#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    /// `null`.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// A number (JavaScript has only doubles).
    Number(f64),
    /// A string.
    String(String),
    /// An array.
    Array(Vec<Json>),
    /// An object, keys in order.
    Object(Vec<(String, Json)>),
}

/// A place in a text: 1-based line and column (in characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pos {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, counted in characters.
    pub column: usize,
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// A parsed value that remembers where it starts (what the proto reader walks).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    /// Where the value starts.
    pub(crate) pos: Pos,
    /// The value.
    pub(crate) kind: NodeKind,
}

/// The value of a [`Node`].
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum NodeKind {
    Null,
    Bool(bool),
    Number(f64),
    String(String),
    Array(Vec<Node>),
    /// Keys in order, each with the position of the key.
    Object(Vec<(String, Pos, Node)>),
}

impl Node {
    /// The value without positions.
    pub(crate) fn to_json(&self) -> Json {
        match &self.kind {
            NodeKind::Null => Json::Null,
            NodeKind::Bool(b) => Json::Bool(*b),
            NodeKind::Number(n) => Json::Number(*n),
            NodeKind::String(s) => Json::String(s.clone()),
            NodeKind::Array(items) => Json::Array(items.iter().map(Node::to_json).collect()),
            NodeKind::Object(entries) => Json::Object(
                entries
                    .iter()
                    .map(|(k, _, v)| (k.clone(), v.to_json()))
                    .collect(),
            ),
        }
    }

    /// What the value is, for messages: `a string`, `an object`, ...
    pub(crate) fn describe(&self) -> &'static str {
        match self.kind {
            NodeKind::Null => "null",
            NodeKind::Bool(_) => "a boolean",
            NodeKind::Number(_) => "a number",
            NodeKind::String(_) => "a string",
            NodeKind::Array(_) => "an array",
            NodeKind::Object(_) => "an object",
        }
    }
}

/// A syntax error: what was wrong and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// Where.
    pub pos: Pos,
    /// What.
    pub message: String,
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.pos, self.message)
    }
}

/// Parses one JSON value that starts at byte `start` of `text` (after optional white space).
/// Returns the value and the byte offset just past it. Positions count from the start of
/// `text`, so a value embedded in a TypeScript file gets the file's lines and columns.
pub(crate) fn parse_value_at(text: &str, start: usize) -> Result<(Node, usize), SyntaxError> {
    let mut p = Parser {
        text,
        bytes: text.as_bytes(),
        at: start,
        line: 1 + text[..start].matches('\n').count(),
        line_start: text[..start].rfind('\n').map_or(0, |i| i + 1),
    };
    p.skip_ws();
    let node = p.value(0)?;
    Ok((node, p.at))
}

/// Parses a whole text as one JSON value (white space around it allowed).
pub(crate) fn parse(text: &str) -> Result<Node, SyntaxError> {
    let (node, end) = parse_value_at(text, 0)?;
    let mut p = Parser {
        text,
        bytes: text.as_bytes(),
        at: end,
        line: 1 + text[..end].matches('\n').count(),
        line_start: text[..end].rfind('\n').map_or(0, |i| i + 1),
    };
    p.skip_ws();
    if p.at < text.len() {
        return Err(p.error("unexpected text after the JSON value"));
    }
    Ok(node)
}

/// Position of byte offset `at` in `text`.
pub(crate) fn pos_of(text: &str, at: usize) -> Pos {
    let at = at.min(text.len());
    let before = &text[..at];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    Pos {
        line: 1 + before.matches('\n').count(),
        column: 1 + before[line_start..].chars().count(),
    }
}

struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    at: usize,
    line: usize,
    line_start: usize,
}

impl Parser<'_> {
    fn pos(&self) -> Pos {
        Pos {
            line: self.line,
            column: 1 + self.text[self.line_start..self.at].chars().count(),
        }
    }

    fn error(&self, message: impl Into<String>) -> SyntaxError {
        SyntaxError {
            pos: self.pos(),
            message: message.into(),
        }
    }

    fn skip_ws(&mut self) {
        while let Some(&b) = self.bytes.get(self.at) {
            match b {
                b' ' | b'\t' | b'\r' => self.at += 1,
                b'\n' => {
                    self.at += 1;
                    self.line += 1;
                    self.line_start = self.at;
                }
                _ => break,
            }
        }
    }

    fn value(&mut self, depth: usize) -> Result<Node, SyntaxError> {
        if depth > MAX_DEPTH {
            return Err(self.error(format!("nested more than {MAX_DEPTH} levels deep")));
        }
        let pos = self.pos();
        let kind = match self.bytes.get(self.at) {
            None => return Err(self.error("unexpected end of the text, expected a value")),
            Some(b'{') => self.object(depth)?,
            Some(b'[') => self.array(depth)?,
            Some(b'"') => NodeKind::String(self.string()?),
            Some(b't') => self.word("true", NodeKind::Bool(true))?,
            Some(b'f') => self.word("false", NodeKind::Bool(false))?,
            Some(b'n') => self.word("null", NodeKind::Null)?,
            Some(b'-' | b'0'..=b'9') => NodeKind::Number(self.number()?),
            Some(_) => {
                let c = self.text[self.at..].chars().next().unwrap_or('?');
                return Err(self.error(format!("unexpected `{c}`, expected a value")));
            }
        };
        Ok(Node { pos, kind })
    }

    fn word(&mut self, word: &str, kind: NodeKind) -> Result<NodeKind, SyntaxError> {
        if self.text[self.at..].starts_with(word) {
            self.at += word.len();
            Ok(kind)
        } else {
            Err(self.error(format!("expected `{word}`")))
        }
    }

    fn object(&mut self, depth: usize) -> Result<NodeKind, SyntaxError> {
        self.at += 1;
        let mut entries: Vec<(String, Pos, Node)> = Vec::new();
        self.skip_ws();
        if self.bytes.get(self.at) == Some(&b'}') {
            self.at += 1;
            return Ok(NodeKind::Object(entries));
        }
        loop {
            self.skip_ws();
            if self.bytes.get(self.at) != Some(&b'"') {
                return Err(self.error("expected a key in double quotes"));
            }
            let key_pos = self.pos();
            let key = self.string()?;
            self.skip_ws();
            if self.bytes.get(self.at) != Some(&b':') {
                return Err(self.error("expected `:` after the key"));
            }
            self.at += 1;
            self.skip_ws();
            let value = self.value(depth + 1)?;
            // JSON.parse keeps the last value of a repeated key, at the first one's place.
            match entries.iter_mut().find(|(k, _, _)| *k == key) {
                Some(entry) => entry.2 = value,
                None => entries.push((key, key_pos, value)),
            }
            self.skip_ws();
            match self.bytes.get(self.at) {
                Some(b',') => self.at += 1,
                Some(b'}') => {
                    self.at += 1;
                    return Ok(NodeKind::Object(entries));
                }
                _ => return Err(self.error("expected `,` or `}`")),
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<NodeKind, SyntaxError> {
        self.at += 1;
        let mut items = Vec::new();
        self.skip_ws();
        if self.bytes.get(self.at) == Some(&b']') {
            self.at += 1;
            return Ok(NodeKind::Array(items));
        }
        loop {
            self.skip_ws();
            items.push(self.value(depth + 1)?);
            self.skip_ws();
            match self.bytes.get(self.at) {
                Some(b',') => self.at += 1,
                Some(b']') => {
                    self.at += 1;
                    return Ok(NodeKind::Array(items));
                }
                _ => return Err(self.error("expected `,` or `]`")),
            }
        }
    }

    fn number(&mut self) -> Result<f64, SyntaxError> {
        let start = self.at;
        let digits = |p: &mut Self| {
            let from = p.at;
            while p.bytes.get(p.at).is_some_and(u8::is_ascii_digit) {
                p.at += 1;
            }
            p.at > from
        };
        if self.bytes.get(self.at) == Some(&b'-') {
            self.at += 1;
        }
        let int_start = self.at;
        if !digits(self) {
            return Err(self.error("expected a digit"));
        }
        if self.bytes[int_start] == b'0' && self.at - int_start > 1 {
            return Err(self.error("a number may not start with `0`"));
        }
        if self.bytes.get(self.at) == Some(&b'.') {
            self.at += 1;
            if !digits(self) {
                return Err(self.error("expected a digit after `.`"));
            }
        }
        if matches!(self.bytes.get(self.at), Some(b'e' | b'E')) {
            self.at += 1;
            if matches!(self.bytes.get(self.at), Some(b'+' | b'-')) {
                self.at += 1;
            }
            if !digits(self) {
                return Err(self.error("expected a digit in the exponent"));
            }
        }
        self.text[start..self.at]
            .parse::<f64>()
            .map_err(|e| self.error(format!("bad number: {e}")))
    }

    fn string(&mut self) -> Result<String, SyntaxError> {
        self.at += 1;
        let mut out = String::new();
        loop {
            let rest = &self.text[self.at..];
            let Some(c) = rest.chars().next() else {
                return Err(self.error("unterminated string"));
            };
            match c {
                '"' => {
                    self.at += 1;
                    return Ok(out);
                }
                '\\' => {
                    self.at += 1;
                    let esc = self.bytes.get(self.at).copied();
                    self.at += 1;
                    match esc {
                        Some(b'"') => out.push('"'),
                        Some(b'\\') => out.push('\\'),
                        Some(b'/') => out.push('/'),
                        Some(b'b') => out.push('\u{8}'),
                        Some(b'f') => out.push('\u{c}'),
                        Some(b'n') => out.push('\n'),
                        Some(b'r') => out.push('\r'),
                        Some(b't') => out.push('\t'),
                        Some(b'u') => out.push(self.unicode_escape()?),
                        _ => return Err(self.error("bad escape in a string")),
                    }
                }
                c if (c as u32) < 0x20 => {
                    return Err(self.error("control character in a string (write it escaped)"))
                }
                c => {
                    out.push(c);
                    self.at += c.len_utf8();
                }
            }
        }
    }

    fn hex4(&mut self) -> Result<u32, SyntaxError> {
        let digits = self
            .text
            .get(self.at..self.at + 4)
            .filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))
            .ok_or_else(|| self.error("expected four hex digits after `\\u`"))?;
        self.at += 4;
        u32::from_str_radix(digits, 16).map_err(|e| self.error(e.to_string()))
    }

    /// After `\u`: one code unit, or a surrogate pair written as two escapes.
    fn unicode_escape(&mut self) -> Result<char, SyntaxError> {
        let first = self.hex4()?;
        let code = if (0xD800..0xDC00).contains(&first) {
            if !self.text[self.at..].starts_with("\\u") {
                return Err(self.error("a lone surrogate in a string cannot be read"));
            }
            self.at += 2;
            let second = self.hex4()?;
            if !(0xDC00..0xE000).contains(&second) {
                return Err(self.error("a lone surrogate in a string cannot be read"));
            }
            0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
        } else {
            first
        };
        char::from_u32(code)
            .ok_or_else(|| self.error("a lone surrogate in a string cannot be read"))
    }
}

/// How [`Json::write`] lays a value out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// `JSON.stringify(value)`: no white space.
    Compact,
    /// `JSON.stringify(value, null, n)`: one item per line, `n` spaces per level.
    Indent(usize),
}

impl Json {
    /// The value as `JSON.stringify` writes it with this layout.
    pub fn to_text(&self, layout: Layout) -> String {
        let mut out = String::new();
        self.write(&mut out, layout, 0);
        out
    }

    /// Appends the value to `out`; `level` is the nesting level of the value (for
    /// [`Layout::Indent`]).
    pub fn write(&self, out: &mut String, layout: Layout, level: usize) {
        match self {
            Json::Null => out.push_str("null"),
            Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Json::Number(n) => write_number(out, *n),
            Json::String(s) => write_string(out, s),
            Json::Array(items) => {
                write_list(out, layout, level, '[', ']', items, |out, item, level| {
                    item.write(out, layout, level)
                })
            }
            Json::Object(entries) => write_list(
                out,
                layout,
                level,
                '{',
                '}',
                entries,
                |out, (k, v), level| {
                    write_string(out, k);
                    out.push_str(if layout == Layout::Compact { ":" } else { ": " });
                    v.write(out, layout, level);
                },
            ),
        }
    }
}

/// Writes `[..]` or `{..}` as JSON.stringify does (`[]` and `{}` when empty).
pub(crate) fn write_list<T>(
    out: &mut String,
    layout: Layout,
    level: usize,
    open: char,
    close: char,
    items: &[T],
    mut write_item: impl FnMut(&mut String, &T, usize),
) {
    out.push(open);
    if items.is_empty() {
        out.push(close);
        return;
    }
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        if let Layout::Indent(n) = layout {
            out.push('\n');
            push_indent(out, n * (level + 1));
        }
        write_item(out, item, level + 1);
    }
    if let Layout::Indent(n) = layout {
        out.push('\n');
        push_indent(out, n * level);
    }
    out.push(close);
}

fn push_indent(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n(' ', n));
}

/// A string as JSON.stringify writes it: `"`, `\` and control characters escaped (`\n`, or
/// `\u001f` in lower-case hex), everything else as is.
pub fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// A number as JavaScript's `String(x)` writes it (ECMAScript Number::toString): `3`, `0.5`,
/// `-2`, `1e+21`, `1.5e-7`; `null` for NaN and the infinities, as JSON.stringify writes them.
pub fn write_number(out: &mut String, x: f64) {
    if !x.is_finite() {
        out.push_str("null");
        return;
    }
    if x == 0.0 {
        out.push('0');
        return;
    }
    if x < 0.0 {
        out.push('-');
    }
    // Rust's `{:e}` gives the shortest digits that read back as the same double, as
    // JavaScript's algorithm does: `d.ddde±x`.
    let sci = format!("{:e}", x.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let k = digits.len() as i64;
    // The value is 0.digits × 10^n.
    let n = exp.parse::<i64>().unwrap_or(0) + 1;
    if k <= n && n <= 21 {
        out.push_str(&digits);
        push_zeros(out, (n - k) as usize);
    } else if 0 < n && n <= 21 {
        out.push_str(&digits[..n as usize]);
        out.push('.');
        out.push_str(&digits[n as usize..]);
    } else if -6 < n && n <= 0 {
        out.push_str("0.");
        push_zeros(out, (-n) as usize);
        out.push_str(&digits);
    } else {
        out.push_str(&digits[..1]);
        if k > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        let e = n - 1;
        let _ = write!(out, "e{}{}", if e < 0 { '-' } else { '+' }, e.abs());
    }
}

fn push_zeros(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n('0', n));
}
