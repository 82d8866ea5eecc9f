//! Settings sensitivity: which DataFusion options move which plans of a workload, and at which values.
//!
//! For every option (or those a glob selects), candidate values come from its kind and from the
//! workload itself — a boolean flipped; every word of a choice; integer thresholds just below and just
//! above each table's size in bytes or rows, plus 0, 1, half, double and the largest value — and each
//! candidate is the base policy with that one setting changed, planned over every query cell as a full
//! bundle (nothing executed). A cell is moved when its logical or physical plan differs from the base
//! policy's, or only its EXPLAIN renderings. For an integer key whose plans differ between two
//! neighbouring candidates, the exact flip point is found by bisection.
//!
//! Tables are registered once per candidate in sessions that share one runtime environment, so
//! Parquet footers and file statistics are read once for the whole sweep; candidates are planned in
//! parallel across cores.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use serde::{Deserialize, Serialize};

use crate::bundle::{Analysis, BundleError, PlanBundle};
use crate::compile::CompiledPolicy;
use crate::harness::planning::{
    PlanningEnvironment, PlanningError, default_jobs, on_workers, plan_cells_on,
};
use crate::harness::{Cause, Comparison, FirstDifference, PolicySet, first_differing_rule};
use crate::registry::{
    EngineOption, RUNTIME_PREFIX, SettingClass, ValueError, ValueKind, classify, parse_capacity,
    registry, toml_literal,
};
use crate::workload::Workload;

named_enum! {
    names = "kebab-case";
    /// How a cell's planning moved under a candidate value.
    pub enum Movement {
        /// The logical plan differs (and so, usually, the physical one).
        Logical,
        /// The physical plan differs, the logical one does not.
        Physical,
        /// Only the EXPLAIN renderings differ.
        Rendering,
        /// The cell plans under the base policy and fails under the candidate (or the other way).
        Failed,
    }
}

/// One candidate value of a key and what it moves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValueOutcome {
    /// The value as DataFusion takes it.
    pub value: String,
    /// The value as a TOML literal that pastes into a policy's `[settings]`.
    pub toml: String,
    /// The query cells whose planning moved, sorted.
    pub changed: Vec<String>,
    /// How each of them moved.
    pub movements: BTreeMap<String, Movement>,
    /// Where the first changed cell's planning first differs (with the optimizer trace on).
    pub first_rule: Option<FirstRule>,
    /// The value cannot be set (DataFusion or dfpolicy rejects it): nothing was planned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejected: Option<String>,
}

/// The first rule whose output differs, for one cell.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FirstRule {
    /// The query cell.
    pub query: String,
    /// `logical #12 push_down_filter`, or the plan a phase starts from when no rule is to blame.
    pub rule: String,
}

/// Where an integer key's plans flip for one query: below `at` one plan, from `at` on another.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlipPoint {
    /// The query cell.
    pub query: String,
    /// The smallest value with the plan of the larger values.
    pub at: String,
    /// The first line that differs: below `at` …
    pub below: String,
    /// … and from `at` on.
    pub from: String,
}

/// One key's sweep.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeySensitivity {
    /// The key.
    pub key: String,
    /// The key's class.
    pub class: SettingClass,
    /// The base policy's value.
    pub current: Option<String>,
    /// Each value tried, with the cells it moved.
    pub values: Vec<ValueOutcome>,
    /// Where an integer key's plans flip, per query.
    pub flip_points: Vec<FlipPoint>,
}

impl KeySensitivity {
    /// The cells any value moves.
    pub fn moved(&self) -> BTreeSet<&str> {
        self.values
            .iter()
            .flat_map(|v| v.changed.iter().map(String::as_str))
            .collect()
    }

    /// The cells any value moves in a way its class forbids: any movement for execution-only and
    /// writer keys, more than the rendering for display keys.
    pub fn breaks_class(&self) -> BTreeSet<&str> {
        let allowed = |movement: Movement| match self.class {
            SettingClass::ExecutionOnly | SettingClass::Writer => false,
            SettingClass::Display => movement == Movement::Rendering,
            _ => true,
        };
        self.values
            .iter()
            .flat_map(|v| v.movements.iter())
            .filter(|(_, movement)| !allowed(**movement))
            .map(|(cell, _)| cell.as_str())
            .collect()
    }
}

/// A whole sweep: `{"policy", "workload", "cells", "keys": [...]}`, keys sorted by how many cells
/// they move (most first), then by name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sensitivity {
    /// The base policy's name.
    pub policy: String,
    /// The workload's name.
    pub workload: String,
    /// How many query cells each candidate planned.
    pub cells: usize,
    /// Candidates planned (bisection steps included).
    pub candidates: usize,
    /// Every key swept, those that move the most cells first.
    pub keys: Vec<KeySensitivity>,
}

impl Sensitivity {
    /// The sweep of one key.
    pub fn key(&self, key: &str) -> Option<&KeySensitivity> {
        self.keys.iter().find(|k| k.key == key)
    }

    /// The keys that move plans their class forbids (`sensitivity --audit`'s findings), in the
    /// sweep's order.
    pub fn class_breaks(&self) -> Vec<ClassBreak> {
        self.keys
            .iter()
            .filter_map(|key| {
                let cells: Vec<String> = key.breaks_class().into_iter().map(String::from).collect();
                (!cells.is_empty()).then(|| ClassBreak {
                    key: key.key.clone(),
                    class: key.class,
                    cells,
                    of: self.cells,
                    workload: self.workload.clone(),
                })
            })
            .collect()
    }
}

/// A key whose class says it cannot move what the sweep saw it move.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassBreak {
    /// The key.
    pub key: String,
    /// Its class.
    pub class: SettingClass,
    /// The cells it moves in a way its class forbids, sorted.
    pub cells: Vec<String>,
    /// How many cells the sweep planned.
    pub of: usize,
    /// The workload swept.
    pub workload: String,
}

impl std::fmt::Display for ClassBreak {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "`{}` is classified {} but moves {} of {} query cells of `{}` ({})",
            self.key,
            self.class,
            self.cells.len(),
            self.of,
            self.workload,
            self.cells.join(" ")
        )
    }
}

/// Why a sweep could not run.
#[derive(Debug, thiserror::Error)]
pub enum SensitivityError {
    /// DataFusion refused the base policy's session.
    #[error("the base policy's sessions cannot be made")]
    Session(#[source] datafusion::error::DataFusionError),
    /// The workload's tables could not be registered.
    #[error("the workload cannot be set up under the base policy")]
    Workload(#[source] Box<crate::workload::WorkloadError>),
    /// The base plans, which candidates are compared with, could not be made.
    #[error("the workload cannot be planned under the base policy")]
    BasePlanning(#[source] PlanningError),
    /// The table sizes thresholds are tried around could not be read.
    #[error("the workload's sizes cannot be read")]
    Sizes(#[source] Box<crate::workload::WorkloadError>),
    /// The async runtime did not start.
    #[error("cannot start the async runtime")]
    Runtime(#[source] std::io::Error),
    /// The planning workers stopped.
    #[error("the sweep's workers stopped")]
    Workers(#[from] PlanningError),
    /// The sweep could not be written.
    #[error("{}: cannot write the sweep", path.display())]
    Write {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// What a sweep covers.
#[derive(Debug, Clone)]
pub struct SweepOptions {
    /// Only keys matching this glob (`datafusion.optimizer.*`); all when `None`.
    pub keys: Option<glob::Pattern>,
    /// Only keys of these classes; all when empty.
    pub classes: Vec<SettingClass>,
    /// Candidates planned at once.
    pub jobs: usize,
    /// Find integer flip points by bisection.
    pub bisect: bool,
}

impl Default for SweepOptions {
    fn default() -> Self {
        SweepOptions {
            keys: None,
            classes: Vec::new(),
            jobs: default_jobs(),
            bisect: true,
        }
    }
}

/// Words DataFusion's choice options take; each is tried and kept where the registry accepts it.
const CHOICE_WORDS: &[&str] = &[
    "indent",
    "tree",
    "pgjson",
    "graphviz",
    "summary",
    "dev",
    "page",
    "chunk",
    "none",
    "rows",
    "bytes",
    "1.0",
    "2.0",
    "nulls_min",
    "nulls_max",
    "nulls_first",
    "nulls_last",
    "ms",
    "us",
    "ns",
    "s",
];

/// Free-text options whose meaningful values are known: everything else that takes free text
/// (names, paths, formats of text) is left out of the sweep.
const TEXT_VALUES: &[(&str, &[&str])] = &[
    (
        "datafusion.sql_parser.dialect",
        &[
            "generic",
            "postgresql",
            "mysql",
            "ansi",
            "hive",
            "sqlite",
            "duckdb",
            "bigquery",
        ],
    ),
    (
        "datafusion.sql_parser.default_null_ordering",
        &["nulls_min", "nulls_max", "nulls_first", "nulls_last"],
    ),
    ("datafusion.execution.time_zone", &["+00:00", "+05:30"]),
];

/// Sizes of the workload's tables: what integer thresholds are tried around.
#[derive(Debug, Clone, Default)]
pub struct WorkloadSizes {
    /// Each local table's data bytes (its files, a Delta log left out).
    pub bytes: BTreeSet<u64>,
    /// Each table's exact row count, where known.
    pub rows: BTreeSet<u64>,
}

impl WorkloadSizes {
    /// Each table's data bytes (its files, Delta logs left out) and exact row count where known.
    pub async fn of(workload: &Workload) -> Result<WorkloadSizes, crate::workload::WorkloadError> {
        let facts = crate::workload::show::workload_facts(workload).await?;
        let mut sizes = WorkloadSizes::default();
        for (table, fact) in workload.tables.iter().zip(&facts.tables) {
            if let Some(rows) = fact.rows {
                sizes.rows.insert(rows);
            }
            if let crate::workload::Location::Local(path) = &table.location {
                let files = table.served_from.files(path).unwrap_or_default();
                let bytes: u64 = files
                    .iter()
                    .filter(|f| !f.components().any(|c| c.as_os_str() == "_delta_log"))
                    .filter_map(|f| table.served_from.size(f).ok())
                    .sum();
                sizes.bytes.insert(bytes);
            }
        }
        Ok(sizes)
    }
}

/// The values tried for `option` around `current`, in the order DataFusion would sort them
/// (numerically for numbers), each once and none equal to `current`.
pub fn candidates(
    option: &EngineOption,
    current: Option<&str>,
    sizes: &WorkloadSizes,
) -> Vec<String> {
    let registry = registry();
    let canonical = |value: &str| registry.check_value(&option.key, value).ok().map(|c| c.0);
    let current_canonical = current.and_then(canonical);
    let mut values: Vec<String> = match option.kind {
        ValueKind::Boolean => vec!["true".into(), "false".into()],
        ValueKind::Choice => CHOICE_WORDS.iter().map(|w| w.to_string()).collect(),
        ValueKind::Text => TEXT_VALUES
            .iter()
            .find(|(key, _)| *key == option.key)
            .map(|(_, words)| words.iter().map(|w| w.to_string()).collect())
            .unwrap_or_default(),
        ValueKind::Float => vec!["0.0".into(), "0.5".into(), "1.0".into()],
        ValueKind::Duration => vec!["0s".into(), "1m".into()],
        ValueKind::UnsignedInteger | ValueKind::SignedInteger | ValueKind::Capacity => {
            integer_candidates(option, current_canonical.as_deref(), sizes)
        }
    };
    let mut seen = BTreeSet::new();
    values.retain(|value| match canonical(value) {
        Some(c) => Some(&c) != current_canonical.as_ref() && seen.insert(c),
        None => false,
    });
    if matches!(
        option.kind,
        ValueKind::UnsignedInteger | ValueKind::SignedInteger | ValueKind::Capacity
    ) {
        values.sort_by_key(|v| integer_of(option, v));
    }
    values
}

/// 0, 1, half, double and the largest value; for a threshold of bytes or rows, one below and one
/// above each of the workload's sizes.
fn integer_candidates(
    option: &EngineOption,
    current: Option<&str>,
    sizes: &WorkloadSizes,
) -> Vec<String> {
    let current = current.and_then(|c| c.parse::<u64>().ok());
    let largest = option.maximum.unwrap_or(if option.runtime {
        // Capacities are written with a unit; a terabyte is as large as any cache gets.
        1 << 40
    } else {
        u64::MAX / 2
    });
    let mut numbers = vec![0, 1, largest];
    if let Some(current) = current {
        numbers.extend([current / 2, current.saturating_mul(2)]);
    }
    let name = option.key.rsplit('.').next().unwrap_or(&option.key);
    // A writer option's sizes are compared with the files being written, never with the tables
    // read: the workload's sizes mean nothing to it.
    let threshold = classify(option).0 != SettingClass::Writer
        && ["threshold", "size", "bytes", "rows", "limit"]
            .iter()
            .any(|word| name.contains(word));
    if threshold {
        let around = if name.contains("rows") {
            &sizes.rows
        } else {
            &sizes.bytes
        };
        for size in around {
            numbers.extend([size.saturating_sub(1), size + 1]);
        }
    }
    numbers
        .into_iter()
        .filter(|n| *n <= largest)
        .map(|n| {
            if option.kind == ValueKind::Capacity {
                capacity_text(n)
            } else {
                n.to_string()
            }
        })
        .collect()
}

/// A byte count as a runtime capacity (`"1048576K"` when it divides, else bytes with `K` rounded
/// up: capacities take units only).
fn capacity_text(bytes: u64) -> String {
    if bytes == 0 {
        "0".to_string()
    } else {
        format!("{}K", bytes.div_ceil(1024))
    }
}

fn integer_of(option: &EngineOption, value: &str) -> u64 {
    if option.kind == ValueKind::Capacity {
        parse_capacity(&option.key, value).unwrap_or(u64::MAX)
    } else {
        value.parse().unwrap_or(u64::MAX)
    }
}

/// Why a candidate value was not planned.
#[derive(Debug, thiserror::Error)]
pub enum CandidateError {
    /// The value is not one the key can take.
    #[error(transparent)]
    Rejected(#[from] ValueError),
    /// The value does not fit the compiled runtime section.
    #[error("`{key}` = {value} does not fit the runtime section")]
    Runtime {
        /// The key.
        key: String,
        /// The value.
        value: String,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
    /// Planning under the value failed.
    #[error(transparent)]
    Planning(#[from] PlanningError),
}

/// `base` with one setting changed, checked as DataFusion would check it.
pub fn with_setting(
    base: &CompiledPolicy,
    option: &EngineOption,
    value: &str,
) -> Result<CompiledPolicy, CandidateError> {
    let canonical = registry().check_value(&option.key, value)?.0;
    let mut compiled = base.clone();
    if option.runtime {
        let field = option.key.trim_start_matches(RUNTIME_PREFIX);
        let runtime_error = |source| CandidateError::Runtime {
            key: option.key.clone(),
            value: value.to_string(),
            source,
        };
        let mut runtime = serde_json::to_value(&compiled.runtime).map_err(runtime_error)?;
        let number = canonical.parse::<u64>().ok();
        runtime[field] = match number {
            Some(n) => serde_json::Value::from(n),
            None => serde_json::Value::from(value),
        };
        compiled.runtime = serde_json::from_value(runtime).map_err(runtime_error)?;
    } else {
        compiled
            .settings
            .insert(option.key.clone(), Some(canonical));
    }
    Ok(compiled)
}

/// A cell's bundle, or why it could not be built.
type CellBundle = Result<PlanBundle, Arc<BundleError>>;

/// One cell's planning, as compared: the plan texts, the renderings, and the whole bundle for the
/// trace (or why it failed).
type CellPlans = BTreeMap<String, CellBundle>;

/// How a cell moved between two bundles, if it did.
fn movement(base: &CellBundle, other: &CellBundle) -> Option<Movement> {
    match (base, other) {
        (Ok(base), Ok(other)) => {
            let (a, b) = (&base.plans, &other.plans);
            let planned =
                |p: &crate::bundle::Plans| (p.optimized_logical.is_some(), p.physical.is_some());
            if planned(a) != planned(b) {
                // One side's planning stopped (its bundle's warnings say where).
                Some(Movement::Failed)
            } else if a.initial_logical != b.initial_logical
                || a.optimized_logical != b.optimized_logical
            {
                Some(Movement::Logical)
            } else if a.physical != b.physical {
                // EXPLAIN's own additions (`show_schema`, `show_statistics`) are the rendering.
                if structure(a.physical.as_deref()) == structure(b.physical.as_deref()) {
                    Some(Movement::Rendering)
                } else {
                    Some(Movement::Physical)
                }
            } else if a.renderings != b.renderings {
                Some(Movement::Rendering)
            } else {
                None
            }
        }
        (Err(a), Err(b)) if a.to_string() == b.to_string() => None,
        _ => Some(Movement::Failed),
    }
}

/// A physical plan's text without what `EXPLAIN` adds on request to every line: the output schema
/// (`datafusion.explain.show_schema`) and the statistics (`show_statistics`).
fn structure(text: Option<&str>) -> Option<String> {
    text.map(|text| {
        text.lines()
            .map(|line| {
                let cut = [", schema=[", ", statistics=["]
                    .iter()
                    .filter_map(|marker| line.find(marker))
                    .min()
                    .unwrap_or(line.len());
                &line[..cut]
            })
            .collect::<Vec<_>>()
            .join("\n")
    })
}

/// Every analysis a bundle can leave out: a sweep compares plans and renderings only.
const ANALYSES: [Analysis; 6] = [
    Analysis::PhysicalTopologyHash,
    Analysis::Statistics,
    Analysis::Properties,
    Analysis::Pushdown,
    Analysis::Lineage,
    Analysis::Substrait,
];

/// The sweep's shared parts: the workload, its cells, the base policy and its bundles.
struct Sweep<'a> {
    workload: &'a Workload,
    base: &'a CompiledPolicy,
    /// The base policy's runtime environment, shared by every candidate with its `[runtime]`.
    environment: PlanningEnvironment,
    base_plans: CellPlans,
    planned: AtomicUsize,
}

impl Sweep<'_> {
    /// Every cell (or only one) planned under `compiled` through the one planning loop, one cell
    /// at a time: candidates are planned in parallel instead. A candidate with the base policy's
    /// `[runtime]` shares its environment; one with a runtime key of its own gets its own.
    fn plan(
        &self,
        runtime: &tokio::runtime::Runtime,
        compiled: &CompiledPolicy,
        only: Option<&str>,
    ) -> Result<CellPlans, PlanningError> {
        self.planned.fetch_add(1, Ordering::Relaxed);
        let own;
        let environment = if compiled.runtime == self.base.runtime {
            &self.environment
        } else {
            own = PlanningEnvironment::new().jobs(1);
            &own
        };
        let plans = plan_cells_on(
            runtime,
            compiled,
            self.workload,
            environment,
            async |bundler, cell| {
                if only.is_some_and(|only| only != cell.name()) {
                    return None;
                }
                // Only the plans and renderings are compared: the analyses are left out.
                let builder = ANALYSES
                    .iter()
                    .fold(cell.bundle(bundler), |builder, analysis| {
                        builder.skip(*analysis)
                    });
                Some(builder.await.map_err(Arc::new))
            },
        )?;
        Ok(plans
            .into_iter()
            .filter_map(|(cell, plans)| Some((cell, plans?)))
            .collect())
    }

    /// A candidate's outcome against the base policy.
    fn outcome(
        &self,
        option: &EngineOption,
        value: &str,
        plans: Result<CellPlans, CandidateError>,
    ) -> ValueOutcome {
        let mut outcome = ValueOutcome {
            value: value.to_string(),
            toml: toml_literal(option.kind, value),
            changed: Vec::new(),
            movements: BTreeMap::new(),
            first_rule: None,
            rejected: None,
        };
        let plans = match plans {
            Ok(plans) => plans,
            Err(error) => {
                outcome.rejected = Some(crate::report::causes::one_line(&error));
                return outcome;
            }
        };
        for (cell, base) in &self.base_plans {
            let Some(other) = plans.get(cell) else {
                continue;
            };
            if let Some(moved) = movement(base, other) {
                outcome.changed.push(cell.clone());
                outcome.movements.insert(cell.clone(), moved);
                if outcome.first_rule.is_none()
                    && let (Ok(base), Ok(other)) = (base, other)
                {
                    outcome.first_rule = first_differing_rule(base, other).map(|d| FirstRule {
                        query: cell.clone(),
                        rule: describe(&d),
                    });
                }
            }
        }
        outcome
    }
}

fn describe(difference: &FirstDifference) -> String {
    match &difference.rule {
        Some(rule) => rule.to_string(),
        None => format!("before any rule ({})", difference.plan),
    }
}

/// Sweeps the settings of `base` over `workload`.
pub fn sweep(
    base: &CompiledPolicy,
    workload: &Workload,
    options: &SweepOptions,
) -> Result<Sensitivity, SensitivityError> {
    let setup = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(SensitivityError::Runtime)?;
    setup
        .block_on(workload.prepare_data())
        .map_err(|e| SensitivityError::Workload(Box::new(e)))?;
    let sizes = setup
        .block_on(WorkloadSizes::of(workload))
        .map_err(|e| SensitivityError::Sizes(Box::new(e)))?;
    // Caches large enough for a lake's footers, shared by every candidate's sessions.
    let runtime = RuntimeEnvBuilder::new()
        .with_metadata_cache_limit(1 << 32)
        .with_file_statistics_cache_limit(1 << 32)
        .with_object_list_cache_limit(1 << 30)
        .build_arc()
        .map_err(SensitivityError::Session)?;
    drop(setup);
    let mut sweep = Sweep {
        workload,
        base,
        environment: PlanningEnvironment::new()
            .jobs(1)
            .with_runtime_env(base.runtime.clone(), runtime),
        base_plans: BTreeMap::new(),
        planned: AtomicUsize::new(0),
    };
    let base_plans = on_workers(1, &[()], |runtime, ()| sweep.plan(runtime, base, None))?
        .pop()
        .expect("one result")
        .map_err(SensitivityError::BasePlanning)?;
    sweep.base_plans = base_plans;

    let options_of: Vec<&EngineOption> = registry()
        .options()
        .filter(|o| options.keys.as_ref().is_none_or(|p| p.matches(&o.key)))
        .filter(|o| options.classes.is_empty() || options.classes.contains(&classify(o).0))
        .collect();
    let mut work: Vec<(&EngineOption, String)> = Vec::new();
    for option in &options_of {
        let current = current_value(base, option);
        for value in candidates(option, current.as_deref(), &sizes) {
            work.push((option, value));
        }
    }
    let sweep = &sweep;
    let outcomes = on_workers(options.jobs, &work, |runtime, (option, value)| {
        let plans = with_setting(base, option, value).and_then(|compiled| {
            sweep
                .plan(runtime, &compiled, None)
                .map_err(CandidateError::Planning)
        });
        sweep.outcome(option, value, plans)
    })?;

    let mut keys: Vec<KeySensitivity> = options_of
        .iter()
        .map(|option| KeySensitivity {
            key: option.key.clone(),
            class: classify(option).0,
            current: current_value(base, option),
            values: work
                .iter()
                .zip(&outcomes)
                .filter(|((o, _), _)| o.key == option.key)
                .map(|(_, outcome)| outcome.clone())
                .collect(),
            flip_points: Vec::new(),
        })
        .collect();
    if options.bisect {
        for key in &mut keys {
            let option = registry().option(&key.key).expect("a registry key");
            if matches!(
                option.kind,
                ValueKind::UnsignedInteger | ValueKind::SignedInteger
            ) {
                key.flip_points = flip_points(sweep, option, key, options.jobs)?;
            }
        }
    }
    keys.sort_by(|a, b| {
        b.moved()
            .len()
            .cmp(&a.moved().len())
            .then_with(|| a.key.cmp(&b.key))
    });
    Ok(Sensitivity {
        policy: base.policy.clone(),
        workload: workload.name.clone(),
        cells: sweep.base_plans.len(),
        candidates: sweep.planned.load(Ordering::Relaxed),
        keys,
    })
}

/// `dfpolicy sensitivity` as one call: `base` swept over each workload, in order.
pub fn sweep_workloads(
    base: &CompiledPolicy,
    workloads: &[Workload],
    options: &SweepOptions,
) -> Result<Vec<Sensitivity>, SensitivityError> {
    workloads
        .iter()
        .map(|workload| sweep(base, workload, options))
        .collect()
}

/// The base policy's value of a key, as the registry writes it.
fn current_value(base: &CompiledPolicy, option: &EngineOption) -> Option<String> {
    if option.runtime {
        let field = option.key.trim_start_matches(RUNTIME_PREFIX);
        let runtime = serde_json::to_value(&base.runtime).ok()?;
        match &runtime[field] {
            serde_json::Value::Number(n) => Some(n.to_string()),
            serde_json::Value::String(s) => Some(s.clone()),
            _ => None,
        }
    } else {
        base.settings.get(&option.key).cloned().flatten()
    }
}

/// The exact values where an integer key's plans flip: between neighbouring candidates (the base
/// value among them) whose plans of a cell differ, the smallest value with the larger one's plan.
fn flip_points(
    sweep: &Sweep<'_>,
    option: &EngineOption,
    key: &KeySensitivity,
    jobs: usize,
) -> Result<Vec<FlipPoint>, SensitivityError> {
    // Each point's plans by cell: the candidates' outcomes say which cells differ from the base.
    let mut points: Vec<(u64, BTreeSet<&str>)> = key
        .values
        .iter()
        .filter(|v| v.rejected.is_none())
        .map(|v| {
            (
                integer_of(option, &v.value),
                v.changed.iter().map(String::as_str).collect(),
            )
        })
        .collect();
    if let Some(current) = key.current.as_deref().and_then(|c| c.parse().ok()) {
        points.push((current, BTreeSet::new()));
    }
    points.sort_by_key(|(value, _)| *value);
    // Neighbours whose moved cells differ bracket a flip of those cells (a cell moved at one and
    // not the other; two different moves of one cell are found as two flips from the base).
    let mut searches: Vec<(String, u64, u64)> = Vec::new();
    for pair in points.windows(2) {
        let ((low, low_moved), (high, high_moved)) = (&pair[0], &pair[1]);
        for cell in low_moved.symmetric_difference(high_moved) {
            searches.push((cell.to_string(), *low, *high));
        }
    }
    let found = on_workers(jobs, &searches, |runtime, (cell, low, high)| {
        bisect(sweep, runtime, option, cell, *low, *high)
    })?;
    Ok(found.into_iter().flatten().collect())
}

/// The smallest value in `(low, high]` whose plan of `cell` is `high`'s, with the first lines that
/// differ on each side.
fn bisect(
    sweep: &Sweep<'_>,
    runtime: &tokio::runtime::Runtime,
    option: &EngineOption,
    cell: &str,
    mut low: u64,
    mut high: u64,
) -> Option<FlipPoint> {
    let plan_at = |value: u64| -> Option<CellBundle> {
        let compiled = with_setting(sweep.base, option, &value.to_string()).ok()?;
        let mut plans = sweep.plan(runtime, &compiled, Some(cell)).ok()?;
        plans.remove(cell)
    };
    let high_plan = plan_at(high)?;
    let mut low_plan = plan_at(low)?;
    movement(&low_plan, &high_plan)?;
    while high - low > 1 {
        let middle = low + (high - low) / 2;
        let plan = plan_at(middle)?;
        if movement(&plan, &high_plan).is_none() {
            high = middle;
        } else {
            low = middle;
            low_plan = plan;
        }
    }
    let (below, from) = first_differing_line(&low_plan, &high_plan);
    Some(FlipPoint {
        query: cell.to_string(),
        at: high.to_string(),
        below,
        from,
    })
}

/// The first line that differs between two bundles' plans (physical, else logical, else the
/// renderings), each cut to its operator and mode.
fn first_differing_line(a: &CellBundle, b: &CellBundle) -> (String, String) {
    let text = |bundle: &CellBundle| -> Vec<String> {
        match bundle {
            Err(error) => vec![format!("error: {error}")],
            Ok(bundle) if bundle.plans.physical.is_none() => bundle
                .warnings
                .iter()
                .map(|w| format!("does not plan: {}", w.message))
                .collect(),
            Ok(bundle) => {
                let plans = &bundle.plans;
                [
                    &plans.physical,
                    &plans.optimized_logical,
                    &plans.initial_logical,
                ]
                .into_iter()
                .flatten()
                .flat_map(|t| t.lines().map(str::to_string).collect::<Vec<_>>())
                .chain(
                    plans
                        .renderings
                        .iter()
                        .flat_map(|r| r.text.lines().map(str::to_string).collect::<Vec<_>>()),
                )
                .collect()
            }
        }
    };
    let (a, b) = (text(a), text(b));
    let short = |line: &str| {
        let line = line.trim();
        let cut = line
            .find(", ")
            .or_else(|| line.find('['))
            .unwrap_or(line.len())
            .min(120);
        line[..cut].to_string()
    };
    for (x, y) in a.iter().zip(&b) {
        if x != y {
            let (x_short, y_short) = (short(x), short(y));
            if x_short != y_short {
                return (x_short, y_short);
            }
            // The operator and mode are the same: the whole lines, as far as they fit a line.
            let whole = |line: &str| line.trim().chars().take(160).collect::<String>();
            return (whole(x), whole(y));
        }
    }
    let missing = |v: &[String], other: &[String]| {
        v.get(other.len())
            .map_or_else(|| "(nothing)".to_string(), |l| short(l))
    };
    (missing(&a, &b), missing(&b, &a))
}

/// The sweep for people: the keys that move plans, most first, each with a line per value that moves
/// something and its flip points; then how many keys move nothing.
pub fn human(sensitivity: &Sensitivity) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "sensitivity of policy `{}` over `{}`: {} query cells, {} candidates planned",
        sensitivity.policy, sensitivity.workload, sensitivity.cells, sensitivity.candidates
    );
    let moving: Vec<&KeySensitivity> = sensitivity
        .keys
        .iter()
        .filter(|k| !k.moved().is_empty())
        .collect();
    let width = moving.iter().map(|k| k.key.len()).max().unwrap_or(3);
    let _ = writeln!(out, "\n{:<width$}  {:<14}  moves", "key", "class");
    for key in &moving {
        let _ = writeln!(
            out,
            "{:<width$}  {:<14}  {} of {}",
            key.key,
            key.class.to_string(),
            key.moved().len(),
            sensitivity.cells
        );
    }
    for key in &moving {
        let _ = writeln!(
            out,
            "\n{} ({}; now {})",
            key.key,
            key.class,
            key.current.as_deref().unwrap_or("NULL")
        );
        for value in &key.values {
            if let Some(rejected) = &value.rejected {
                let _ = writeln!(out, "  = {}: rejected: {rejected}", value.toml);
                continue;
            }
            if value.changed.is_empty() {
                continue;
            }
            let mut kinds: BTreeMap<Movement, Vec<&str>> = BTreeMap::new();
            for (cell, movement) in &value.movements {
                kinds.entry(*movement).or_default().push(cell);
            }
            let kinds: Vec<String> = kinds
                .iter()
                .map(|(movement, cells)| format!("{movement}: {}", cells.join(" ")))
                .collect();
            let _ = writeln!(
                out,
                "  = {}: {} moved ({})",
                value.toml,
                value.changed.len(),
                kinds.join("; ")
            );
            if let Some(rule) = &value.first_rule {
                let _ = writeln!(
                    out,
                    "      first differs at {} in {}",
                    rule.rule, rule.query
                );
            }
        }
        for flip in &key.flip_points {
            let _ = writeln!(
                out,
                "  {} flips at {}: `{}` below, `{}` from there",
                flip.query, flip.at, flip.below, flip.from
            );
        }
    }
    let still = sensitivity.keys.len() - moving.len();
    let _ = writeln!(out, "\n{still} other keys move no plan of this workload");
    out
}

/// The sweep kept beside a baseline, written by `check --bless`.
pub const SENSITIVITY_FILE: &str = "sensitivity.json";

/// Says, for every changed cell whose causes include policy settings, whether `sweep` (of the same
/// workload) knows each setting to move that query: a reviewer sees at once whether a plan change
/// was expected.
pub fn explain(comparison: &mut Comparison, sweep: &Sensitivity) {
    for cell in &mut comparison.cells {
        cell.expected = cell
            .causes
            .iter()
            .filter_map(|cause| match cause {
                Cause::PolicySetting { key, .. } => Some(key),
                _ => None,
            })
            .map(|key| match sweep.key(key) {
                None => format!("`{key}` was not swept ({} keys were)", sweep.keys.len()),
                Some(swept) => {
                    let moving: Vec<&str> = swept
                        .values
                        .iter()
                        .filter(|v| v.changed.contains(&cell.query))
                        .map(|v| v.toml.as_str())
                        .collect();
                    if moving.is_empty() {
                        format!(
                            "`{key}` moved no plan of `{}` in the sweep of `{}` over `{}`: this \
                             change was not expected",
                            cell.query, sweep.policy, sweep.workload
                        )
                    } else {
                        let shown: Vec<&str> = moving.iter().take(4).copied().collect();
                        let more = if moving.len() > shown.len() {
                            ", …"
                        } else {
                            ""
                        };
                        format!(
                            "`{key}` is known to move `{}` over `{}` ({} of the {} values swept \
                             do: {}{more})",
                            cell.query,
                            sweep.workload,
                            moving.len(),
                            swept.values.len(),
                            shown.join(", ")
                        )
                    }
                }
            })
            .collect();
    }
}

/// Writes a sweep beside a baseline (`<folder>/sensitivity.json`); returns the file.
pub fn write_beside(
    sweep: &Sensitivity,
    folder: &std::path::Path,
) -> Result<std::path::PathBuf, SensitivityError> {
    let path = folder.join(SENSITIVITY_FILE);
    let mut text = serde_json::to_string_pretty(sweep).expect("sweeps serialize");
    text.push('\n');
    std::fs::write(&path, text).map_err(|source| SensitivityError::Write {
        path: path.clone(),
        source,
    })?;
    Ok(path)
}

/// Reads the sweep kept in a baseline folder, if there is one.
pub fn read_beside(folder: &std::path::Path) -> Option<Sensitivity> {
    let text = std::fs::read_to_string(folder.join(SENSITIVITY_FILE)).ok()?;
    serde_json::from_str(&text).ok()
}

/// The policy of a set whose settings a baseline's sweep varies: the one named `baseline`, else the
/// first that compiled.
pub fn reference_policy(policies: &PolicySet) -> Option<&CompiledPolicy> {
    policies
        .policies
        .get("baseline")
        .and_then(|p| p.compiled.as_ref().ok())
        .or_else(|| {
            policies
                .policies
                .values()
                .find_map(|p| p.compiled.as_ref().ok())
        })
}
