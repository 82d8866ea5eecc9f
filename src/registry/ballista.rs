//! What Apache Ballista 55 knows: its `ballista.*` options and the DataFusion settings it forces on
//! every session it upgrades.
//!
//! The plain build validates, compiles and hashes Ballista policies without compiling Ballista (a team
//! checks its policies in CI without a distributed engine), so Ballista's registry is carried as data:
//! [`CATALOG_TEXT`], generated from the crates themselves by [`catalog_from_ballista`] (feature
//! `ballista`). `tests/it/ballista.rs` regenerates it and fails when Ballista's registry and the
//! committed copy differ, as the schema drift test does for the policy schema.
//!
//! Values are checked with Ballista's own parsers (`BallistaConfig::parse_value`, mirrored here and
//! compared with the real one by the drift test), and with the checks its typed getters make later:
//! `BallistaConfig::set` accepts any text, and a getter that cannot parse it panics in the middle of
//! a job.

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use super::values::{CanonicalValue, RejectedBy, ValueError, ValueKind};

/// The Ballista release whose registry [`CATALOG_TEXT`] is.
pub const BALLISTA_VERSION: &str = "55.0.0";

/// The prefix of every Ballista option (`BallistaConfig::PREFIX`).
pub const BALLISTA_PREFIX: &str = "ballista.";

/// Ballista's registry, as [`catalog_from_ballista`] writes it.
pub const CATALOG_TEXT: &str = include_str!("ballista-55.0.0.json");

/// Where [`CATALOG_TEXT`] lives, relative to the repository root (for the drift test's message).
pub const CATALOG_PATH: &str = "src/registry/ballista-55.0.0.json";

/// The key whose default is the machine's CPU count (`std::thread::available_parallelism()` in
/// ballista-core 55.0.0 `src/config.rs`), like DataFusion's `target_partitions`.
pub const STANDALONE_PARALLELISM: &str = "ballista.standalone.parallelism";

/// Ballista's registry: every option, and the DataFusion settings `upgrade_for_ballista` forces.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BallistaCatalog {
    /// The Ballista release (`55.0.0`).
    pub ballista: String,
    /// Sorted by key.
    pub options: Vec<BallistaEntry>,
    /// `SessionConfig::upgrade_for_ballista` (`ballista_restricted_configuration`, ballista-core
    /// 55.0.0 `src/extension.rs`): every DataFusion key whose value differs from DataFusion's default
    /// afterwards, with the value Ballista gives it. Sorted by key.
    pub forced: Vec<ForcedByBallista>,
}

/// One entry of `BallistaConfig::valid_entries()`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BallistaEntry {
    /// The full key (`ballista.job.name`).
    pub key: String,
    /// The Arrow type Ballista parses the value as (`UInt16`, `UInt32`, `UInt64`, `Boolean`,
    /// `Float64`, `Utf8`).
    pub data_type: String,
    /// `None` when the default depends on the machine (see [`STANDALONE_PARALLELISM`]).
    pub default: Option<String>,
    /// Ballista's doc string.
    pub description: String,
}

/// A DataFusion setting Ballista changes when it upgrades a session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ForcedByBallista {
    /// The DataFusion key.
    pub key: String,
    /// The value Ballista gives it.
    pub value: String,
}

/// The committed registry, parsed once.
pub fn catalog() -> &'static BallistaCatalog {
    static CATALOG: OnceLock<BallistaCatalog> = OnceLock::new();
    CATALOG.get_or_init(|| {
        serde_json::from_str(CATALOG_TEXT).expect("the committed Ballista registry is valid JSON")
    })
}

impl BallistaCatalog {
    /// The catalog as the committed text: pretty JSON with a final newline.
    pub fn to_text(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).expect("the catalog serializes");
        text.push('\n');
        text
    }

    /// The entry of a `ballista.*` key.
    pub fn entry(&self, key: &str) -> Option<&BallistaEntry> {
        self.options
            .binary_search_by(|e| e.key.as_str().cmp(key))
            .ok()
            .map(|index| &self.options[index])
    }

    /// The value Ballista forces for a DataFusion key, if it forces one.
    pub fn forced_value(&self, key: &str) -> Option<&str> {
        self.forced
            .iter()
            .find(|f| f.key == key)
            .map(|f| f.value.as_str())
    }
}

impl BallistaEntry {
    /// The value kind dfpolicy's checks and the policy schema use for this entry.
    pub fn kind(&self) -> ValueKind {
        match self.data_type.as_str() {
            "Boolean" => ValueKind::Boolean,
            "Float64" => ValueKind::Float,
            "UInt16" | "UInt32" | "UInt64" => ValueKind::UnsignedInteger,
            _ => ValueKind::Text,
        }
    }

    /// The largest value the declared type holds. Ballista parses every integer as `usize`, so
    /// `70000` passes its check for a `UInt16` and is truncated where it is used.
    pub fn maximum(&self) -> Option<u64> {
        match self.data_type.as_str() {
            "UInt16" => Some(u16::MAX.into()),
            "UInt32" => Some(u32::MAX.into()),
            _ if WINDOW_SIZES.contains(&self.key.as_str()) => Some(u32::MAX.into()),
            _ => None,
        }
    }

    /// The smallest accepted value, where zero makes no sense to Ballista.
    pub fn minimum(&self) -> Option<u64> {
        (self.key == STANDALONE_PARALLELISM).then_some(1)
    }

    /// Whether the default follows the machine (the CPU count).
    pub fn machine_dependent(&self) -> bool {
        self.key == STANDALONE_PARALLELISM
    }
}

/// `UInt64` options that Ballista narrows to `u32` with `as` (ballista-core 55.0.0
/// `BallistaConfig::grpc_client_initial_connection_window_size` and `..._stream_window_size`): a
/// larger value silently wraps.
const WINDOW_SIZES: &[&str] = &[
    "ballista.client.initial_connection_window_size",
    "ballista.client.initial_stream_window_size",
];

/// A check of one text option's value: its canonical form, or why Ballista cannot read it.
type TextCheck = fn(&str) -> Result<String, ValueError>;

/// Text options whose getter or consumer accepts only some words, with the check it makes.
const TEXT_CHECKS: &[(&str, TextCheck)] = &[
    ("ballista.shuffle.compression.codec", compression_codec),
    ("ballista.testing.chaos_execution.fault_type", fault_type),
    ("ballista.testing.chaos_execution.seed", chaos_seed),
];

/// `BallistaConfig::shuffle_compression_codec`: lowercased and trimmed, then `lz4`, `zstd` or `none`;
/// anything else fails the job when the shuffle writer is built.
fn compression_codec(value: &str) -> Result<String, ValueError> {
    let word = value.to_lowercase().trim().to_string();
    match word.as_str() {
        "lz4" | "zstd" | "none" => Ok(word),
        _ => Err(ValueError::invalid(
            RejectedBy::Ballista,
            format!(
                "`{value}` is not a shuffle compression codec: valid options are lz4, zstd and none"
            ),
        )),
    }
}

/// `ChaosExec::try_new` (ballista-core 55.0.0 `execution_plans/chaos_exec.rs`).
fn fault_type(value: &str) -> Result<String, ValueError> {
    match value {
        "transient" | "fatal" | "panic" | "delay" => Ok(value.to_string()),
        _ => match value.strip_prefix("delay:") {
            Some(ms) if ms.parse::<u64>().is_ok() => Ok(value.to_string()),
            _ => Err(ValueError::invalid(
                RejectedBy::Ballista,
                format!(
                    "`{value}` is not a chaos fault type: one of transient, fatal, panic, delay or delay:N (milliseconds)"
                ),
            )),
        },
    }
}

/// `BallistaConfig::chaos_execution_seed` reads an unparsable seed as "no seed" without a word.
fn chaos_seed(value: &str) -> Result<String, ValueError> {
    if value.is_empty() || value.parse::<u64>().is_ok() {
        Ok(value.to_string())
    } else {
        Err(ValueError::invalid(
            RejectedBy::Ballista,
            format!("`{value}` is not a seed: an unsigned 64-bit integer, or empty for none"),
        ))
    }
}

/// Checks one value for one Ballista option and returns it in canonical form: as
/// `BallistaConfig::parse_value` reads its type, then as the option's getter or consumer reads it.
pub fn check_value(entry: &BallistaEntry, value: &str) -> Result<CanonicalValue, ValueError> {
    use RejectedBy::{Ballista, Dfpolicy};
    let invalid = |message: String| ValueError::invalid(Ballista, message);
    let canonical = match entry.data_type.as_str() {
        // `parse::<usize>()`, `parse::<bool>()` and `parse::<f64>()`, as `parse_value` does.
        "UInt16" | "UInt32" | "UInt64" => value
            .parse::<usize>()
            .map(|n| n.to_string())
            .map_err(|e| invalid(format!("`{value}` is not an unsigned integer ({e})"))),
        "Boolean" => value.parse::<bool>().map(|b| b.to_string()).map_err(|_| {
            invalid(format!(
                "`{value}` is not `true` or `false` (Ballista reads no other spelling)"
            ))
        }),
        "Float64" => value
            .parse::<f64>()
            .map_err(|e| invalid(format!("`{value}` is not a number ({e})")))
            .and_then(|f| {
                if f.is_finite() {
                    Ok(f.to_string())
                } else {
                    Err(invalid(format!("`{value}` is not a finite number")))
                }
            }),
        "Utf8" => Ok(value.to_string()),
        other => Err(invalid(format!(
            "Ballista cannot parse its own type {other}"
        ))),
    }?;
    if let Ok(number) = canonical.parse::<u64>() {
        if let Some(maximum) = entry.maximum()
            && number > maximum
        {
            return Err(ValueError::out_of_range(
                Dfpolicy,
                format!(
                    "{number} is out of range: `{}` is a {} in Ballista, at most {maximum}",
                    entry.key, entry.data_type
                ),
            ));
        }
        if let Some(minimum) = entry.minimum()
            && number < minimum
        {
            return Err(ValueError::out_of_range(
                Dfpolicy,
                format!("{number} is out of range: the smallest allowed value is {minimum}"),
            ));
        }
    }
    if entry.key == "ballista.testing.chaos_execution.probability"
        && !(0.0..=1.0).contains(&canonical.parse::<f64>().unwrap_or(-1.0))
    {
        return Err(ValueError::out_of_range(
            Ballista,
            format!("{canonical} is out of range: a probability, from 0.0 to 1.0 (ChaosExec)"),
        ));
    }
    if let Some((_, check)) = TEXT_CHECKS.iter().find(|(k, _)| *k == entry.key) {
        return check(&canonical).map(CanonicalValue);
    }
    Ok(CanonicalValue(canonical))
}

/// Which Ballista options can change the stages a query runs as, with why. Everything else
/// (gRPC clients, shuffle transport, the job name, caches, executor slots) acts on a plan that is
/// already made.
pub fn plan_shape_reason(key: &str) -> Option<&'static str> {
    if key.starts_with("ballista.optimizer.") {
        Some(
            "read by Ballista's planners: broadcast promotion in the static planner, join selection and the NOT IN rewrite",
        )
    } else if key.starts_with("ballista.planner.") {
        Some(
            "chooses the adaptive or the static planner, or an adaptive rule that rewrites stages at run time",
        )
    } else if key == "ballista.testing.chaos_execution.enabled" {
        Some("inserts a ChaosExec into the adaptive plan")
    } else {
        None
    }
}

/// Ballista's registry, read from the crates: `BallistaConfig::valid_entries()` and the settings that
/// `SessionConfig::upgrade_for_ballista` changes.
#[cfg(feature = "ballista")]
pub fn catalog_from_ballista() -> BallistaCatalog {
    use ballista_core::config::BallistaConfig;
    use ballista_core::extension::SessionConfigExt;
    use datafusion::prelude::SessionConfig;

    let mut options: Vec<BallistaEntry> = BallistaConfig::valid_entries()
        .values()
        .map(|entry| BallistaEntry {
            key: entry.name().to_string(),
            data_type: entry.data_type().to_string(),
            default: if entry.name() == STANDALONE_PARALLELISM {
                None
            } else {
                entry.default_value().map(str::to_string)
            },
            description: entry.description().to_string(),
        })
        .collect();
    options.sort_by(|a, b| a.key.cmp(&b.key));

    let before = SessionConfig::new();
    let after = SessionConfig::new().upgrade_for_ballista();
    let value_of = |config: &SessionConfig, key: &str| {
        config
            .options()
            .entries()
            .into_iter()
            .find(|e| e.key == key)
            .and_then(|e| e.value)
    };
    let mut forced: Vec<ForcedByBallista> = after
        .options()
        .entries()
        .into_iter()
        .filter(|e| e.key.starts_with("datafusion."))
        .filter(|e| e.value != value_of(&before, &e.key))
        .map(|e| ForcedByBallista {
            value: e.value.unwrap_or_default(),
            key: e.key,
        })
        .collect();
    forced.sort_by(|a, b| a.key.cmp(&b.key));
    BallistaCatalog {
        ballista: BALLISTA_VERSION.to_string(),
        options,
        forced,
    }
}
