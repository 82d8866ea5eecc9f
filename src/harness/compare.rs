//! Comparing a harness run with a baseline, and attributing every changed plan to its causes, most
//! specific first: the query, the policy's settings (each key), the DataFusion version, the tables
//! (pins and statistics) — and, when none of these changed, non-determinism.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::Value;

use super::baseline::Baseline;
use super::first_rule::{FirstDifference, first_differing_plan, first_differing_rule};
use super::{Cell, CellKey, HarnessRun};
use crate::bundle::{BundleFinding, CaptureWarning, PlanBundle, TablePin};
use crate::compile::{CompiledPolicy, diff};
use crate::registry::SettingClass;
use crate::secrets::redact;

named_enum! {
    names = "kebab-case";
    /// What happened to one cell since the baseline.
    pub enum CellStatus {
        /// Same plans, same inputs.
        Unchanged,
        /// Same plans and analyses, but an input changed (a policy's hash after an execution-only
        /// setting, say): the baseline is stale but no plan moved. Does not fail `check`.
        InputsChanged,
        /// The plans, analyses, findings or warnings differ.
        Changed,
        /// Not in the baseline.
        Added,
        /// In the baseline, not in this run.
        Removed,
        /// The cell failed in this run.
        Failed,
        /// Two builds of the same bundle in this run differed (`--repeat`).
        Unstable,
    }
}

impl CellStatus {
    /// Whether `check` fails on it.
    pub fn fails(self) -> bool {
        !matches!(self, CellStatus::Unchanged | CellStatus::InputsChanged)
    }
}

/// Why a cell's plan changed. Causes are listed most specific first.
#[derive(Debug, Clone, PartialEq, Serialize, strum::IntoStaticStr)]
#[serde(tag = "kind", rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum Cause {
    /// The query's normalized template changed (its `query_fingerprint`).
    QueryTemplate {
        /// As the baseline has it.
        baseline: String,
        /// As it is now.
        now: String,
    },
    /// Same template, other constants, preparation statements or parameter values.
    QueryText,
    /// A setting of the policy's compiled environment changed.
    PolicySetting {
        /// The key.
        key: String,
        /// As the baseline has it.
        baseline: Option<String>,
        /// As it is now.
        now: Option<String>,
        /// Its class.
        class: SettingClass,
        /// Whether the setting can change a plan's shape.
        plan_shape: bool,
    },
    /// Another DataFusion version planned the query.
    DatafusionVersion {
        /// As the baseline has it.
        baseline: String,
        /// As it is now.
        now: String,
    },
    /// The engine changed: its name or version, or a function, package, format, catalog, rule,
    /// planner or setting it adds (`changes` names each). `None` is vanilla DataFusion.
    Engine {
        /// As the baseline has it.
        baseline: Option<String>,
        /// As it is now.
        now: Option<String>,
        /// What changed, one line each.
        changes: Vec<String>,
    },
    /// A table's pin changed: its location, Delta version or file count.
    TablePin {
        /// The table.
        table: String,
        /// As the baseline has it.
        baseline: Option<TablePin>,
        /// As it is now.
        now: Option<TablePin>,
    },
    /// A scan's row count (as the planner saw it) changed.
    Statistics {
        /// The table.
        table: Option<String>,
        /// As the baseline has it.
        baseline: Option<u64>,
        /// As it is now.
        now: Option<u64>,
    },
    /// None of the above changed, yet the plan did: a planning input dfpolicy does not pin, or a
    /// non-deterministic planner. Reported as a bug.
    Nondeterminism,
}

impl Cause {
    /// The category name (`query-template`, `policy-setting`, …), as the JSON's `kind` has it.
    pub fn kind(&self) -> &'static str {
        self.into()
    }

    /// One line for people.
    pub fn describe(&self) -> String {
        let value = |v: &Option<String>| v.clone().unwrap_or_else(|| "NULL".into());
        match self {
            Cause::QueryTemplate { .. } => {
                "the query changed (its template fingerprint differs)".into()
            }
            Cause::QueryText => {
                "the query's constants or parameter values changed (same template)".into()
            }
            Cause::PolicySetting {
                key,
                baseline,
                now,
                class,
                ..
            } => format!(
                "policy setting `{key}`: {} → {} ({})",
                value(baseline),
                value(now),
                class
            ),
            Cause::DatafusionVersion { baseline, now } => {
                format!("DataFusion version {baseline} → {now}")
            }
            Cause::Engine {
                baseline,
                now,
                changes,
            } => {
                let shown =
                    |e: &Option<String>| e.clone().unwrap_or_else(|| "vanilla DataFusion".into());
                format!(
                    "engine {} → {}: {}",
                    shown(baseline),
                    shown(now),
                    changes.join(", ")
                )
            }
            Cause::TablePin {
                table,
                baseline,
                now,
            } => {
                let pin = |p: &Option<TablePin>| match p {
                    None => "absent".to_string(),
                    Some(p) => format!(
                        "{}{} files",
                        p.delta_version
                            .map(|v| format!("version {v}, "))
                            .unwrap_or_default(),
                        p.files
                    ),
                };
                format!("table `{table}`: {} → {}", pin(baseline), pin(now))
            }
            Cause::Statistics {
                table,
                baseline,
                now,
            } => {
                let rows = |r: &Option<u64>| r.map_or("unknown".to_string(), |r| r.to_string());
                format!(
                    "row count of the scan of `{}`: {} → {}",
                    table.as_deref().unwrap_or("?"),
                    rows(baseline),
                    rows(now)
                )
            }
            Cause::Nondeterminism => "nothing dfpolicy pins changed, yet the plan did: \
                 non-determinism (please report it)"
                .into(),
        }
    }
}

/// One cell compared.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CellChange {
    /// The policy.
    pub policy: String,
    /// The query.
    pub query: String,
    /// What happened to the cell.
    pub status: CellStatus,
    /// For `changed` and `inputs-changed` cells, most specific first.
    pub causes: Vec<Cause>,
    /// The bundle's top-level fields that differ (`plans`, `statistics`, `warnings`, …).
    pub differing_fields: Vec<String>,
    /// Where the planning parted ways: the first rule whose output differs when both sides have an
    /// optimizer trace, else the first plan that differs.
    pub first_difference: Option<FirstDifference>,
    /// The current bundle's findings (they fail `check` whatever the baseline says).
    pub findings: Vec<BundleFinding>,
    /// The current bundle's warnings: a failed capture step fails `check` whatever the baseline
    /// says; an advisory one only under `--deny-warnings`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<CaptureWarning>,
    /// This run's error, for a failed cell.
    pub error: Option<String>,
    /// What differed between two builds, for an unstable cell.
    pub repeat_difference: Option<String>,
    /// For each policy setting among the causes, whether the sensitivity sweep kept beside the
    /// baseline knows it to move this query (see [`super::sensitivity::explain`]).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub expected: Vec<String>,
}

impl CellChange {
    /// The cell's key.
    pub fn key(&self) -> CellKey {
        CellKey::new(&self.policy, &self.query)
    }

    /// Whether `check` fails on this cell: its status, a finding or a failed capture step.
    pub fn fails(&self) -> bool {
        self.fails_with(false)
    }

    /// Whether `check` fails on this cell, failing on advisory warnings too when `deny_warnings`.
    pub fn fails_with(&self, deny_warnings: bool) -> bool {
        self.status.fails() || self.notes_fail(deny_warnings)
    }

    /// Whether the current bundle's findings or warnings fail it, whatever its status.
    pub fn notes_fail(&self, deny_warnings: bool) -> bool {
        !self.findings.is_empty() || self.warnings.iter().any(|w| w.fails(deny_warnings))
    }
}

/// A run compared with a baseline: every cell of either, sorted.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    /// The workload's name.
    pub workload: String,
    /// `null` when there was no baseline to compare with (every cell is `added`).
    pub baseline_datafusion_version: Option<String>,
    /// The DataFusion release of this run.
    pub datafusion_version: String,
    /// Every cell of either side, sorted.
    pub cells: Vec<CellChange>,
    /// Cells by status.
    pub counts: BTreeMap<CellStatus, u64>,
}

impl Comparison {
    /// Whether `check` fails: a cell changed, appeared, disappeared, failed or was unstable, or a
    /// bundle has a finding or a failed capture step.
    pub fn fails(&self) -> bool {
        self.fails_with(false)
    }

    /// [`Comparison::fails`], failing on advisory warnings too when `deny_warnings`.
    pub fn fails_with(&self, deny_warnings: bool) -> bool {
        self.cells.iter().any(|cell| cell.fails_with(deny_warnings))
    }

    /// One cell's comparison.
    pub fn cell(&self, policy: &str, query: &str) -> Option<&CellChange> {
        self.cells
            .iter()
            .find(|c| c.policy == policy && c.query == query)
    }

    /// Whether every cell of a policy is unchanged.
    pub fn policy_unchanged(&self, policy: &str) -> bool {
        self.cells
            .iter()
            .filter(|c| c.policy == policy)
            .all(|c| c.status == CellStatus::Unchanged)
    }
}

/// Compares a run with a baseline (`None`: no baseline, every cell is new).
pub fn compare(baseline: Option<&Baseline>, run: &HarnessRun) -> Comparison {
    let mut keys: BTreeSet<CellKey> = run.cells.keys().cloned().collect();
    if let Some(baseline) = baseline {
        keys.extend(
            baseline
                .index
                .cells
                .keys()
                .filter_map(|k| CellKey::parse(k)),
        );
    }
    let current_environments: BTreeMap<&str, CompiledPolicy> = run
        .policies
        .iter()
        .filter_map(|(name, p)| {
            p.compiled
                .as_ref()
                .ok()
                .map(|c| (name.as_str(), as_written(c)))
        })
        .collect();
    let mut cells = Vec::new();
    for key in keys {
        let old = baseline.and_then(|b| b.bundles.get(&key));
        let in_baseline = baseline.is_some_and(|b| b.index.cells.contains_key(&key.to_string()));
        let mut change = CellChange {
            expected: Vec::new(),
            policy: key.policy.clone(),
            query: key.query.clone(),
            status: CellStatus::Unchanged,
            causes: Vec::new(),
            differing_fields: Vec::new(),
            first_difference: None,
            findings: Vec::new(),
            warnings: Vec::new(),
            error: None,
            repeat_difference: None,
        };
        match run.cells.get(&key) {
            None => change.status = CellStatus::Removed,
            Some(Cell::Failed { error }) => {
                change.status = CellStatus::Failed;
                change.error = Some(error.clone());
            }
            Some(Cell::Built {
                bundle,
                repeat_difference,
            }) => {
                change.findings = bundle.findings.clone();
                change.warnings = bundle.warnings.clone();
                if let Some(difference) = repeat_difference {
                    change.status = CellStatus::Unstable;
                    change.repeat_difference = Some(difference.clone());
                } else if !in_baseline {
                    change.status = CellStatus::Added;
                } else if let Some(old) = old {
                    let environments = (
                        baseline.and_then(|b| b.environments.get(&key.policy)),
                        current_environments.get(key.policy.as_str()),
                    );
                    attribute(&mut change, old, bundle, environments);
                } else {
                    // The baseline's cell had failed; now it builds.
                    change.status = CellStatus::Changed;
                    change.differing_fields.push("error".into());
                }
            }
        }
        cells.push(change);
    }
    let mut counts = BTreeMap::new();
    for cell in &cells {
        *counts.entry(cell.status).or_insert(0) += 1;
    }
    Comparison {
        workload: run.workload.clone(),
        baseline_datafusion_version: baseline.map(|b| b.index.datafusion_version.clone()),
        datafusion_version: run.datafusion_version.clone(),
        cells,
        counts,
    }
}

/// The compiled environment as the baseline stores it (redacted), so that a redacted value does
/// not read as a change.
fn as_written(compiled: &CompiledPolicy) -> CompiledPolicy {
    CompiledPolicy::from_json(&redact(&compiled.to_json())).unwrap_or_else(|_| compiled.clone())
}

/// What the plan is: everything in a bundle but the identity of its inputs.
const INPUT_FIELDS: [&str; 6] = [
    "policy",
    "datafusion_version",
    "workload",
    "query",
    "tables",
    "plan_fingerprint",
];

/// `v1:` SHA-256 of what the plan is (the bundle without its input fields, as JSON): equal for
/// bundles with the same plans, analyses, findings and warnings.
pub fn plan_content_digest(bundle: &PlanBundle) -> String {
    let Value::Object(fields) = serde_json::to_value(bundle).expect("bundles serialize") else {
        unreachable!("a bundle serializes to an object");
    };
    let lines = fields
        .into_iter()
        .filter(|(field, _)| !INPUT_FIELDS.contains(&field.as_str()))
        .collect();
    crate::compile::hash::digest("plan content", lines)
}

fn attribute(
    change: &mut CellChange,
    old: &PlanBundle,
    new: &PlanBundle,
    environments: (Option<&CompiledPolicy>, Option<&CompiledPolicy>),
) {
    let (old_value, new_value) = (
        serde_json::to_value(old).expect("bundles serialize"),
        serde_json::to_value(new).expect("bundles serialize"),
    );
    let (Value::Object(old_fields), Value::Object(new_fields)) = (&old_value, &new_value) else {
        unreachable!("a bundle serializes to an object");
    };
    let differing: Vec<&String> = new_fields
        .keys()
        .filter(|field| old_fields.get(*field) != new_fields.get(*field))
        .collect();
    let plan_changed = differing
        .iter()
        .any(|field| !INPUT_FIELDS.contains(&field.as_str()));
    if differing.is_empty() {
        return;
    }
    change.differing_fields = differing.iter().map(|f| f.to_string()).collect();
    change.causes = causes(old, new, environments);
    if plan_changed {
        change.status = CellStatus::Changed;
        if change.causes.is_empty() {
            change.causes.push(Cause::Nondeterminism);
        }
        change.first_difference =
            first_differing_rule(old, new).or_else(|| first_differing_plan(old, new));
    } else {
        change.status = CellStatus::InputsChanged;
    }
}

/// Every input that differs, most specific first.
fn causes(
    old: &PlanBundle,
    new: &PlanBundle,
    environments: (Option<&CompiledPolicy>, Option<&CompiledPolicy>),
) -> Vec<Cause> {
    let mut causes = Vec::new();
    if old.query.query_fingerprint != new.query.query_fingerprint {
        causes.push(Cause::QueryTemplate {
            baseline: old.query.query_fingerprint.clone(),
            now: new.query.query_fingerprint.clone(),
        });
    } else if old.query != new.query {
        causes.push(Cause::QueryText);
    }
    if let (true, (Some(before), Some(now))) = (old.policy != new.policy, environments) {
        for difference in diff(before, now).differences {
            let plan_shape = difference.plan_shape();
            causes.push(Cause::PolicySetting {
                key: difference.key,
                baseline: difference.left,
                now: difference.right,
                class: difference.class,
                plan_shape,
            });
        }
    }
    if let (Some(before), Some(now)) = environments
        && before.engine.extensions != now.engine.extensions
    {
        let (before, now) = (&before.engine.extensions, &now.engine.extensions);
        let changes = match (before, now) {
            (Some(b), Some(n)) => n.changes_since(b),
            (None, Some(n)) => vec![format!("engine `{n}` added to vanilla DataFusion")],
            (Some(b), None) => vec![format!("engine `{b}` removed: vanilla DataFusion")],
            (None, None) => Vec::new(),
        };
        causes.push(Cause::Engine {
            baseline: before.as_ref().map(ToString::to_string),
            now: now.as_ref().map(ToString::to_string),
            changes,
        });
    }
    if old.datafusion_version != new.datafusion_version {
        causes.push(Cause::DatafusionVersion {
            baseline: old.datafusion_version.clone(),
            now: new.datafusion_version.clone(),
        });
    }
    let tables: BTreeSet<&String> = old.tables.keys().chain(new.tables.keys()).collect();
    for table in tables {
        let (before, now) = (old.tables.get(table), new.tables.get(table));
        if before != now {
            causes.push(Cause::TablePin {
                table: table.clone(),
                baseline: before.cloned(),
                now: now.cloned(),
            });
        }
    }
    // Row counts per table (the first scan of each). Only when the policy stayed the same: a
    // setting (`collect_statistics`) changes what the planner knows, and is the cause then.
    let same_policy = old.policy.plan_environment_hash == new.policy.plan_environment_hash;
    if let (Some(before), Some(now), true) = (&old.statistics, &new.statistics, same_policy) {
        let rows = |report: &crate::bundle::StatisticsReport| {
            let mut rows = BTreeMap::new();
            for scan in &report.scans {
                rows.entry(scan.table.clone())
                    .or_insert((scan.row_count, scan.quality.rows));
            }
            rows
        };
        let (before, now) = (rows(before), rows(now));
        for (table, (count, quality)) in &now {
            if let Some((old_count, old_quality)) = before.get(table)
                && (old_count, old_quality) != (count, quality)
            {
                causes.push(Cause::Statistics {
                    table: table.clone(),
                    baseline: *old_count,
                    now: *count,
                });
            }
        }
    }
    causes
}
