//! `ConfigItem`: one AWS Config configuration item, normalised from any of the shapes Config
//! produces (delivery files, API responses, SelectResourceConfig projections, events).

use bumpalo::Bump;

use crate::value::{List, Map, Value, decode_embedded, path, text_in};

/// Resource types the engine knows by name. Config sometimes upper-cases them
/// (`AWS::EC2::VOLUME` in 2014-era notifications), so matching is case-insensitive.
pub const KNOWN_TYPES: [&str; 9] = [
    "AWS::S3::Bucket",
    "AWS::S3::AccountPublicAccessBlock",
    "AWS::EC2::Instance",
    "AWS::EC2::Volume",
    "AWS::EC2::SecurityGroup",
    "AWS::IAM::Policy",
    "AWS::IAM::Role",
    "AWS::IAM::User",
    "AWS::IAM::Group",
];

/// `configurationItemStatus`, reduced to what the engine acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemStatus {
    /// `OK`, `ResourceDiscovered`, or absent: the item describes a live resource.
    Live,
    /// `ResourceDeleted`, `ResourceDeletedNotRecorded` or `ResourceNotRecorded`: not evaluated.
    Gone,
}

/// Orders versions of one resource: capture time, then `configurationStateId`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Version {
    /// Capture time in microseconds since the Unix epoch; `None` sorts first.
    pub captured_us: Option<i64>,
    /// Numeric `configurationStateId` (0 when absent or not numeric).
    pub state_id: u128,
}

/// One normalised configuration item. Its texts borrow from the item's bytes or its arena.
#[derive(Debug, Clone)]
pub struct ConfigItem<'a> {
    /// Canonical resource type, e.g. `AWS::S3::Bucket`.
    pub resource_type: &'a str,
    /// Config's resource id (bucket name, instance id, IAM unique id, ...).
    pub resource_id: &'a str,
    /// `resourceName` when given.
    pub resource_name: Option<&'a str>,
    /// `ARN` / `arn` when given.
    pub arn: Option<&'a str>,
    /// `awsAccountId` / `accountId` ("" when unknown).
    pub account_id: &'a str,
    /// `awsRegion` ("" when unknown).
    pub region: &'a str,
    /// Whether the resource still exists.
    pub status: ItemStatus,
    /// Which version of the resource this is.
    pub version: Version,
    /// Tags: the item-level map when present, else `configuration.tags`.
    pub tags: Tags<'a>,
    /// `configuration`, decoded from its JSON string form when needed.
    pub configuration: Value<'a>,
    /// `supplementaryConfiguration`, every value decoded from its JSON string form.
    pub supplementary: Map<'a>,
    /// Where documents the rules decode (IAM policies) are kept while the item is evaluated.
    pub arena: &'a Bump,
}

impl<'a> ConfigItem<'a> {
    /// Normalises a raw item. `Err` carries a message for items whose identifying fields have
    /// the wrong type; `Ok(None)` means the value is not recognisable as an item.
    /// Decoded parts of the item are kept in `arena`.
    pub fn from_value(raw: Value<'a>, arena: &'a Bump) -> Result<Option<ConfigItem<'a>>, String> {
        let raw = match decode_embedded(raw, arena) {
            Value::Object(map) => Fields::of(map),
            other => return Err(format!("expected a JSON object, found {}", kind(&other))),
        };
        let configuration = decode_embedded(raw.get(Field::Configuration).unwrap_or_default(), arena);
        let supplementary = match decode_embedded(raw.get(Field::Supplementary).unwrap_or_default(), arena) {
            Value::Object(map) => map.map_values(arena, |value| decode_embedded(value, arena)),
            _ => Map::default(),
        };
        let declared_type = raw.text(&[Field::ResourceType], arena)?;
        let Some(resource_type) = declared_type.map(canonical_type).or_else(|| infer_type(&configuration, &supplementary)) else {
            return Ok(None);
        };
        let arn = raw.text(&[Field::Arn, Field::ArnLowercase], arena)?.or_else(|| path(&configuration, &["arn"]).and_then(Value::as_str));
        let resource_id = match raw.text(&[Field::ResourceId], arena)? {
            Some(id) => id,
            None => match infer_id(resource_type, &configuration, arena) {
                Some(id) => id,
                None => return Err(format!("{resource_type} item has no resourceId")),
            },
        };
        let account_id = raw.text(&[Field::AwsAccountId, Field::AccountId], arena)?
            .or_else(|| arn.and_then(|a| a.split(':').nth(4)).filter(|a| !a.is_empty()))
            .or_else(|| path(&configuration, &["ownerId"]).and_then(Value::as_str))
            .unwrap_or_default();
        let region = match raw.text(&[Field::AwsRegion], arena)? {
            Some(region) => region,
            None => region_from_zone(raw.text(&[Field::AvailabilityZone], arena)?).or_else(|| resource_type.starts_with("AWS::IAM::").then_some("global")).unwrap_or_default(),
        };
        let status = match raw.text(&[Field::Status, Field::State], arena)? {
            Some("ResourceDeleted" | "ResourceDeletedNotRecorded" | "ResourceNotRecorded") => ItemStatus::Gone,
            _ => ItemStatus::Live,
        };
        let state_id = match raw.present(&[Field::StateId, Field::StateIdUppercase]) {
            // Config writes it as a number: read as the number's text would be (only a
            // non-negative integer's text is digits), without writing the text.
            Some((_, Value::Number(n))) => n.as_u64().map_or(0, u128::from),
            other => other
                .map(|(field, value)| text_of(field, value, arena))
                .transpose()?
                // As u64 first: a state id is a dozen digits, and parsing into u128 multiplies
                // in 128 bits, a call per digit in the component (wasm has no such multiply).
                .map(str::trim)
                .and_then(|s| s.parse::<u64>().map(u128::from).or_else(|_| s.parse::<u128>()).ok())
                .unwrap_or(0),
        };
        let version = Version { captured_us: raw.get(Field::CaptureTime).and_then(|time| capture_time_us(&time)), state_id };
        let tags = Tags {
            source: match raw.get(Field::Tags) {
                Some(Value::Object(map)) => TagSource::Map(map),
                _ => match path(&configuration, &["tags"]) {
                    Some(Value::Array(entries)) => TagSource::List(entries),
                    _ => TagSource::None,
                },
            },
            arena,
        };
        Ok(Some(ConfigItem {
            resource_type,
            resource_id,
            resource_name: raw.text(&[Field::ResourceName], arena)?,
            arn,
            account_id,
            region,
            status,
            version,
            tags,
            configuration,
            supplementary,
            arena,
        }))
    }
}

/// The members of an item [`ConfigItem::from_value`] reads, found in one walk over the item
/// instead of one lookup each (an item has a dozen of them, and a lookup walks the keys).
/// Like [`Map::get`], a later duplicate replaces an earlier one.
struct Fields<'a>([Option<Value<'a>>; Field::ALL.len()]);

/// A member of an item that [`ConfigItem::from_value`] reads: its place in [`Fields`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    ResourceType,
    Arn,
    ArnLowercase,
    ResourceId,
    AwsAccountId,
    AccountId,
    AwsRegion,
    AvailabilityZone,
    Status,
    State,
    CaptureTime,
    StateId,
    StateIdUppercase,
    Tags,
    ResourceName,
    Configuration,
    Supplementary,
}

impl Field {
    /// Every field, each at its own place (a new field goes here too: `Fields` has a slot for
    /// each of these, and the test of the names checks the order).
    const ALL: [Field; 17] = [
        Field::ResourceType,
        Field::Arn,
        Field::ArnLowercase,
        Field::ResourceId,
        Field::AwsAccountId,
        Field::AccountId,
        Field::AwsRegion,
        Field::AvailabilityZone,
        Field::Status,
        Field::State,
        Field::CaptureTime,
        Field::StateId,
        Field::StateIdUppercase,
        Field::Tags,
        Field::ResourceName,
        Field::Configuration,
        Field::Supplementary,
    ];

    /// The member's name in the item.
    fn name(self) -> &'static str {
        match self {
            Field::ResourceType => "resourceType",
            Field::Arn => "ARN",
            Field::ArnLowercase => "arn",
            Field::ResourceId => "resourceId",
            Field::AwsAccountId => "awsAccountId",
            Field::AccountId => "accountId",
            Field::AwsRegion => "awsRegion",
            Field::AvailabilityZone => "availabilityZone",
            Field::Status => "configurationItemStatus",
            Field::State => "configurationItemState",
            Field::CaptureTime => "configurationItemCaptureTime",
            Field::StateId => "configurationStateId",
            Field::StateIdUppercase => "configurationStateID",
            Field::Tags => "tags",
            Field::ResourceName => "resourceName",
            Field::Configuration => "configuration",
            Field::Supplementary => "supplementaryConfiguration",
        }
    }

    /// The field a member's name is, if any ([`Field::name`] backwards).
    /// Inlined in the component, where a call costs more than half the lookup (natively
    /// inlining it costs more than it saves).
    #[cfg_attr(target_arch = "wasm32", inline(always))]
    fn of_name(name: &str) -> Option<Field> {
        Some(match name {
            "resourceType" => Field::ResourceType,
            "ARN" => Field::Arn,
            "arn" => Field::ArnLowercase,
            "resourceId" => Field::ResourceId,
            "awsAccountId" => Field::AwsAccountId,
            "accountId" => Field::AccountId,
            "awsRegion" => Field::AwsRegion,
            "availabilityZone" => Field::AvailabilityZone,
            "configurationItemStatus" => Field::Status,
            "configurationItemState" => Field::State,
            "configurationItemCaptureTime" => Field::CaptureTime,
            "configurationStateId" => Field::StateId,
            "configurationStateID" => Field::StateIdUppercase,
            "tags" => Field::Tags,
            "resourceName" => Field::ResourceName,
            "configuration" => Field::Configuration,
            "supplementaryConfiguration" => Field::Supplementary,
            _ => return None,
        })
    }
}

impl<'a> Fields<'a> {
    fn of(map: Map<'a>) -> Self {
        let mut fields = Fields([None; Field::ALL.len()]);
        for (key, value) in map.members() {
            if let Some(slot) = Field::of_name(key).and_then(|field| fields.0.get_mut(field as usize)) {
                *slot = Some(value);
            }
        }
        fields
    }

    /// The member `field` (inlined: `from_value` names its fields, so this is one load, where
    /// looking a name up cost a match on texts for each of a dozen reads per item).
    #[inline(always)]
    fn get(&self, field: Field) -> Option<Value<'a>> {
        self.0.get(field as usize).copied().flatten()
    }

    /// The first of `fields` the item gives a non-null value, with that value.
    #[inline(always)]
    fn present(&self, fields: &[Field]) -> Option<(Field, Value<'a>)> {
        fields.iter().find_map(|&field| Some((field, self.get(field).filter(|v| !v.is_null())?)))
    }

    /// The text of the first of `fields` the item gives a non-null value (a number's text too);
    /// an error for any other type. Inlined: an item reads eight of them, and inside the
    /// component the call cost about as much as the lookup.
    #[inline(always)]
    fn text(&self, fields: &[Field], arena: &'a Bump) -> Result<Option<&'a str>, String> {
        self.present(fields).map(|(field, value)| text_of(field, value, arena)).transpose()
    }
}

/// `value`'s text (a number's too), or an error naming `field` for any other type.
#[inline(always)]
fn text_of<'a>(field: Field, value: Value<'a>, arena: &'a Bump) -> Result<&'a str, String> {
    text_in(value, arena).ok_or_else(|| not_text(field, &value))
}

#[cold]
fn not_text(field: Field, value: &Value<'_>) -> String {
    format!("`{}` must be a string, found {}", field.name(), kind(value))
}

/// The JSON type name of a value, for error messages.
pub fn kind(value: &Value<'_>) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The engine's own copy of a resource type's name when it knows the type (shared by every
/// resource of the type instead of one copy each), otherwise `None`.
pub fn known_type(name: &str) -> Option<&'static str> {
    KNOWN_TYPES.iter().find(|known| known.len() == name.len() && **known == name).copied()
}

fn canonical_type(declared: &str) -> &str {
    KNOWN_TYPES.iter().find(|known| known.eq_ignore_ascii_case(declared)).map_or(declared, |known| known)
}

/// SelectResourceConfig projections may omit `resourceType`; recognise our types by shape.
fn infer_type(configuration: &Value<'_>, supplementary: &Map<'_>) -> Option<&'static str> {
    let has = |key: &str| path(configuration, &[key]).is_some();
    let arn_kind = path(configuration, &["arn"])
        .and_then(Value::as_str)
        .filter(|arn| arn.starts_with("arn:aws:iam::"))
        .and_then(|arn| arn.split(':').nth(5))
        .and_then(|rest| rest.split('/').next());
    let inferred = match arn_kind {
        Some("role") => "AWS::IAM::Role",
        Some("user") => "AWS::IAM::User",
        Some("group") => "AWS::IAM::Group",
        Some("policy") => "AWS::IAM::Policy",
        _ if has("instanceId") => "AWS::EC2::Instance",
        _ if has("volumeId") && has("encrypted") => "AWS::EC2::Volume",
        _ if has("groupId") && has("ipPermissions") => "AWS::EC2::SecurityGroup",
        _ if has("name") && has("creationDate") && (supplementary.contains_key("AccessControlList") || supplementary.contains_key("BucketPolicy")) => "AWS::S3::Bucket",
        _ => return None,
    };
    Some(inferred)
}

fn infer_id<'a>(resource_type: &str, configuration: &Value<'a>, arena: &'a Bump) -> Option<&'a str> {
    let key = match resource_type {
        "AWS::IAM::Role" => "roleId",
        "AWS::IAM::User" => "userId",
        "AWS::IAM::Group" => "groupId",
        "AWS::IAM::Policy" => "policyId",
        "AWS::EC2::Instance" => "instanceId",
        "AWS::EC2::Volume" => "volumeId",
        "AWS::EC2::SecurityGroup" => "groupId",
        "AWS::S3::Bucket" => "name",
        _ => return None,
    };
    path(configuration, &[key]).and_then(|id| text_in(id, arena))
}

fn region_from_zone(zone: Option<&str>) -> Option<&str> {
    let zone = zone?;
    let region = zone.trim_end_matches(|c: char| c.is_ascii_lowercase());
    (zone.len() > region.len() && region.ends_with(|c: char| c.is_ascii_digit())).then_some(region)
}

/// An item's tags, looked up where the scan reads them (a criticality tag and the required
/// tags: a few lookups, so nothing is collected or sorted per item): the item-level map when the
/// item has one, else `configuration.tags` as a list of `{key, value}` (also `Key`/`Value`,
/// `tagName`/`tagValue`). A key given twice has its last value; a number stands for its text.
#[derive(Debug, Clone, Copy)]
pub struct Tags<'a> {
    source: TagSource<'a>,
    /// Where a number's text is kept.
    arena: &'a Bump,
}

#[derive(Debug, Clone, Copy)]
enum TagSource<'a> {
    Map(Map<'a>),
    List(List<'a>),
    None,
}

impl<'a> Tags<'a> {
    /// The value of tag `key`; a tag whose value is neither text nor a number is absent.
    pub fn get(&self, key: &str) -> Option<&'a str> {
        match self.source {
            TagSource::Map(map) => text_in(map.get(key)?, self.arena),
            TagSource::List(entries) => entries.iter().filter_map(|entry| self.entry(entry)).filter(|(k, _)| *k == key).last().map(|(_, v)| v),
            TagSource::None => None,
        }
    }

    /// One `{key, value}` entry of a tag list: `None` without a key, `""` without a value.
    fn entry(&self, entry: Value<'a>) -> Option<(&'a str, &'a str)> {
        let pick = |names: [&str; 3]| names.iter().find_map(|n| entry.get(n)).and_then(|v| text_in(v, self.arena));
        Some((pick(["key", "Key", "tagName"])?, pick(["value", "Value", "tagValue"]).unwrap_or_default()))
    }
}

/// Capture time in microseconds: ISO-8601 text, epoch seconds (old CLI output), or the
/// `{"__class__": "datetime", ...}` objects that recorded boto3 responses contain.
pub fn capture_time_us(value: &Value<'_>) -> Option<i64> {
    match value {
        Value::String(s) => parse_iso8601_us(s),
        Value::Number(n) => Some(n.as_f64()).filter(|f| f.is_finite() && f.abs() < 1e12).map(|secs| (secs * 1e6).round() as i64),
        Value::Object(o) => {
            let part = |k: &str| o.get(k).and_then(Value::as_i64);
            let micros = epoch_days(part("year")?, part("month")?, part("day")?)? * 86_400_000_000
                + (part("hour").unwrap_or(0) * 3600 + part("minute").unwrap_or(0) * 60 + part("second").unwrap_or(0)) * 1_000_000
                + part("microsecond").unwrap_or(0);
            Some(micros)
        }
        _ => None,
    }
}

/// `YYYY-MM-DDTHH:MM:SS[.frac][Z|±HH:MM]`; a missing zone means UTC.
pub fn parse_iso8601_us(s: &str) -> Option<i64> {
    canonical_us(s.as_bytes()).or_else(|| any_iso8601_us(s))
}

/// The form AWS Config writes every capture time in, `YYYY-MM-DDTHH:MM:SS[.digits]Z`, read by
/// fixed positions (every item's capture time is read). Anything else, and a time out of
/// range, is `None`, and [`any_iso8601_us`] decides; where this gives a time, that one gives
/// the same.
#[inline]
fn canonical_us(text: &[u8]) -> Option<i64> {
    let (&[y0, y1, y2, y3, b'-', m0, m1, b'-', d0, d1, b'T', h0, h1, b':', i0, i1, b':', s0, s1], rest) = text.split_first_chunk::<19>()? else {
        return None;
    };
    let digit = |byte: u8| byte.is_ascii_digit().then(|| i64::from(byte - b'0'));
    let two = |high: u8, low: u8| Some(digit(high)? * 10 + digit(low)?);
    let year = two(y0, y1)? * 100 + two(y2, y3)?;
    let (month, day, hour, minute, second) = (two(m0, m1)?, two(d0, d1)?, two(h0, h1)?, two(i0, i1)?, two(s0, s1)?);
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let micros = match rest {
        b"Z" => 0,
        [b'.', fraction @ .., b'Z'] if fraction.iter().all(u8::is_ascii_digit) => {
            // The first six digits, as microseconds ("5" is 500000).
            let kept = fraction.get(..fraction.len().min(6)).unwrap_or_default();
            kept.iter().fold(0, |n, &byte| n * 10 + i64::from(byte - b'0')) * 10_i64.pow(6 - kept.len() as u32)
        }
        _ => return None,
    };
    let secs = epoch_days(year, month, day)? * 86_400 + hour * 3600 + minute * 60 + second;
    Some(secs * 1_000_000 + micros)
}

/// [`parse_iso8601_us`] for every form it reads.
fn any_iso8601_us(s: &str) -> Option<i64> {
    let s = s.trim();
    let num = |range: std::ops::Range<usize>| s.get(range)?.parse::<i64>().ok();
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if s.get(4..5)? != "-" || s.get(7..8)? != "-" || !matches!(s.get(10..11)?, "T" | " ") {
        return None;
    }
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let mut rest = s.get(19..)?;
    let mut micros = 0;
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.find(|c: char| !c.is_ascii_digit()).unwrap_or(frac.len());
        // The first six digits, as microseconds ("5" is 500000): padded with zeros, as the
        // `format!("{:0<6}")` this replaces did once per item.
        let kept = frac.get(..digits.min(6))?;
        micros = kept.bytes().fold(0, |n, digit| n * 10 + i64::from(digit - b'0')) * 10_i64.pow(6 - kept.len() as u32);
        rest = frac.get(digits..)?;
    }
    let offset_secs = match rest {
        "" | "Z" | "z" => 0,
        _ => {
            let sign = match rest.get(..1)? {
                "+" => 1,
                "-" => -1,
                _ => return None,
            };
            let hh = rest.get(1..3)?.parse::<i64>().ok()?;
            let mm = rest.get(rest.len().checked_sub(2)?..)?.parse::<i64>().ok()?;
            sign * (hh * 3600 + mm * 60)
        }
    };
    let secs = epoch_days(year, month, day)? * 86_400 + hour * 3600 + minute * 60 + second - offset_secs;
    Some(secs * 1_000_000 + micros)
}

/// Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's algorithm).
pub(crate) fn epoch_days(year: i64, month: i64, day: i64) -> Option<i64> {
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::json;

    /// Where the fixed-position reader of the canonical form gives a time, the general reader
    /// gives the same: on well-formed canonical times (which it must read), out-of-range
    /// fields, fractions of every length, and every one-byte change and cut of them.
    #[test]
    fn the_canonical_reader_agrees_with_the_general_one() {
        let mut next = crate::scan::random_below(0x2545_f491_4f6c_dd1d);
        let (mut read, mut compared) = (0, 0);
        for round in 0..4000 {
            let fraction = match next(4) {
                0 => String::new(),
                1 => ".".to_owned(),
                _ => format!(".{}", (0..next(12)).map(|_| char::from(b'0' + next(10) as u8)).collect::<String>()),
            };
            // Mostly in range; now and then a month, day, hour, minute or second beyond it.
            let field = |next: &mut dyn FnMut(u64) -> u64, range: u64, beyond: u64| if next(20) == 0 { next(beyond) } else { next(range) };
            let text = format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{fraction}Z",
                next(3000),
                1 + field(&mut next, 12, 99),
                1 + field(&mut next, 28, 99),
                field(&mut next, 24, 99),
                field(&mut next, 60, 99),
                field(&mut next, 61, 99)
            );
            if let Some(value) = canonical_us(text.as_bytes()) {
                read += 1;
                assert_eq!(Some(value), any_iso8601_us(&text), "{text}");
            }
            let mut variants = vec![text.clone(), format!(" {text}"), format!("{text} "), text.replace('Z', "+01:00"), text.replace('T', " ")];
            for at in 0..text.len() {
                variants.push(format!("{}{}", text.get(..at).unwrap_or_default(), text.get(at + 1..).unwrap_or_default()));
                let replacement = ["0", "9", "-", ":", "T", " ", "Z", ".", "+", "a"][next(10) as usize];
                variants.push(format!("{}{replacement}{}", text.get(..at).unwrap_or_default(), text.get(at + 1..).unwrap_or_default()));
            }
            for variant in variants {
                if let Some(value) = canonical_us(variant.as_bytes()) {
                    assert_eq!(Some(value), any_iso8601_us(&variant), "{variant} (round {round})");
                    compared += 1;
                }
            }
        }
        assert!(read > 3000 && compared > 10_000, "canonical times read: {read}, variants compared: {compared}");
        assert_eq!(canonical_us(b"2026-11-04T02:26:00.000Z"), parse_iso8601_us("2026-11-04T02:26:00Z"));
    }

    #[test]
    fn capture_times_in_every_form_agree() {
        let iso = parse_iso8601_us("2017-02-04T11:10:33.880Z");
        assert_eq!(iso, parse_iso8601_us("2017-02-04T06:10:33.880000-05:00"));
        assert_eq!(iso, capture_time_us(&json!(1_486_206_633.88)));
        let placebo = json!({"__class__": "datetime", "year": 2017, "month": 2, "day": 4,
            "hour": 11, "minute": 10, "second": 33, "microsecond": 880_000});
        assert_eq!(iso, capture_time_us(&placebo));
        assert_eq!(parse_iso8601_us("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_iso8601_us("not a date"), None);
        // Fractions of any length: the first six digits, padded with zeros, are microseconds.
        for (fraction, micros) in [("", 0), ("5", 500_000), ("05", 50_000), ("123", 123_000), ("000001", 1), ("1234567", 123_456), ("999999999", 999_999)] {
            assert_eq!(parse_iso8601_us(&format!("1970-01-01T00:00:00.{fraction}Z")), Some(micros), "{fraction:?}");
        }
        assert_eq!(parse_iso8601_us("1970-01-01T00:00:01.25+00:30"), Some(1_250_000 - 1_800_000_000));
    }

    /// A member that must be text and is not names itself in the error; a number is read as its
    /// text, and null as absent.
    #[test]
    fn members_that_are_not_text_are_errors_naming_them() {
        let read = |item| ConfigItem::from_value(item, crate::value::test_arena());
        let error = |item| read(item).err();
        assert_eq!(
            error(json!({"resourceType": "AWS::EC2::Volume", "resourceId": {"x": 1}, "awsRegion": "us-east-1"})).as_deref(),
            Some("`resourceId` must be a string, found an object")
        );
        assert_eq!(
            error(json!({"resourceType": "AWS::EC2::Volume", "resourceId": "vol-1", "awsAccountId": true})).as_deref(),
            Some("`awsAccountId` must be a string, found a boolean")
        );
        assert_eq!(
            error(json!({"resourceType": "AWS::EC2::Volume", "resourceId": "vol-1", "configurationStateId": [1]})).as_deref(),
            Some("`configurationStateId` must be a string, found an array")
        );
        // The second spelling is read when the first is null, and named in its error.
        assert_eq!(
            error(json!({"resourceType": "AWS::EC2::Volume", "resourceId": "vol-1", "awsAccountId": null, "accountId": ["1"]})).as_deref(),
            Some("`accountId` must be a string, found an array")
        );
        let item = read(json!({"resourceType": "AWS::EC2::Volume", "resourceId": 42, "awsAccountId": null, "accountId": "1"})).ok().flatten();
        assert_eq!(item.as_ref().map(|i| (i.resource_id, i.account_id)), Some(("42", "1")));
    }

    #[test]
    fn infers_type_of_projected_select_results() {
        let item = json!({"configuration": {"arn": "arn:aws:iam::1:role/r", "roleId": "AROA1"}});
        let item = ConfigItem::from_value(item, crate::value::test_arena()).ok().flatten();
        assert_eq!(item.as_ref().map(|i| i.resource_type), Some("AWS::IAM::Role"));
        assert_eq!(item.as_ref().map(|i| i.resource_id), Some("AROA1"));
        assert_eq!(item.map(|i| i.account_id), Some("1"));
    }

    #[test]
    fn item_level_tag_map_wins_over_configuration_list() {
        let item = json!({"resourceType": "AWS::EC2::INSTANCE", "resourceId": "i-1", "availabilityZone": "us-west-2b",
            "tags": {"A": "map"}, "configuration": {"tags": [{"key": "A", "value": "list"}]}});
        let item = ConfigItem::from_value(item, crate::value::test_arena()).ok().flatten();
        assert_eq!(item.as_ref().map(|i| i.resource_type), Some("AWS::EC2::Instance"));
        assert_eq!(item.as_ref().map(|i| i.region), Some("us-west-2"));
        assert_eq!(item.and_then(|i| i.tags.get("A")), Some("map"));
    }

    #[test]
    fn tags_are_what_a_sorted_map_of_them_said() {
        // The map the engine built of every item's tags before tags were looked up in place:
        // the reference for duplicates, numbers, missing keys and values, and other spellings.
        fn collected<'a>(item: &Value<'a>, arena: &'a Bump) -> std::collections::BTreeMap<&'a str, &'a str> {
            match item.get("tags") {
                Some(Value::Object(map)) => map.iter().filter_map(|(k, v)| Some((k, text_in(v, arena)?))).collect(),
                _ => match path(&item.get("configuration").unwrap_or_default(), &["tags"]) {
                    Some(Value::Array(entries)) => entries
                        .iter()
                        .filter_map(|entry| {
                            let pick = |names: [&str; 3]| names.iter().find_map(|n| entry.get(n)).and_then(|v| text_in(v, arena));
                            Some((pick(["key", "Key", "tagName"])?, pick(["value", "Value", "tagValue"]).unwrap_or_default()))
                        })
                        .collect(),
                    _ => std::collections::BTreeMap::new(),
                },
            }
        }
        let arena = crate::value::test_arena();
        let tag_sets = [
            r#""tags": {"A": "1", "B": 2, "A": "3", "C": null, "D": "x", "D": [1], "E": true}"#,
            r#""tags": "not a map", "configuration": {"tags": [{"key": "A", "value": "1"}, {"Key": "A", "Value": "2"},
                {"tagName": "B", "tagValue": 7}, {"key": "C"}, {"value": "no key"}, {"key": 5, "value": "five"},
                {"key": null, "Key": "D", "value": "d"}, {"key": "E", "value": {"x": 1}}, "not an entry"]}"#,
            r#""configuration": {"tags": {"A": "a map here is not a list"}}"#,
            r#""configuration": {"tags": []}"#,
            r#""configuration": {}"#,
        ];
        let mut seen = 0;
        for tags in tag_sets {
            let text = format!(r#"{{"resourceType": "AWS::EC2::Volume", "resourceId": "vol-1", {tags}}}"#);
            let raw = Value::parse_str(arena.alloc_str(&text), arena).expect("the case is JSON");
            let item = ConfigItem::from_value(raw, arena).expect("the case is an item");
            assert!(item.is_some(), "{tags}");
            let expected = collected(&raw, arena);
            seen += expected.len();
            for key in ["A", "B", "C", "D", "E", "5", "", "missing"] {
                assert_eq!(item.as_ref().and_then(|i| i.tags.get(key)), expected.get(key).copied(), "{tags} / {key}");
            }
        }
        assert_eq!(seen, 7, "the cases give the tags they were written for");
    }

    /// Every field is found by its name, and `ALL` lists each once, in its place.
    #[test]
    fn fields_are_found_by_their_names() {
        for (at, field) in Field::ALL.into_iter().enumerate() {
            assert_eq!(field as usize, at);
            assert_eq!(Field::of_name(field.name()), Some(field));
        }
        assert_eq!(Field::of_name("Configuration"), None);
    }

    #[test]
    fn numeric_state_ids_read_as_their_text_would() {
        let arena = crate::value::test_arena();
        let numbers = ["0", "17", "1700000000000", "18446744073709551615", "18446744073709551616", "-5", "-0", "1.5", "1e20", "100.0", "1E3"];
        for number in numbers {
            let text = format!(r#"{{"resourceType": "AWS::EC2::Volume", "resourceId": "vol-1", "configurationStateId": {number}}}"#);
            let raw = Value::parse_str(arena.alloc_str(&text), arena).expect("the case is JSON");
            let read = ConfigItem::from_value(raw, arena).expect("the case is an item").map(|item| item.version.state_id);
            // What the state id was before numbers were read as numbers: the number's text, parsed.
            let digits = raw.get("configurationStateId").and_then(|n| text_in(n, arena)).map(str::trim);
            let expected = digits.and_then(|s| s.parse::<u64>().map(u128::from).or_else(|_| s.parse::<u128>()).ok()).unwrap_or(0);
            assert_eq!(read, Some(expected), "{number}");
        }
        let read = |json: &str| {
            let raw = Value::parse_str(arena.alloc_str(json), arena).expect("the case is JSON");
            ConfigItem::from_value(raw, arena).map(|item| item.map(|item| item.version.state_id))
        };
        assert_eq!(read(r#"{"resourceType": "AWS::EC2::Volume", "resourceId": "v", "configurationStateId": 12}"#), Ok(Some(12)));
        assert_eq!(read(r#"{"resourceType": "AWS::EC2::Volume", "resourceId": "v", "configurationStateId": null, "configurationStateID": 7}"#), Ok(Some(7)));
        assert_eq!(read(r#"{"resourceType": "AWS::EC2::Volume", "resourceId": "v", "configurationStateId": " 42 "}"#), Ok(Some(42)));
        assert!(read(r#"{"resourceType": "AWS::EC2::Volume", "resourceId": "v", "configurationStateId": true}"#).is_err());
    }

    #[test]
    fn numbers_stand_for_their_text() {
        let item = json!({"resourceType": "AWS::IAM::User", "resourceId": 123_456, "awsAccountId": 111_122_223_333_u64,
            "configurationStateId": 17, "tags": {"Criticality": 5}});
        let item = ConfigItem::from_value(item, crate::value::test_arena()).ok().flatten();
        assert_eq!(item.as_ref().map(|i| (i.resource_id, i.account_id, i.region)), Some(("123456", "111122223333", "global")));
        assert_eq!(item.as_ref().map(|i| i.version.state_id), Some(17));
        assert_eq!(item.and_then(|i| i.tags.get("Criticality")), Some("5"));
    }

    #[test]
    fn state_ids_of_any_size_order_versions() {
        let state_id = |id: &str| {
            let item = json!({"resourceType": "AWS::S3::Bucket", "resourceId": "b", "configurationStateId": id});
            ConfigItem::from_value(item, crate::value::test_arena()).ok().flatten().map(|i| i.version.state_id)
        };
        assert_eq!(state_id("1486206633880"), Some(1_486_206_633_880));
        assert_eq!(state_id(" +17 "), Some(17));
        assert_eq!(state_id("18446744073709551615"), Some(u128::from(u64::MAX)));
        assert_eq!(state_id("18446744073709551616"), Some(u128::from(u64::MAX) + 1));
        assert_eq!(state_id("340282366920938463463374607431768211455"), Some(u128::MAX));
        for unreadable in ["340282366920938463463374607431768211456", "-1", "12a", ""] {
            assert_eq!(state_id(unreadable), Some(0), "{unreadable:?}");
        }
    }

    #[test]
    fn wrong_typed_id_is_an_error() {
        let err = ConfigItem::from_value(json!({"resourceType": "AWS::S3::Bucket", "resourceId": {"x": 1}}), crate::value::test_arena());
        assert!(err.is_err());
    }
}
