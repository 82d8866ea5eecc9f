//! The catalog of options and rules, discovered from the embedded DataFusion: keys, defaults and
//! descriptions from `ConfigOptions::entries()` and `RuntimeEnvBuilder::entries()`, each key's value
//! kind by asking `ConfigOptions::set` which probe values it accepts, and rule names from a default
//! session. A DataFusion release that adds a key or changes a type changes the catalog with it.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use datafusion::config::ConfigOptions;
use datafusion::execution::SessionStateBuilder;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use serde::Serialize;

use std::str::FromStr;

use datafusion::arrow::array::timezone::Tz;

use super::apply::{engine_message, machine_independent, render};
use super::ballista;
use super::engine::EngineIdentity;
use super::exceptions::{
    CATALOG_LOCATION, COERCE_INT96, MACHINE_DEPENDENT_KEYS, TIME_ZONE_KEYS, UPPER_BOUNDS,
};
use super::parquet_writer::{self, check_parquet_writer_options};
use super::values::{
    CanonicalValue, RejectedBy, ValueError, ValueKind, ValueProblem, check_catalog_location,
    check_runtime_value,
};

/// The DataFusion release this build of dfpolicy embeds.
pub const DATAFUSION_VERSION: &str = datafusion::DATAFUSION_VERSION;

/// Prefix of the runtime keys, which live on `RuntimeEnv` rather than `ConfigOptions`.
pub const RUNTIME_PREFIX: &str = "datafusion.runtime.";

/// One DataFusion option.
#[derive(Debug, Clone, Serialize)]
pub struct EngineOption {
    /// The full key.
    pub key: String,
    /// The kind of value DataFusion's parser takes.
    pub kind: ValueKind,
    /// The default as DataFusion renders it; `None` is NULL (unset).
    pub default: Option<String>,
    /// The default in the canonical form [`Registry::check_value`] returns (runtime capacities in
    /// bytes); `None` for NULL and machine-dependent defaults.
    pub canonical_default: Option<String>,
    /// DataFusion's doc string.
    pub description: String,
    /// Smallest accepted integer, for integer kinds that reject 0 (or 1).
    pub minimum: Option<u64>,
    /// Largest accepted integer, where DataFusion documents one.
    pub maximum: Option<u64>,
    /// The default depends on the machine (CPU count).
    pub machine_dependent: bool,
    /// A `datafusion.runtime.*` key (set on the runtime environment, not `ConfigOptions`).
    pub runtime: bool,
    /// A key of the installed engine's own configuration namespaces (`acme.*`), not DataFusion's.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub engine: bool,
}

named_enum! {
    names = "snake_case";
    /// Which optimizer a rule belongs to.
    pub enum RuleStage {
        /// Analyzer rules.
        Analyzer,
        /// Logical optimizer rules.
        Logical,
        /// Physical optimizer rules.
        Physical,
    }
}

impl RuleStage {
    /// The stages in the order a query passes them.
    pub const ALL: [RuleStage; 3] = [RuleStage::Analyzer, RuleStage::Logical, RuleStage::Physical];
}

/// Everything dfpolicy checks policies against.
#[derive(Debug)]
pub struct Registry {
    options: BTreeMap<String, EngineOption>,
    /// Ballista's `ballista.*` options (see [`super::ballista`]), apart from DataFusion's: a
    /// DataFusion session has none of them, and only a Ballista policy's environment lists them.
    ballista: BTreeMap<String, EngineOption>,
    rules: Vec<(RuleStage, String)>,
    /// Every function a session of this engine can call (scalar, higher-order, aggregate, window
    /// and table functions, aliases included), lower case as DataFusion registers them.
    functions: BTreeSet<String>,
    /// Every `STORED AS` format a session of this engine can create tables of, upper case.
    formats: BTreeSet<String>,
    /// The installed engine's identity, worked out once (naming a function package's functions
    /// registers it in a scratch session); `None` for vanilla DataFusion.
    engine: Option<EngineIdentity>,
}

/// DataFusion's default options with the installed engine's configuration namespaces (`acme.*`) at
/// their defaults: what every stage applies settings to.
pub fn config_options() -> ConfigOptions {
    super::engine::installed().config_options()
}

/// The registry of the embedded DataFusion release and the installed engine, built once per
/// process.
pub fn registry() -> &'static Registry {
    REGISTRY.get_or_init(Registry::discover)
}

static REGISTRY: OnceLock<Registry> = OnceLock::new();

impl Registry {
    fn discover() -> Self {
        let engine = super::engine::installed_for_registry();
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
                    engine: false,
                },
            );
        }
        for (key, default, description) in engine.option_entries() {
            let (kind, minimum) = probe_kind(&key);
            options.insert(
                key.clone(),
                EngineOption {
                    canonical_default: default.clone(),
                    default,
                    description,
                    key,
                    kind,
                    minimum,
                    maximum: None,
                    machine_dependent: false,
                    runtime: false,
                    engine: true,
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
                    engine: false,
                },
            );
        }

        let mut state = SessionStateBuilder::new().with_default_features().build();
        engine
            .register(&mut state)
            .expect("an installed engine's functions registered when it was installed");
        let functions = state
            .scalar_functions()
            .keys()
            .chain(state.higher_order_functions().keys())
            .chain(state.aggregate_functions().keys())
            .chain(state.window_functions().keys())
            .chain(state.table_functions().keys())
            .cloned()
            .collect();
        // DataFusion registers a listing factory for every format it names (`AVRO`, `NDJSON` …)
        // whether or not it was built with that format's reader; such a table fails when created.
        // A format counts when the session can create its tables: the engine's own factory, or a
        // listing factory with a file format to read it.
        let listing_formats =
            datafusion::execution::SessionStateDefaults::default_table_factories();
        let formats = state
            .table_factories()
            .keys()
            .filter(|format| {
                engine.has_format(format)
                    || !listing_formats.contains_key(*format)
                    || state.get_file_format_factory(format).is_some()
            })
            .cloned()
            .collect();
        // The engine's rules at their positions (installing checked that the positions exist).
        let (analyzer, logical, physical) = engine
            .placed_rules(
                state.analyzer().rules.clone(),
                state.optimizers().to_vec(),
                state.physical_optimizers().to_vec(),
            )
            .expect("an installed engine's rule positions were checked when it was installed");
        let names = |stage: RuleStage| -> Vec<String> {
            match stage {
                RuleStage::Analyzer => analyzer.iter().map(|r| r.name().to_string()).collect(),
                RuleStage::Logical => logical.iter().map(|r| r.name().to_string()).collect(),
                RuleStage::Physical => physical.iter().map(|r| r.name().to_string()).collect(),
            }
        };
        let rules = RuleStage::ALL
            .iter()
            .flat_map(|&stage| names(stage).into_iter().map(move |name| (stage, name)))
            .collect();
        let ballista = ballista::catalog()
            .options
            .iter()
            .map(|entry| {
                let canonical_default = entry
                    .default
                    .as_deref()
                    .and_then(|d| ballista::check_value(entry, d).ok())
                    .map(|c| c.0);
                let option = EngineOption {
                    key: entry.key.clone(),
                    kind: entry.kind(),
                    default: entry.default.clone(),
                    canonical_default,
                    description: entry.description.clone(),
                    minimum: entry.minimum(),
                    maximum: entry.maximum(),
                    machine_dependent: entry.machine_dependent(),
                    runtime: false,
                    engine: false,
                };
                (entry.key.clone(), option)
            })
            .collect();
        Registry {
            options,
            ballista,
            rules,
            functions,
            formats,
            engine: engine.identity(),
        }
    }

    /// The option a shortened key stands for: `execution.batch_size` (without `datafusion.`), or the
    /// one key that ends with it (`batch_size`).
    pub fn expand_short_key(&self, name: &str) -> Option<String> {
        let prefixed = format!("datafusion.{name}");
        if self.option(&prefixed).is_some() {
            return Some(prefixed);
        }
        let suffix = format!(".{name}");
        let mut matches = self.keys().filter(|k| k.ends_with(&suffix));
        match (matches.next(), matches.next()) {
            (Some(only), None) => Some(only.to_string()),
            _ => None,
        }
    }

    /// The installed engine's identity; `None` for vanilla DataFusion.
    pub fn engine(&self) -> Option<&EngineIdentity> {
        self.engine.as_ref()
    }

    /// Every DataFusion option, sorted by key.
    pub fn options(&self) -> impl Iterator<Item = &EngineOption> {
        self.options.values()
    }

    /// Every Ballista option, sorted by key.
    pub fn ballista_options(&self) -> impl Iterator<Item = &EngineOption> {
        self.ballista.values()
    }

    /// A DataFusion or Ballista option.
    pub fn option(&self, key: &str) -> Option<&EngineOption> {
        self.options.get(key).or_else(|| self.ballista.get(key))
    }

    /// Every key a policy may set: DataFusion's, then Ballista's.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.options
            .keys()
            .chain(self.ballista.keys())
            .map(String::as_str)
    }

    /// Whether a session of this engine has a function of this name (as DataFusion normalizes it).
    pub fn has_function(&self, name: &str) -> bool {
        self.functions.contains(name)
    }

    /// Every function a session of this engine has, sorted.
    pub fn functions(&self) -> impl Iterator<Item = &str> {
        self.functions.iter().map(String::as_str)
    }

    /// Whether a session of this engine reads `STORED AS format` (any case).
    pub fn has_format(&self, format: &str) -> bool {
        self.formats.contains(&format.to_uppercase())
    }

    /// Every `STORED AS` format a session of this engine reads, sorted.
    pub fn formats(&self) -> impl Iterator<Item = &str> {
        self.formats.iter().map(String::as_str)
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
    let accepts = |value: &str| config_options().set(key, value).is_ok();
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

impl Registry {
    /// Checks one value for one key the way DataFusion will use it, and returns it in DataFusion's own
    /// rendering (the canonical form: `TRUE` becomes `true`, `1048576` stays `1048576`).
    pub fn check_value(&self, key: &str, value: &str) -> Result<CanonicalValue, ValueError> {
        use RejectedBy::{DataFusion, Dfpolicy};
        if key.starts_with(ballista::BALLISTA_PREFIX) {
            let entry = ballista::catalog().entry(key).ok_or_else(|| ValueError {
                problem: ValueProblem::UnknownKey,
                rejected_by: RejectedBy::Ballista,
                message: format!(
                    "`{key}` is not a Ballista {} option",
                    ballista::BALLISTA_VERSION
                ),
            })?;
            return ballista::check_value(entry, value);
        }
        let option = self.option(key).ok_or_else(|| unknown_key_error(key))?;
        if option.runtime {
            return check_runtime_value(key, option.kind, value);
        }
        let integer = matches!(
            option.kind,
            ValueKind::UnsignedInteger | ValueKind::SignedInteger
        );
        if integer {
            // DataFusion reads a single character as its byte value for `u8` fields ("x" is 120).
            let numeric = value.strip_prefix('-').unwrap_or(value);
            if numeric.is_empty() || !numeric.bytes().all(|b| b.is_ascii_digit()) {
                return Err(ValueError::invalid(
                    Dfpolicy,
                    format!("`{value}` is not an integer"),
                ));
            }
        }
        if option.kind == ValueKind::Float && !value.trim().parse::<f64>().is_ok_and(f64::is_finite)
        {
            // Rust's float parser, which DataFusion uses, also reads `NaN` and `inf`.
            return Err(ValueError::invalid(
                Dfpolicy,
                format!("`{value}` is not a finite number"),
            ));
        }
        let mut scratch = config_options();
        if let Err(error) = scratch.set(key, value) {
            // A well-formed integer can only be refused for its size (below the option's minimum, or
            // beyond its Rust type).
            let problem = if integer {
                ValueProblem::OutOfRange
            } else {
                ValueProblem::Invalid
            };
            return Err(ValueError {
                problem,
                rejected_by: DataFusion,
                message: engine_message(&error),
            });
        }
        let rendered = machine_independent(key, value, render(&scratch, key).unwrap_or_default());
        if let (Some(maximum), Ok(number)) = (option.maximum, rendered.parse::<u64>())
            && number > maximum
        {
            return Err(ValueError::out_of_range(
                Dfpolicy,
                format!("{number} is out of range: the largest allowed value is {maximum}"),
            ));
        }
        if TIME_ZONE_KEYS.contains(&key) {
            Tz::from_str(value).map_err(|e| {
                ValueError::invalid(DataFusion, format!("`{value}` is not a time zone: {e}"))
            })?;
        }
        let (coerce_key, units) = COERCE_INT96;
        if key == coerce_key && !units.contains(&value.to_lowercase().as_str()) {
            // DataFusion's own message, from the function that runs only at scan time.
            return Err(ValueError::invalid(
                DataFusion,
                format!(
                    "Unknown or unsupported parquet coerce_int96: {value}. Valid values are: ns, us, ms, and s."
                ),
            ));
        }
        if key.starts_with(parquet_writer::PREFIX) {
            check_parquet_writer_options(&scratch.execution.parquet).map_err(|p| ValueError {
                problem: ValueProblem::Invalid,
                rejected_by: p.rejected_by,
                message: p.message,
            })?;
        }
        if key == CATALOG_LOCATION {
            check_catalog_location(value)?;
        }
        Ok(CanonicalValue(rendered))
    }
}

/// Why `key` is not an option, as a finding's message.
fn unknown_key_error(key: &str) -> ValueError {
    ValueError {
        problem: ValueProblem::UnknownKey,
        rejected_by: RejectedBy::DataFusion,
        message: unknown_key_message(key),
    }
}

/// Why `key` is not an option, the one wording every stage uses: not one of Ballista's, not one of
/// DataFusion's (a key in its namespace, a bare name, or a shortened key such as
/// `execution.batch_size`), not one of the installed engine's, or under a namespace nobody in this
/// process has (with how an engine adds one).
pub fn unknown_key_message(key: &str) -> String {
    let engine = super::engine::installed();
    let namespace = key.split_once('.').map_or(key, |(prefix, _)| prefix);
    let datafusion_major = DATAFUSION_VERSION.split('.').next().unwrap_or_default();
    if key.starts_with(ballista::BALLISTA_PREFIX) {
        format!(
            "`{key}` is not a Ballista {} option",
            ballista::BALLISTA_VERSION
        )
    } else if namespace == "datafusion"
        || !key.contains('.')
        || registry().expand_short_key(key).is_some()
    {
        format!("`{key}` is not a DataFusion {datafusion_major} option")
    } else if engine.owns_key(key) {
        let name = registry()
            .engine()
            .map_or_else(|| "this engine".into(), |i| format!("engine `{i}`"));
        format!("`{key}` is not an option of {name}")
    } else {
        format!(
            "`{key}` is under `{namespace}`, a namespace neither DataFusion nor this dfpolicy's \
             engine has: an engine adds its own with `Extensions::with_config_extension`, in a \
             dfpolicy built with `dfpolicy::cli::main_with` (see docs/engines.md)"
        )
    }
}

/// The value kinds of the runtime keys. `RuntimeEnvBuilder::entries()` lists the keys but not their
/// types; these are the parsers `SessionContext::set_runtime_variable` applies to each
/// (datafusion 55.2.0 `src/execution/context/mod.rs:1172`): `parse_capacity_limit` for the
/// capacities, `parse_duration` for the TTL, `usize::from_str` for the fan-in, the text as a path for
/// the spill directory. A runtime key missing here is a capacity, as every new one so far has been.
pub const RUNTIME_KINDS: &[(&str, ValueKind)] = &[
    ("datafusion.runtime.temp_directory", ValueKind::Text),
    (
        "datafusion.runtime.list_files_cache_ttl",
        ValueKind::Duration,
    ),
    (
        "datafusion.runtime.max_spill_merge_fan_in",
        ValueKind::UnsignedInteger,
    ),
];
