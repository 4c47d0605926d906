//! JavaScript's `Date`: milliseconds since the Unix epoch, written in JSON as `toISOString`
//! writes it.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::{de, Deserialize, Deserializer, Serialize, Serializer};

/// A TypeScript `Date`: milliseconds since 1970-01-01T00:00:00Z, as JavaScript keeps it.
///
/// In JSON it is the text `Date.prototype.toISOString` writes (`2024-03-01T12:34:56.789Z`;
/// years outside 0..=9999 as `+012345-..` / `-000001-..`). Decoding takes that text, the other
/// ISO 8601 forms JavaScript's `Date` parses (`2024-03-01`, `2024-03-01T12:34Z`,
/// `2024-03-01T12:34:56.7891+02:00`; digits past the millisecond are cut, a time without an
/// offset is read as UTC), or a number of milliseconds, as TSRPC's JSON decoder does.
/// JavaScript's range is ±8.64e15 ms (±100 000 000 days); a date outside it cannot be sent.
///
/// ```
/// use rpc_runtime::types::Date;
/// let d = Date::from_millis(1_709_296_496_789);
/// assert_eq!(d.to_iso_string().as_deref(), Some("2024-03-01T12:34:56.789Z"));
/// assert_eq!("2024-03-01T12:34:56.789Z".parse::<Date>()?, d);
/// assert_eq!(serde_json::to_string(&d)?, r#""2024-03-01T12:34:56.789Z""#);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Date {
    ms: i64,
}

/// The largest distance from the epoch JavaScript allows, in milliseconds.
const MAX_MS: i64 = 8_640_000_000_000_000;
const MS_PER_DAY: i64 = 86_400_000;

impl Date {
    /// The date `ms` milliseconds after the epoch (before it when negative).
    pub const fn from_millis(ms: i64) -> Self {
        Date { ms }
    }

    /// Milliseconds since the epoch.
    pub const fn millis(&self) -> i64 {
        self.ms
    }

    /// The current time (to the millisecond).
    pub fn now() -> Self {
        Date::from(SystemTime::now())
    }

    /// Whether JavaScript can hold it (within ±8.64e15 ms of the epoch).
    pub const fn is_valid(&self) -> bool {
        -MAX_MS <= self.ms && self.ms <= MAX_MS
    }

    /// The text `toISOString` writes; `None` outside JavaScript's range (where
    /// `toISOString` throws).
    pub fn to_iso_string(&self) -> Option<String> {
        if !self.is_valid() {
            return None;
        }
        let days = self.ms.div_euclid(MS_PER_DAY);
        let in_day = self.ms.rem_euclid(MS_PER_DAY);
        let (y, m, d) = civil_from_days(days);
        let (h, min, s, ms) = (
            in_day / 3_600_000,
            in_day / 60_000 % 60,
            in_day / 1000 % 60,
            in_day % 1000,
        );
        let year = if (0..=9999).contains(&y) {
            format!("{y:04}")
        } else if y < 0 {
            format!("-{:06}", -y)
        } else {
            format!("+{y:06}")
        };
        Some(format!(
            "{year}-{m:02}-{d:02}T{h:02}:{min:02}:{s:02}.{ms:03}Z"
        ))
    }
}

impl From<SystemTime> for Date {
    fn from(t: SystemTime) -> Self {
        let ms = match t.duration_since(UNIX_EPOCH) {
            Ok(after) => i64::try_from(after.as_millis()).unwrap_or(i64::MAX),
            // Before the epoch: round toward the past, as JavaScript's integer ms do.
            Err(e) => {
                let before = e.duration();
                let ms = i64::try_from(before.as_millis()).unwrap_or(i64::MAX);
                if before.subsec_nanos() % 1_000_000 != 0 {
                    -ms - 1
                } else {
                    -ms
                }
            }
        };
        Date { ms }
    }
}

impl From<Date> for SystemTime {
    fn from(d: Date) -> Self {
        let abs = Duration::from_millis(d.ms.unsigned_abs());
        if d.ms >= 0 {
            UNIX_EPOCH + abs
        } else {
            UNIX_EPOCH - abs
        }
    }
}

/// Why a text is not a date.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a date: expected an ISO 8601 date such as `2024-03-01T12:34:56.789Z`")]
pub struct DateError(String);

/// Days since 1970-01-01 -> (year, month, day) in the proleptic Gregorian calendar
/// (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// (year, month, day) -> days since 1970-01-01 (Hinnant's `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if y % 4 == 0 && (y % 100 != 0 || y % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// A cursor over the ASCII text of a date.
struct Scan<'a> {
    s: &'a [u8],
    at: usize,
}

impl Scan<'_> {
    fn digits(&mut self, n: usize) -> Option<i64> {
        let part = self.s.get(self.at..self.at + n)?;
        if !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        self.at += n;
        Some(part.iter().fold(0, |acc, b| acc * 10 + i64::from(b - b'0')))
    }

    fn eat(&mut self, b: u8) -> bool {
        if self.s.get(self.at) == Some(&b) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn done(&self) -> bool {
        self.at == self.s.len()
    }
}

fn parse_iso(text: &str) -> Option<i64> {
    let mut p = Scan {
        s: text.as_bytes(),
        at: 0,
    };
    let year = if p.eat(b'+') {
        p.digits(6)?
    } else if p.eat(b'-') {
        match p.digits(6)? {
            0 => return None, // `-000000` is not a year JavaScript reads
            y => -y,
        }
    } else {
        p.digits(4)?
    };
    let (mut month, mut day) = (1, 1);
    if p.eat(b'-') {
        month = p.digits(2)?;
        if p.eat(b'-') {
            day = p.digits(2)?;
        }
    }
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let mut ms_in_day = 0;
    let mut offset_min = 0;
    if p.eat(b'T') {
        let h = p.digits(2)?;
        if !p.eat(b':') {
            return None;
        }
        let min = p.digits(2)?;
        let (mut s, mut ms) = (0, 0);
        if p.eat(b':') {
            s = p.digits(2)?;
            if p.eat(b'.') {
                let start = p.at;
                while p.s.get(p.at).is_some_and(u8::is_ascii_digit) {
                    p.at += 1;
                }
                let frac = &p.s[start..p.at];
                if frac.is_empty() {
                    return None;
                }
                ms = frac
                    .iter()
                    .chain(b"00")
                    .take(3)
                    .fold(0, |acc, b| acc * 10 + i64::from(b - b'0'));
            }
        }
        let midnight_24 = h == 24 && min == 0 && s == 0 && ms == 0;
        if !(h < 24 || midnight_24) || min > 59 || s > 59 {
            return None;
        }
        ms_in_day = ((h * 60 + min) * 60 + s) * 1000 + ms;
        if !p.eat(b'Z') && p.s.get(p.at).is_some_and(|b| *b == b'+' || *b == b'-') {
            let sign = if p.eat(b'+') {
                1
            } else {
                p.eat(b'-');
                -1
            };
            let oh = p.digits(2)?;
            if !p.eat(b':') {
                return None;
            }
            let om = p.digits(2)?;
            if oh > 23 || om > 59 {
                return None;
            }
            offset_min = sign * (oh * 60 + om);
        }
    }
    if !p.done() {
        return None;
    }
    let ms = days_from_civil(year, month, day) * MS_PER_DAY + ms_in_day - offset_min * 60_000;
    (-MAX_MS..=MAX_MS).contains(&ms).then_some(ms)
}

impl FromStr for Date {
    type Err = DateError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_iso(s)
            .map(Date::from_millis)
            .ok_or_else(|| DateError(s.chars().take(40).collect()))
    }
}

impl fmt::Display for Date {
    /// `toISOString`'s text, or `Invalid Date` outside JavaScript's range.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.to_iso_string() {
            Some(s) => f.write_str(&s),
            None => f.write_str("Invalid Date"),
        }
    }
}

impl Serialize for Date {
    /// `toISOString`'s text in JSON; the milliseconds for a binary format (TSBuffer's
    /// serializer, which is not human-readable, writes them as a varint).
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.to_iso_string() {
            Some(_) if !s.is_human_readable() => s.serialize_i64(self.ms),
            Some(text) => s.serialize_str(&text),
            None => Err(serde::ser::Error::custom(format!(
                "date {} ms from the epoch is outside JavaScript's range (±8.64e15 ms)",
                self.ms
            ))),
        }
    }
}

struct DateVisitor;

impl de::Visitor<'_> for DateVisitor {
    type Value = Date;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an ISO 8601 date or a number of milliseconds")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Date, E> {
        v.parse().map_err(E::custom)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Date, E> {
        let d = Date::from_millis(v);
        if d.is_valid() {
            Ok(d)
        } else {
            Err(E::custom(format!(
                "{v} ms is outside JavaScript's date range"
            )))
        }
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Date, E> {
        self.visit_i64(i64::try_from(v).unwrap_or(i64::MAX))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Date, E> {
        // `new Date(1.9)` is 1 ms: JavaScript truncates toward zero.
        if v.is_finite() && v.abs() <= MAX_MS as f64 {
            Ok(Date::from_millis(v.trunc() as i64))
        } else {
            Err(E::custom(format!(
                "{v} ms is outside JavaScript's date range"
            )))
        }
    }
}

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(DateVisitor)
    }
}

impl JsonSchema for Date {
    fn schema_name() -> Cow<'static, str> {
        "Date".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "string", "format": "date-time" })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_strings_as_javascript_writes_them() {
        for (ms, iso) in [
            (0, "1970-01-01T00:00:00.000Z"),
            (1_709_296_496_789, "2024-03-01T12:34:56.789Z"),
            (1_767_225_599_999, "2025-12-31T23:59:59.999Z"),
            (-1, "1969-12-31T23:59:59.999Z"),
            (951_782_400_000, "2000-02-29T00:00:00.000Z"),
            (-62_167_219_200_000, "0000-01-01T00:00:00.000Z"),
            (-62_167_219_200_001, "-000001-12-31T23:59:59.999Z"),
            (253_402_300_800_000, "+010000-01-01T00:00:00.000Z"),
            (8_640_000_000_000_000, "+275760-09-13T00:00:00.000Z"),
            (-8_640_000_000_000_000, "-271821-04-20T00:00:00.000Z"),
        ] {
            let d = Date::from_millis(ms);
            assert_eq!(d.to_iso_string().as_deref(), Some(iso), "{ms}");
            assert_eq!(iso.parse::<Date>(), Ok(d), "{iso}");
        }
        assert_eq!(Date::from_millis(MAX_MS + 1).to_iso_string(), None);
        assert!(serde_json::to_string(&Date::from_millis(MAX_MS + 1)).is_err());
    }

    #[test]
    fn other_forms_javascript_reads() {
        for (text, iso) in [
            ("2024-03-01", "2024-03-01T00:00:00.000Z"),
            ("2024-03", "2024-03-01T00:00:00.000Z"),
            ("2024", "2024-01-01T00:00:00.000Z"),
            ("2024-03-01T12:34Z", "2024-03-01T12:34:00.000Z"),
            ("2024-03-01T12:34:56Z", "2024-03-01T12:34:56.000Z"),
            ("2024-03-01T12:34:56.7Z", "2024-03-01T12:34:56.700Z"),
            ("2024-03-01T12:34:56.789123Z", "2024-03-01T12:34:56.789Z"),
            ("2024-03-01T12:34:56.789+02:00", "2024-03-01T10:34:56.789Z"),
            ("2024-03-01T00:30:00.000-01:30", "2024-03-01T02:00:00.000Z"),
            ("2024-03-01T24:00:00Z", "2024-03-02T00:00:00.000Z"),
            ("2024-03-01T12:34:56", "2024-03-01T12:34:56.000Z"),
        ] {
            let d: Date = text.parse().unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(d.to_string(), iso, "{text}");
        }
    }

    #[test]
    fn refuses_impossible_dates() {
        for text in [
            "",
            "2024-13-01",
            "2023-02-29",
            "2024-02-30",
            "2024-03-01T25:00Z",
            "2024-03-01T24:00:01Z",
            "2024-03-01T12:60Z",
            "2024-03-01T12:34:56.Z",
            "2024-03-01T12Z",
            "2024-03-01 12:34:56Z",
            "-000000-01-01",
            "+275760-09-13T00:00:00.001Z",
            "2024-03-01T12:34:56.789Zjunk",
            "yesterday",
        ] {
            assert!(text.parse::<Date>().is_err(), "{text}");
        }
        let err = "yesterday".parse::<Date>().unwrap_err().to_string();
        assert!(err.starts_with("`yesterday` is not a date"), "{err}");
    }

    #[test]
    fn json_both_ways_and_numbers() {
        let d: Date = serde_json::from_str("\"2024-03-01T12:34:56.789Z\"").unwrap();
        assert_eq!(d.millis(), 1_709_296_496_789);
        assert_eq!(serde_json::from_str::<Date>("1709296496789").unwrap(), d);
        assert_eq!(serde_json::from_str::<Date>("-1.9").unwrap().millis(), -1);
        assert!(serde_json::from_str::<Date>("1e300").is_err());
        assert!(serde_json::from_str::<Date>("true").is_err());
        assert_eq!(
            serde_json::to_string(&d).unwrap(),
            "\"2024-03-01T12:34:56.789Z\""
        );
    }

    #[test]
    fn system_time_both_ways() {
        let t = UNIX_EPOCH + Duration::from_millis(1_709_296_496_789);
        assert_eq!(Date::from(t).millis(), 1_709_296_496_789);
        assert_eq!(
            SystemTime::from(Date::from_millis(-5)),
            UNIX_EPOCH - Duration::from_millis(5)
        );
        let before = UNIX_EPOCH - Duration::from_micros(1500);
        assert_eq!(Date::from(before).millis(), -2);
        assert!(Date::now().millis() > 1_700_000_000_000);
    }

    #[test]
    fn every_day_of_four_centuries_round_trips() {
        for days in -146_097..146_097 {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
            assert!(d >= 1 && d <= days_in_month(y, m));
        }
    }
}
