//! The catalog of options and rules, discovered from the embedded DataFusion: keys, defaults and
//! descriptions from `ConfigOptions::entries()` and `RuntimeEnvBuilder::entries()`, each key's value
//! kind by asking `ConfigOptions::set` which probe values it accepts, and rule names from a default
//! session. A DataFusion release that adds a key or changes a type changes the catalog with it.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use datafusion::config::ConfigOptions;
use datafusion::execution::SessionStateBuilder;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use serde::Serialize;

use super::exceptions::{MACHINE_DEPENDENT_KEYS, RUNTIME_KINDS, UPPER_BOUNDS};
use super::values::check_runtime_value;

/// The DataFusion release this build of dfpolicy embeds.
pub const DATAFUSION_VERSION: &str = datafusion::DATAFUSION_VERSION;

/// Prefix of the runtime keys, which live on `RuntimeEnv` rather than `ConfigOptions`.
pub const RUNTIME_PREFIX: &str = "datafusion.runtime.";

/// The kind of value an option takes, as DataFusion's parser accepts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ValueKind {
    Boolean,
    /// A non-negative integer; `minimum` on the option says whether 0 or 1 is rejected.
    UnsignedInteger,
    SignedInteger,
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

/// One DataFusion option.
#[derive(Debug, Clone, Serialize)]
pub struct EngineOption {
    pub key: String,
    pub kind: ValueKind,
    /// The default as DataFusion renders it; `None` is NULL (unset).
    pub default: Option<String>,
    /// The default in the canonical form [`Registry::check_value`] returns (runtime capacities in
    /// bytes); `None` for NULL and machine-dependent defaults.
    pub canonical_default: Option<String>,
    pub description: String,
    /// Smallest accepted integer, for integer kinds that reject 0 (or 1).
    pub minimum: Option<u64>,
    /// Largest accepted integer, where DataFusion documents one.
    pub maximum: Option<u64>,
    /// The default depends on the machine (CPU count).
    pub machine_dependent: bool,
    /// A `datafusion.runtime.*` key (set on the runtime environment, not `ConfigOptions`).
    pub runtime: bool,
}

/// Which optimizer a rule belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleStage {
    Analyzer,
    Logical,
    Physical,
}

impl RuleStage {
    /// The stages in the order a query passes them.
    pub const ALL: [RuleStage; 3] = [RuleStage::Analyzer, RuleStage::Logical, RuleStage::Physical];

    pub fn name(self) -> &'static str {
        match self {
            RuleStage::Analyzer => "analyzer",
            RuleStage::Logical => "logical",
            RuleStage::Physical => "physical",
        }
    }
}

/// Everything dfpolicy checks policies against.
#[derive(Debug)]
pub struct Registry {
    options: BTreeMap<String, EngineOption>,
    rules: Vec<(RuleStage, String)>,
}

/// The registry of the embedded DataFusion release, built once per process.
pub fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(Registry::discover)
}

impl Registry {
    fn discover() -> Self {
        let defaults = ConfigOptions::new();
        let mut options = BTreeMap::new();
        for entry in defaults.entries() {
            let (kind, minimum) = probe_kind(&entry.key);
            let maximum = UPPER_BOUNDS
                .iter()
                .find(|bound| bound.key == entry.key)
                .map(|bound| bound.maximum);
            let machine_dependent = MACHINE_DEPENDENT_KEYS.contains(&entry.key.as_str());
            let default = if machine_dependent {
                None
            } else {
                entry.value.clone()
            };
            options.insert(
                entry.key.clone(),
                EngineOption {
                    // `entries()` renders values the way `check_value` returns them.
                    canonical_default: default.clone(),
                    default,
                    description: entry.description.trim().to_string(),
                    key: entry.key,
                    kind,
                    minimum,
                    maximum,
                    machine_dependent,
                    runtime: false,
                },
            );
        }
        for entry in RuntimeEnvBuilder::new().entries() {
            let kind = runtime_kind(&entry.key);
            let canonical_default = entry
                .value
                .as_deref()
                .and_then(|d| check_runtime_value(&entry.key, kind, d).ok())
                .map(|c| c.0);
            options.insert(
                entry.key.clone(),
                EngineOption {
                    canonical_default,
                    default: entry.value.clone(),
                    description: entry.description.trim().to_string(),
                    key: entry.key,
                    kind,
                    minimum: None,
                    maximum: None,
                    machine_dependent: false,
                    runtime: true,
                },
            );
        }

        let state = SessionStateBuilder::new().with_default_features().build();
        let names = |stage: RuleStage| -> Vec<String> {
            match stage {
                RuleStage::Analyzer => state
                    .analyzer()
                    .rules
                    .iter()
                    .map(|r| r.name().to_string())
                    .collect(),
                RuleStage::Logical => state
                    .optimizers()
                    .iter()
                    .map(|r| r.name().to_string())
                    .collect(),
                RuleStage::Physical => state
                    .physical_optimizers()
                    .iter()
                    .map(|r| r.name().to_string())
                    .collect(),
            }
        };
        let rules = RuleStage::ALL
            .iter()
            .flat_map(|&stage| names(stage).into_iter().map(move |name| (stage, name)))
            .collect();
        Registry { options, rules }
    }

    /// Every option, sorted by key.
    pub fn options(&self) -> impl Iterator<Item = &EngineOption> {
        self.options.values()
    }

    pub fn option(&self, key: &str) -> Option<&EngineOption> {
        self.options.get(key)
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.options.keys().map(String::as_str)
    }

    /// Rule names of a default session, in execution order (names may repeat).
    pub fn rules(&self) -> &[(RuleStage, String)] {
        &self.rules
    }

    /// The default in canonical form, or `None` for NULL and machine-dependent defaults.
    pub fn canonical_default(&self, key: &str) -> Option<&str> {
        self.option(key)
            .and_then(|o| o.canonical_default.as_deref())
    }
}

fn probe_kind(key: &str) -> (ValueKind, Option<u64>) {
    let accepts = |value: &str| ConfigOptions::new().set(key, value).is_ok();
    let kind = if accepts("dfpolicy probe: any text") {
        ValueKind::Text
    } else if accepts("true") && accepts("false") {
        ValueKind::Boolean
    } else if accepts("0.5") {
        ValueKind::Float
    } else if accepts("-1") {
        ValueKind::SignedInteger
    } else if accepts("2") {
        ValueKind::UnsignedInteger
    } else {
        ValueKind::Choice
    };
    let minimum = match kind {
        ValueKind::UnsignedInteger if !accepts("0") => Some(if accepts("1") { 1 } else { 2 }),
        _ => None,
    };
    (kind, minimum)
}

fn runtime_kind(key: &str) -> ValueKind {
    RUNTIME_KINDS
        .iter()
        .find(|(k, _)| *k == key)
        .map_or(ValueKind::Capacity, |(_, kind)| *kind)
}
