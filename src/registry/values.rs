//! Typed checks of one value for one option, the way DataFusion will use it. Each failure is a
//! [`ValueError`] that says what is wrong (malformed, out of range, ...) and who refuses it (DataFusion
//! itself, or dfpolicy because DataFusion would accept the value and then fail or misbehave with it).

use std::time::Duration;

use datafusion::execution::context::SessionContext;
use serde::Serialize;

use super::apply::engine_message;
use super::exceptions::MEMORY_LIMIT;
use super::panic_guard;

/// What is wrong with a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueProblem {
    /// The key is not an option of the embedded DataFusion.
    UnknownKey,
    /// A well-formed number outside the range the option takes.
    OutOfRange,
    /// Not a value the option takes (`"x"` for an integer, `"NaNG"` for a capacity, an unknown word).
    Invalid,
}

/// Who refuses a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RejectedBy {
    /// DataFusion's setter or one of the parsers it runs when the value is used; the message is
    /// DataFusion's (or arrow-rs's).
    DataFusion,
    /// dfpolicy: DataFusion accepts the value but then fails, panics, loops or silently does something
    /// else with it (the tables of [`super::exceptions`] and [`super::parquet_writer::WRITER_CONSTRAINTS`]).
    Dfpolicy,
    /// Ballista's value parser (`BallistaConfig::parse_value`) or the getter that reads the value
    /// later (see [`super::ballista`]).
    Ballista,
}

/// The kind of value an option takes, as DataFusion's parser accepts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ValueKind {
    /// `true` or `false`.
    Boolean,
    /// A non-negative integer; `minimum` on the option says whether 0 or 1 is rejected.
    UnsignedInteger,
    /// A signed integer.
    SignedInteger,
    /// A number.
    Float,
    /// Free text, checked (if at all) when DataFusion uses it.
    Text,
    /// One of a fixed set of words that DataFusion checks when the option is set.
    Choice,
    /// A runtime byte capacity such as `"512M"` (`K`, `M`, `G` units, as `SET datafusion.runtime.*` takes).
    Capacity,
    /// A runtime duration such as `"5m30s"`.
    Duration,
}

impl ValueKind {
    /// The kind's name as listings write it.
    pub fn name(self) -> &'static str {
        match self {
            ValueKind::Boolean => "boolean",
            ValueKind::UnsignedInteger => "unsigned integer",
            ValueKind::SignedInteger => "integer",
            ValueKind::Float => "float",
            ValueKind::Text => "string",
            ValueKind::Choice => "choice",
            ValueKind::Capacity => "byte capacity",
            ValueKind::Duration => "duration",
        }
    }
}

/// A value as a TOML literal of the kind `[settings]` takes for an option of `kind`: booleans and
/// numbers bare (when they read as one), everything else a quoted string. The one conversion from a
/// value to TOML: the compiled policy's `[settings]`, the sweep's pastable values and the tests
/// write values with it.
pub fn toml_literal(kind: ValueKind, value: &str) -> String {
    let bare = match kind {
        ValueKind::Boolean => value == "true" || value == "false",
        ValueKind::UnsignedInteger | ValueKind::SignedInteger => value.parse::<i64>().is_ok(),
        ValueKind::Float => value.parse::<f64>().is_ok_and(f64::is_finite),
        _ => false,
    };
    if bare {
        value.to_string()
    } else {
        toml::Value::String(value.to_string()).to_string()
    }
}

/// Why a value cannot be used for an option.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ValueError {
    /// Invalid, out of range, or no option at all.
    pub problem: ValueProblem,
    /// Who refuses it: DataFusion, Ballista or dfpolicy.
    pub rejected_by: RejectedBy,
    /// What is wrong, in the refuser's words.
    pub message: String,
}

impl ValueError {
    /// A value the option cannot take.
    pub fn invalid(rejected_by: RejectedBy, message: impl Into<String>) -> Self {
        ValueError {
            problem: ValueProblem::Invalid,
            rejected_by,
            message: message.into(),
        }
    }

    /// A number beyond the option's bounds.
    pub fn out_of_range(rejected_by: RejectedBy, message: impl Into<String>) -> Self {
        ValueError {
            problem: ValueProblem::OutOfRange,
            rejected_by,
            message: message.into(),
        }
    }
}

/// A value in DataFusion's own rendering.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CanonicalValue(pub String);

/// Builds the default schema from `location` the way every session does when
/// `datafusion.catalog.format` is set (`SessionStateDefaults::register_default_schema`), which panics
/// on a location that is not a URL with an object-store path.
pub(super) fn check_catalog_location(location: &str) -> Result<(), ValueError> {
    use datafusion::catalog::MemoryCatalogProvider;
    use datafusion::execution::SessionStateDefaults;
    use datafusion::prelude::SessionConfig;

    let mut config = SessionConfig::new();
    let options = config.options_mut();
    options.catalog.location = Some(location.to_string());
    options.catalog.format = Some("parquet".to_string());
    let runtime = std::sync::Arc::new(datafusion::execution::runtime_env::RuntimeEnv::default());
    panic_guard::without_panicking(|| {
        SessionStateDefaults::register_default_schema(
            &config,
            &Default::default(),
            &runtime,
            &MemoryCatalogProvider::new(),
        )
    })
    .map_err(|panic| {
        ValueError::invalid(RejectedBy::DataFusion, format!(
            "`{location}` is not a location DataFusion can open ({panic}); write a URL such as \"file:///data/warehouse/\" or \"s3://bucket/path/\""
        ))
    })
}

/// A runtime value, checked with the parser `SessionContext::set_runtime_variable` applies to its key.
pub(super) fn check_runtime_value(
    key: &str,
    kind: ValueKind,
    value: &str,
) -> Result<CanonicalValue, ValueError> {
    match kind {
        ValueKind::Capacity => match parse_capacity(key, value)? {
            0 if key == MEMORY_LIMIT => Err(ValueError::invalid(
                RejectedBy::Dfpolicy,
                "a memory limit of 0 bytes fails every query; leave the limit unset for none",
            )),
            bytes => Ok(CanonicalValue(bytes.to_string())),
        },
        ValueKind::UnsignedInteger => value
            .parse::<usize>()
            .map(|n| CanonicalValue(n.to_string()))
            .map_err(|e| {
                ValueError::invalid(
                    RejectedBy::DataFusion,
                    format!("`{value}` is not an unsigned integer: {e}"),
                )
            }),
        ValueKind::Duration => parse_duration(value).map(|d| CanonicalValue(render_duration(d))),
        _ => {
            if value.trim().is_empty() {
                Err(ValueError::invalid(
                    RejectedBy::Dfpolicy,
                    "the value must not be empty",
                ))
            } else {
                Ok(CanonicalValue(value.to_string()))
            }
        }
    }
}

/// A runtime capacity as `SET datafusion.runtime.*` takes it — a byte count, or a number with a `K`,
/// `M` or `G` unit — in bytes.
///
/// DataFusion's own parser (`SessionContext::parse_capacity_limit`) reads the number as a float, so it
/// turns `"NaNG"` into 0 and saturates `"99999999999G"` to the largest `usize`. This one accepts only
/// digits with an optional fraction, computes the bytes exactly, rejects results that are not whole
/// bytes or do not fit a `usize`, and then requires DataFusion to read the same number.
pub fn parse_capacity(key: &str, value: &str) -> Result<u64, ValueError> {
    let invalid = || {
        ValueError::invalid(
            RejectedBy::Dfpolicy,
            format!(
                "`{value}` is not a byte capacity; write a number of bytes or a number with a unit K, M or G, such as \"512M\" or \"1.5G\""
            ),
        )
    };
    let (number, multiplier) = match value.char_indices().next_back() {
        None => return Err(invalid()),
        Some((at, 'K')) => (&value[..at], 1u128 << 10),
        Some((at, 'M')) => (&value[..at], 1 << 20),
        Some((at, 'G')) => (&value[..at], 1 << 30),
        Some(_) => (value, 1),
    };
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || (number.contains('.') && !digits(fraction)) || fraction.len() > 18 {
        return Err(invalid());
    }
    let too_large = || {
        ValueError::out_of_range(
            RejectedBy::Dfpolicy,
            format!(
                "`{value}` is larger than this machine can address ({} bytes)",
                usize::MAX
            ),
        )
    };
    let whole: u128 = whole.parse().map_err(|_| too_large())?;
    let mut bytes = whole.checked_mul(multiplier).ok_or_else(too_large)?;
    if !fraction.is_empty() {
        let denominator = 10u128.pow(fraction.len() as u32);
        let scaled = fraction.parse::<u128>().map_err(|_| invalid())? * multiplier;
        if !scaled.is_multiple_of(denominator) {
            return Err(ValueError::invalid(
                RejectedBy::Dfpolicy,
                format!("`{value}` is not a whole number of bytes"),
            ));
        }
        bytes += scaled / denominator;
    }
    let bytes = usize::try_from(bytes).map_err(|_| too_large())?;
    if multiplier > 1 {
        let engine = SessionContext::parse_capacity_limit(key, value)
            .map_err(|e| ValueError::invalid(RejectedBy::DataFusion, engine_message(&e)))?;
        if engine != bytes {
            return Err(ValueError::invalid(
                RejectedBy::Dfpolicy,
                format!(
                    "DataFusion reads `{value}` as {engine} bytes rather than {bytes}; write the number of bytes"
                ),
            ));
        }
    }
    Ok(bytes as u64)
}

/// The `5m`, `30s`, `5m30s` form that `SET datafusion.runtime.list_files_cache_ttl` takes
/// (DataFusion's `parse_duration`), as a duration of whole seconds.
pub fn parse_duration(value: &str) -> Result<Duration, ValueError> {
    let invalid = || {
        ValueError::invalid(
            RejectedBy::DataFusion,
            format!(
                "`{value}` is not a duration; write minutes and/or seconds such as \"5m\", \"90s\" or \"1m30s\""
            ),
        )
    };
    let mut rest = value.trim();
    let mut total: u64 = 0;
    let mut seen_minutes = false;
    let mut seen_seconds = false;
    if rest.is_empty() {
        return Err(invalid());
    }
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .ok_or_else(invalid)?;
        if digits == 0 {
            return Err(invalid());
        }
        let number: u64 = rest[..digits].parse().map_err(|_| invalid())?;
        let unit = rest[digits..].chars().next().ok_or_else(invalid)?;
        match unit {
            'm' if !seen_minutes && !seen_seconds => {
                seen_minutes = true;
                total = number
                    .checked_mul(60)
                    .and_then(|m| m.checked_add(total))
                    .ok_or_else(invalid)?;
            }
            's' if !seen_seconds => {
                seen_seconds = true;
                total = total.checked_add(number).ok_or_else(invalid)?;
            }
            _ => return Err(invalid()),
        }
        rest = &rest[digits + 1..];
    }
    if total == 0 {
        return Err(ValueError::invalid(
            RejectedBy::Dfpolicy,
            "the duration must be greater than zero",
        ));
    }
    Ok(Duration::from_secs(total))
}

/// A duration as DataFusion's `SET` takes and dfpolicy prints it: `{minutes}m{seconds}s`.
pub fn render_duration(duration: Duration) -> String {
    let seconds = duration.as_secs();
    format!("{}m{}s", seconds / 60, seconds % 60)
}
