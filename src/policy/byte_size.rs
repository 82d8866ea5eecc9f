//! Byte quantities written either as plain integers or with a unit (`"512KiB"`, `"4GiB"`).

use std::fmt;
use std::str::FromStr;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A number of bytes.
///
/// Binary units (`KiB`, `MiB`, `GiB`, `TiB`, and DataFusion's own `K`, `M`, `G`, `T`) are powers of
/// 1024; decimal units (`KB`, `MB`, `GB`, `TB`) are powers of 1000. A fraction is accepted when the
/// result is a whole number of bytes (`"1.5KiB"` is 1536).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ByteSize(pub u64);

/// The pattern the JSON schema uses for the string form; kept in step with [`ByteSize::from_str`].
pub const BYTE_SIZE_PATTERN: &str =
    r"^\s*[0-9]+(\.[0-9]+)?\s*(B|K|M|G|T|KB|MB|GB|TB|KiB|MiB|GiB|TiB)?\s*$";

const UNITS: &[(&str, u64)] = &[
    ("B", 1),
    ("K", 1 << 10),
    ("M", 1 << 20),
    ("G", 1 << 30),
    ("T", 1 << 40),
    ("KiB", 1 << 10),
    ("MiB", 1 << 20),
    ("GiB", 1 << 30),
    ("TiB", 1 << 40),
    ("KB", 1_000),
    ("MB", 1_000_000),
    ("GB", 1_000_000_000),
    ("TB", 1_000_000_000_000),
];

/// Why a byte size could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ByteSizeError(pub String);

impl ByteSize {
    /// Reads a byte size from a signed TOML integer.
    pub fn from_integer(value: i64) -> Result<Self, ByteSizeError> {
        u64::try_from(value)
            .map(ByteSize)
            .map_err(|_| ByteSizeError(format!("a byte size cannot be negative, got {value}")))
    }
}

impl FromStr for ByteSize {
    type Err = ByteSizeError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let trimmed = text.trim();
        let split = trimmed
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(trimmed.len());
        let (number, unit) = trimmed.split_at(split);
        let unit = unit.trim();
        let invalid = || {
            ByteSizeError(format!(
                "`{text}` is not a byte size; write an integer or a number with a unit such as \"512KiB\", \"64MiB\" or \"4GiB\""
            ))
        };
        if number.is_empty() {
            return Err(invalid());
        }
        let multiplier = if unit.is_empty() {
            1
        } else {
            UNITS
                .iter()
                .find(|(name, _)| *name == unit)
                .map(|(_, m)| *m)
                .ok_or_else(invalid)?
        };
        let (whole, fraction) = match number.split_once('.') {
            Some((w, f)) if !w.is_empty() && !f.is_empty() && !f.contains('.') => (w, f),
            Some(_) => return Err(invalid()),
            None => (number, ""),
        };
        let too_large = || ByteSizeError(format!("`{text}` is larger than 2^64 bytes"));
        let whole: u128 = whole.parse().map_err(|_| too_large())?;
        let mut bytes = whole
            .checked_mul(u128::from(multiplier))
            .ok_or_else(too_large)?;
        if !fraction.is_empty() {
            if fraction.len() > 18 {
                return Err(invalid());
            }
            let denominator = 10u128.pow(fraction.len() as u32);
            let numerator: u128 = fraction.parse().map_err(|_| invalid())?;
            let scaled = numerator * u128::from(multiplier);
            if !scaled.is_multiple_of(denominator) {
                return Err(ByteSizeError(format!(
                    "`{text}` is not a whole number of bytes"
                )));
            }
            bytes += scaled / denominator;
        }
        u64::try_from(bytes).map(ByteSize).map_err(|_| too_large())
    }
}

impl fmt::Display for ByteSize {
    /// The largest binary unit that divides the value exactly, else plain bytes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (unit, size) in [
            ("TiB", 1u64 << 40),
            ("GiB", 1 << 30),
            ("MiB", 1 << 20),
            ("KiB", 1 << 10),
        ] {
            if self.0 >= size && self.0.is_multiple_of(size) {
                return write!(f, "{}{unit}", self.0 / size);
            }
        }
        write!(f, "{}", self.0)
    }
}

impl Serialize for ByteSize {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.0 >= 1024 && self.0.is_multiple_of(1024) {
            serializer.serialize_str(&self.to_string())
        } else {
            serializer.serialize_u64(self.0)
        }
    }
}

impl<'de> Deserialize<'de> for ByteSize {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = ByteSize;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a byte size: an integer or a string such as \"512KiB\"")
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<ByteSize, E> {
                Ok(ByteSize(v))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<ByteSize, E> {
                ByteSize::from_integer(v).map_err(E::custom)
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<ByteSize, E> {
                v.parse().map_err(E::custom)
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

impl JsonSchema for ByteSize {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "ByteSize".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A number of bytes: an integer, or a string with a unit such as \"512KiB\", \"64MiB\" or \"4GiB\" (KiB/MiB/GiB/TiB and K/M/G/T are powers of 1024, KB/MB/GB/TB powers of 1000).",
            "type": ["integer", "string"],
            "minimum": 0,
            "pattern": BYTE_SIZE_PATTERN
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_units_and_fractions() {
        assert_eq!("512KiB".parse(), Ok(ByteSize(512 * 1024)));
        assert_eq!("1MiB".parse(), Ok(ByteSize(1 << 20)));
        assert_eq!(" 4 GiB ".parse(), Ok(ByteSize(4 << 30)));
        assert_eq!("2G".parse(), Ok(ByteSize(2 << 30)));
        assert_eq!("1.5KiB".parse(), Ok(ByteSize(1536)));
        assert_eq!("10KB".parse(), Ok(ByteSize(10_000)));
        assert_eq!("42".parse(), Ok(ByteSize(42)));
    }

    #[test]
    fn rejects_garbage_and_overflow() {
        for bad in [
            "",
            "KiB",
            "1.KiB",
            "1..5K",
            "1 XB",
            "-1",
            "1.0001B",
            "99999999999999999999TiB",
            "1e3",
        ] {
            assert!(bad.parse::<ByteSize>().is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn displays_in_the_largest_exact_unit() {
        assert_eq!(ByteSize(1 << 20).to_string(), "1MiB");
        assert_eq!(ByteSize(1536).to_string(), "1536");
        assert_eq!(ByteSize(0).to_string(), "0");
    }
}
