//! What DataFusion 55 itself knows: every option key with its default and description, the runtime
//! keys, and the rule names of a default session.
//!
//! Nothing here is a hand-written copy of DataFusion's tables. Keys, defaults and descriptions come from
//! `ConfigOptions::entries()` and the runtime builder; each key's value kind is found by asking
//! `ConfigOptions::set` which probe values it accepts, so a new DataFusion release that changes a type
//! changes the registry with it.

pub mod panic_guard;
pub mod parquet_writer;

use std::collections::BTreeMap;
use std::str::FromStr;
use std::sync::OnceLock;

use datafusion::arrow::array::timezone::Tz;
use datafusion::common::config::TableParquetOptions;
use datafusion::common::file_options::parquet_writer::ParquetWriterOptions;
use datafusion::config::{ConfigField, ConfigOptions, Visit};
use datafusion::error::DataFusionError;
use datafusion::execution::SessionStateBuilder;
use datafusion::execution::context::SessionContext;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use serde::Serialize;

/// The DataFusion release this build of dfpolicy embeds.
pub const DATAFUSION_VERSION: &str = datafusion::DATAFUSION_VERSION;

/// Prefix of the runtime keys, which live on `RuntimeEnv` rather than `ConfigOptions`.
pub const RUNTIME_PREFIX: &str = "datafusion.runtime.";

/// Keys whose DataFusion default is the number of CPUs of the machine running the query.
pub const MACHINE_DEPENDENT_KEYS: &[&str] = &[
    "datafusion.execution.target_partitions",
    "datafusion.execution.planning_concurrency",
];

/// Settings every dfpolicy session has whatever the policy says: `information_schema` is on so that a
/// session can report its settings (`capture_session_settings`), and the default catalog and schema
/// exist so that workload tables can be registered. Validation reports a policy that sets them
/// otherwise, since the value would be ignored.
pub const FORCED_SETTINGS: &[(&str, &str)] = &[
    (
        "datafusion.catalog.create_default_catalog_and_schema",
        "true",
    ),
    ("datafusion.catalog.information_schema", "true"),
];

/// An upper bound on an integer option that `ConfigOptions::set` does not enforce.
#[derive(Debug, Clone, Copy)]
pub struct UpperBound {
    pub key: &'static str,
    pub maximum: u64,
    /// Why, and the code it mirrors.
    pub because: &'static str,
}

/// tokio's `batch_semaphore::MAX_PERMITS` (`usize::MAX >> 3`): a bounded channel with more capacity
/// panics when it is created.
const TOKIO_MAX_PERMITS: u64 = (usize::MAX >> 3) as u64;

/// Integer options DataFusion accepts up to `usize::MAX` but then uses to size allocations, partitions
/// or channels, so that a large value aborts the process (a failed allocation cannot be caught) or
/// panics. Found by `tests/it/fuzz.rs`, which tries every integer option at the extremes of its type.
pub const UPPER_BOUNDS: &[UpperBound] = &[
    UpperBound {
        key: "datafusion.optimizer.default_filter_selectivity",
        maximum: 100,
        because: "a percentage (DataFusion's documentation of the option)",
    },
    UpperBound {
        key: "datafusion.execution.target_partitions",
        maximum: 1024,
        because: "DataFusion allocates state per partition and repartitions with one channel per pair of partitions (datafusion-datasource `FileGroup::split_files` aborts on 2^32); 1024 is far above any core count",
    },
    UpperBound {
        key: "datafusion.execution.planning_concurrency",
        maximum: 1024,
        because: "a degree of parallelism like `target_partitions`, bounded alike",
    },
    UpperBound {
        key: "datafusion.execution.minimum_parallel_output_files",
        maximum: 1 << 20,
        because: "datafusion-datasource's write demultiplexer allocates one slot per file up front (aborts on 2^32)",
    },
    UpperBound {
        key: "datafusion.execution.max_buffered_batches_per_output_file",
        maximum: TOKIO_MAX_PERMITS,
        because: "the capacity of a tokio channel (datafusion-datasource write/demux.rs)",
    },
    UpperBound {
        key: "datafusion.execution.parquet.maximum_parallel_row_group_writers",
        maximum: TOKIO_MAX_PERMITS,
        because: "the capacity of a tokio channel (datafusion-datasource-parquet sink.rs)",
    },
    UpperBound {
        key: "datafusion.execution.parquet.maximum_buffered_record_batches_per_stream",
        maximum: TOKIO_MAX_PERMITS,
        because: "the capacity of a tokio channel (datafusion-datasource-parquet sink.rs)",
    },
];

/// The runtime memory limit: 0 is accepted by DataFusion but leaves no memory for any operator.
pub const MEMORY_LIMIT: &str = "datafusion.runtime.memory_limit";

/// The umbrella switch that DataFusion expands into three sub-flags when it is set.
pub const DYNAMIC_FILTER_UMBRELLA: &str = "datafusion.optimizer.enable_dynamic_filter_pushdown";
pub const DYNAMIC_FILTER_SUB_FLAGS: &[&str] = &[
    "datafusion.optimizer.enable_topk_dynamic_filter_pushdown",
    "datafusion.optimizer.enable_join_dynamic_filter_pushdown",
    "datafusion.optimizer.enable_aggregate_dynamic_filter_pushdown",
];

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
        let mut rules = Vec::new();
        for rule in &state.analyzer().rules {
            rules.push((RuleStage::Analyzer, rule.name().to_string()));
        }
        for rule in state.optimizers() {
            rules.push((RuleStage::Logical, rule.name().to_string()));
        }
        for rule in state.physical_optimizers() {
            rules.push((RuleStage::Physical, rule.name().to_string()));
        }
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

    /// The stages a rule name occurs in.
    pub fn rule_stages(&self, name: &str) -> Vec<RuleStage> {
        let mut stages: Vec<RuleStage> = self
            .rules
            .iter()
            .filter(|(_, rule)| rule == name)
            .map(|(stage, _)| *stage)
            .collect();
        stages.dedup();
        stages
    }

    /// Checks one value for one key the way DataFusion will use it, and returns it in DataFusion's own
    /// rendering (the canonical form: `TRUE` becomes `true`, `1048576` stays `1048576`).
    pub fn check_value(&self, key: &str, value: &str) -> Result<CanonicalValue, String> {
        let option = self
            .option(key)
            .ok_or_else(|| format!("`{key}` is not a DataFusion 55 option"))?;
        if option.runtime {
            return check_runtime_value(key, option.kind, value);
        }
        if option.kind == ValueKind::UnsignedInteger || option.kind == ValueKind::SignedInteger {
            // DataFusion reads a single character as its byte value for `u8` fields ("x" is 120).
            let numeric = value.strip_prefix('-').unwrap_or(value);
            if numeric.is_empty() || !numeric.bytes().all(|b| b.is_ascii_digit()) {
                return Err(format!("`{value}` is not an integer"));
            }
        }
        if option.kind == ValueKind::Float && !value.trim().parse::<f64>().is_ok_and(f64::is_finite)
        {
            // Rust's float parser, which DataFusion uses, also reads `NaN` and `inf`.
            return Err(format!("`{value}` is not a finite number"));
        }
        let mut scratch = ConfigOptions::new();
        apply(&mut scratch, key, value)?;
        let rendered = machine_independent(key, value, render(&scratch, key).unwrap_or_default());
        if let (Some(maximum), Ok(number)) = (option.maximum, rendered.parse::<u64>())
            && number > maximum
        {
            return Err(format!(
                "{number} is out of range: the largest allowed value is {maximum}"
            ));
        }
        if key.ends_with(".time_zone") || key.ends_with(".coerce_int96_tz") {
            Tz::from_str(value).map_err(|e| format!("`{value}` is not a time zone: {e}"))?;
        }
        if key.ends_with(".coerce_int96")
            && !["ns", "us", "ms", "s"].contains(&value.to_lowercase().as_str())
        {
            // Mirrors DataFusion's crate-private `parse_coerce_int96_string`, which runs only at scan time.
            return Err(format!(
                "Unknown or unsupported parquet coerce_int96: {value}. Valid values are: ns, us, ms, and s."
            ));
        }
        if key.starts_with("datafusion.execution.parquet.") {
            check_parquet_writer(&scratch)?;
        }
        if key == CATALOG_LOCATION {
            check_catalog_location(value)?;
        }
        Ok(CanonicalValue(rendered))
    }

    /// The default in canonical form, or `None` for NULL and machine-dependent defaults.
    pub fn canonical_default(&self, key: &str) -> Option<&str> {
        self.option(key)
            .and_then(|o| o.canonical_default.as_deref())
    }
}

/// A value in DataFusion's own rendering.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CanonicalValue(pub String);

/// DataFusion's rendering of one option's value, as `entries()` would show it, without rendering the
/// other options.
pub fn render(options: &ConfigOptions, key: &str) -> Option<String> {
    render_within(options, "datafusion", key)
}

/// [`render`] for one namespace of options (`ParquetOptions` under `datafusion.execution.parquet`).
pub fn render_within(options: &impl ConfigField, prefix: &str, key: &str) -> Option<String> {
    struct One<'a> {
        key: &'a str,
        value: Option<String>,
    }
    impl Visit for One<'_> {
        fn some<V: std::fmt::Display>(&mut self, key: &str, value: V, _: &'static str) {
            if key == self.key {
                self.value = Some(value.to_string());
            }
        }
        fn none(&mut self, _: &str, _: &'static str) {}
    }
    let mut visitor = One { key, value: None };
    options.visit(&mut visitor, prefix, "");
    visitor.value
}

/// Applies settings to `options` in the order DataFusion needs — the dynamic-filter umbrella first,
/// since setting it overwrites its three sub-flags — with `None` resetting an option to its default.
/// Returns DataFusion's rendering of each value set; an error names the key.
pub fn apply_settings<'a>(
    options: &mut ConfigOptions,
    settings: impl IntoIterator<Item = (&'a str, Option<&'a str>)>,
) -> Result<BTreeMap<String, String>, (String, DataFusionError)> {
    let mut settings: Vec<(&str, Option<&str>)> = settings.into_iter().collect();
    settings.sort_by_key(|(key, _)| *key != DYNAMIC_FILTER_UMBRELLA);
    let mut rendered = BTreeMap::new();
    for (key, value) in settings {
        let result = match value {
            Some(value) => options.set(key, value),
            None => ConfigField::reset(options, key),
        };
        result.map_err(|e| (key.to_string(), e))?;
        if let Some(value) = value
            && let Some(shown) = render(options, key)
        {
            rendered.insert(key.to_string(), machine_independent(key, value, shown));
        }
    }
    Ok(rendered)
}

/// `ConfigOptions::set` with DataFusion's error chain flattened into one line.
pub fn apply(options: &mut ConfigOptions, key: &str, value: &str) -> Result<(), String> {
    options.set(key, value).map_err(|e| engine_message(&e))
}

/// DataFusion's error text without backtraces, its `caused by` chain joined with `: `.
pub fn engine_message(error: &datafusion::error::DataFusionError) -> String {
    let text = error.to_string();
    let text = text.split("\n\nbacktrace").next().unwrap_or(&text);
    text.split("\ncaused by\n")
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(": ")
}

/// The default catalog's location, which DataFusion reads when a session is built.
pub const CATALOG_LOCATION: &str = "datafusion.catalog.location";

/// Builds the default schema from `location` the way every session does when
/// `datafusion.catalog.format` is set (`SessionStateDefaults::register_default_schema`), which panics
/// on a location that is not a URL with an object-store path.
fn check_catalog_location(location: &str) -> Result<(), String> {
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
        format!(
            "`{location}` is not a location DataFusion can open ({panic}); write a URL such as \"file:///data/warehouse/\" or \"s3://bucket/path/\""
        )
    })
}

/// DataFusion renders a machine-dependent option set to `0` as this machine's CPU count. Compiled
/// settings and hashes keep the `0` (DataFusion's own spelling of "one per CPU"), so that they are the
/// same on every machine; a session resolves it when it is built.
fn machine_independent(key: &str, given: &str, rendered: String) -> String {
    if MACHINE_DEPENDENT_KEYS.contains(&key) && given.trim().parse::<u64>() == Ok(0) {
        "0".to_string()
    } else {
        rendered
    }
}

/// Checks the Parquet writer options of `options` as a whole: the values arrow-rs asserts on (see
/// [`parquet_writer::WRITER_CONSTRAINTS`]), then DataFusion's own conversion, with any panic it still
/// raises turned into an error.
pub fn check_parquet_writer(options: &ConfigOptions) -> Result<(), String> {
    check_parquet_writer_options(&options.execution.parquet).map_err(|problem| problem.message)
}

/// [`check_parquet_writer`] with the options involved in a failure.
pub fn check_parquet_writer_options(
    parquet: &datafusion::config::ParquetOptions,
) -> Result<(), parquet_writer::WriterProblem> {
    if let Some(problem) = parquet_writer::check(parquet).into_iter().next() {
        return Err(problem);
    }
    let mut global = parquet.clone();
    // The writer also insists on an embedded Arrow schema, which only exists when a file is written.
    global.skip_arrow_metadata = true;
    let table = TableParquetOptions {
        global,
        ..TableParquetOptions::default()
    };
    let problem = |message: String| parquet_writer::WriterProblem {
        keys: Vec::new(),
        message,
    };
    panic_guard::without_panicking(|| ParquetWriterOptions::try_from(&table).map(|_| ()))
        .map_err(|panic| problem(format!("the Parquet writer rejects these options: {panic}")))?
        .map_err(|e| problem(engine_message(&e)))
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
    match key.trim_start_matches(RUNTIME_PREFIX) {
        "temp_directory" => ValueKind::Text,
        "list_files_cache_ttl" => ValueKind::Duration,
        "max_spill_merge_fan_in" => ValueKind::UnsignedInteger,
        _ => ValueKind::Capacity,
    }
}

fn check_runtime_value(key: &str, kind: ValueKind, value: &str) -> Result<CanonicalValue, String> {
    match kind {
        ValueKind::Capacity => match parse_capacity(key, value)? {
            0 if key == MEMORY_LIMIT => Err(
                "a memory limit of 0 bytes fails every query; leave the limit unset for none"
                    .to_string(),
            ),
            bytes => Ok(CanonicalValue(bytes.to_string())),
        },
        ValueKind::UnsignedInteger => value
            .parse::<usize>()
            .map(|n| CanonicalValue(n.to_string()))
            .map_err(|_| format!("`{value}` is not an unsigned integer")),
        ValueKind::Duration => parse_minutes_seconds(value)
            .map(|secs| CanonicalValue(format!("{}m{}s", secs / 60, secs % 60))),
        _ => {
            if value.trim().is_empty() {
                Err("the value must not be empty".to_string())
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
pub fn parse_capacity(key: &str, value: &str) -> Result<u64, String> {
    let invalid = || {
        format!(
            "`{value}` is not a byte capacity; write a number of bytes or a number with a unit K, M or G, such as \"512M\" or \"1.5G\""
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
        format!(
            "`{value}` is larger than this machine can address ({} bytes)",
            usize::MAX
        )
    };
    let whole: u128 = whole.parse().map_err(|_| too_large())?;
    let mut bytes = whole.checked_mul(multiplier).ok_or_else(too_large)?;
    if !fraction.is_empty() {
        let denominator = 10u128.pow(fraction.len() as u32);
        let scaled = fraction.parse::<u128>().map_err(|_| invalid())? * multiplier;
        if !scaled.is_multiple_of(denominator) {
            return Err(format!("`{value}` is not a whole number of bytes"));
        }
        bytes += scaled / denominator;
    }
    let bytes = usize::try_from(bytes).map_err(|_| too_large())?;
    if multiplier > 1 {
        let engine =
            SessionContext::parse_capacity_limit(key, value).map_err(|e| engine_message(&e))?;
        if engine != bytes {
            return Err(format!(
                "DataFusion reads `{value}` as {engine} bytes rather than {bytes}; write the number of bytes"
            ));
        }
    }
    Ok(bytes as u64)
}

/// The `5m`, `30s`, `5m30s` form that `SET datafusion.runtime.list_files_cache_ttl` takes, in seconds.
pub fn parse_minutes_seconds(value: &str) -> Result<u64, String> {
    let invalid = || {
        format!(
            "`{value}` is not a duration; write minutes and/or seconds such as \"5m\", \"90s\" or \"1m30s\""
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
        return Err("the duration must be greater than zero".to_string());
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probes_find_the_kinds_datafusion_uses() {
        let r = registry();
        let kind = |k: &str| r.option(k).unwrap().kind;
        assert_eq!(
            kind("datafusion.execution.batch_size"),
            ValueKind::UnsignedInteger
        );
        assert_eq!(
            r.option("datafusion.execution.batch_size").unwrap().minimum,
            Some(1)
        );
        assert_eq!(
            kind("datafusion.optimizer.prefer_hash_join"),
            ValueKind::Boolean
        );
        assert_eq!(kind("datafusion.explain.format"), ValueKind::Choice);
        assert_eq!(kind("datafusion.catalog.default_catalog"), ValueKind::Text);
        assert_eq!(
            kind("datafusion.execution.perfect_hash_join_min_key_density"),
            ValueKind::Float
        );
        assert_eq!(kind("datafusion.runtime.memory_limit"), ValueKind::Capacity);
        assert!(
            r.option("datafusion.execution.target_partitions")
                .unwrap()
                .machine_dependent
        );
    }

    #[test]
    fn check_value_canonicalizes_and_rejects() {
        let r = registry();
        assert_eq!(
            r.check_value("datafusion.optimizer.prefer_hash_join", "TRUE")
                .unwrap()
                .0,
            "true"
        );
        assert!(
            r.check_value("datafusion.execution.batch_size", "0")
                .is_err()
        );
        assert!(
            r.check_value("datafusion.optimizer.default_filter_selectivity", "x")
                .is_err()
        );
        assert!(
            r.check_value("datafusion.optimizer.default_filter_selectivity", "101")
                .is_err()
        );
        assert!(
            r.check_value("datafusion.execution.parquet.compression", "zstd(99)")
                .is_err()
        );
        assert!(
            r.check_value("datafusion.execution.time_zone", "Mars/Olympus")
                .is_err()
        );
        assert_eq!(
            r.check_value("datafusion.runtime.memory_limit", "1G")
                .unwrap()
                .0,
            "1073741824"
        );
        assert_eq!(
            r.check_value("datafusion.runtime.list_files_cache_ttl", "90s")
                .unwrap()
                .0,
            "1m30s"
        );
    }

    #[test]
    fn render_matches_entries() {
        let mut options = ConfigOptions::new();
        options
            .set("datafusion.execution.batch_size", "1024")
            .unwrap();
        for entry in options.entries() {
            assert_eq!(render(&options, &entry.key), entry.value, "{}", entry.key);
        }
    }

    #[test]
    fn canonical_defaults_are_what_check_value_returns() {
        let r = registry();
        for option in r.options() {
            if let Some(default) = &option.default
                && !option.machine_dependent
            {
                let checked = r.check_value(&option.key, default).unwrap();
                assert_eq!(
                    option.canonical_default.as_deref(),
                    Some(checked.0.as_str()),
                    "{}",
                    option.key
                );
            }
        }
    }

    #[test]
    fn default_rules_are_known() {
        let r = registry();
        assert!(
            r.rule_stages("push_down_filter")
                .contains(&RuleStage::Logical)
        );
        assert!(
            r.rule_stages("type_coercion")
                .contains(&RuleStage::Analyzer)
        );
        assert!(
            r.rule_stages("join_selection")
                .contains(&RuleStage::Physical)
        );
    }
}
