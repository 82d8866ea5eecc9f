//! The store's rows: one per cell of a run, as an Arrow batch in the table's schema.
//!
//! Every text column goes through [`redact`]: a credential written into a policy value (a catalog
//! location with `user:password@`, a `?sig=` query string) never reaches the table. The store reads
//! nothing from the process environment but the git commit (`GITHUB_SHA`, else `git rev-parse HEAD`).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use datafusion::arrow::array::{ArrayRef, RecordBatch, StringArray, TimestampMicrosecondArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use datafusion::arrow::error::ArrowError;
use sha2::{Digest, Sha256};

use crate::bundle::PlanBundle;
use crate::harness::{Cell, HarnessRun, plan_content_digest};
use crate::secrets::redact;

/// Who made a run and when: its id, start time and git commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunContext {
    /// `20261127T081500Z-1a2b3c4d`: the start time, then 8 hex digits unique to the process and
    /// moment, so that concurrent runs never share an id.
    pub run_id: String,
    /// Microseconds since the Unix epoch, UTC.
    pub started_micros: i64,
    /// The commit of the checkout (`GITHUB_SHA`, else `git rev-parse HEAD`), when there is one.
    pub git_commit: Option<String>,
}

impl RunContext {
    /// A run starting now, with the commit of the working directory's git checkout if there is one.
    pub fn detect() -> RunContext {
        let commit = std::env::var("GITHUB_SHA")
            .ok()
            .filter(|sha| !sha.is_empty())
            .or_else(git_head);
        RunContext::starting_now(commit)
    }

    /// A run starting now with the given commit.
    pub fn starting_now(git_commit: Option<String>) -> RunContext {
        static RUNS: AtomicU64 = AtomicU64::new(0);
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let micros = i64::try_from(now.as_micros()).unwrap_or(i64::MAX);
        let mut hasher = Sha256::new();
        hasher.update(now.as_nanos().to_le_bytes());
        hasher.update(std::process::id().to_le_bytes());
        hasher.update(RUNS.fetch_add(1, Ordering::Relaxed).to_le_bytes());
        hasher.update(format!("{:?}", std::thread::current().id()));
        let unique: String = hasher.finalize()[..4]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let stamp: String = timestamp_text(micros)
            .chars()
            .take(19)
            .filter(|c| !matches!(c, '-' | ':'))
            .collect();
        RunContext {
            run_id: format!("{stamp}Z-{unique}"),
            started_micros: micros,
            git_commit,
        }
    }
}

fn git_head() -> Option<String> {
    let output = std::process::Command::new("git")
        .args(["rev-parse", "HEAD"])
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    let commit = String::from_utf8(output.stdout).ok()?.trim().to_string();
    (output.status.success() && !commit.is_empty()).then_some(commit)
}

/// `2026-11-27T08:15:00.123456Z`, as Arrow casts a UTC timestamp to text.
fn timestamp_text(micros: i64) -> String {
    let array = TimestampMicrosecondArray::from(vec![micros]).with_timezone("UTC");
    datafusion::arrow::compute::cast(&array, &DataType::Utf8)
        .ok()
        .and_then(|text| {
            text.as_any()
                .downcast_ref::<StringArray>()
                .map(|s| s.value(0).to_string())
        })
        .unwrap_or_default()
}

/// The text columns, in table order; `run_started` (a UTC timestamp) follows `run_id`.
const TEXT_COLUMNS: [(&str, bool); 24] = [
    ("git_commit", true),
    ("workload", false),
    ("datafusion_version", false),
    ("policy", false),
    ("query", false),
    ("status", false),
    ("error", true),
    ("policy_hash", true),
    ("settings_hash", true),
    ("plan_environment_hash", true),
    ("query_fingerprint", true),
    ("query_statement", true),
    ("plan_fingerprint", true),
    ("physical_topology_hash", true),
    ("plans_digest", true),
    ("initial_logical_plan", true),
    ("optimized_logical_plan", true),
    ("physical_plan", true),
    ("settings", true),
    ("optimizer_trace", true),
    ("statistics", true),
    ("pushdown", true),
    ("delta_scans", true),
    ("bundle", true),
];

/// The table's schema: `run_id`, `run_started`, then the text columns (JSON for the structured
/// ones).
pub fn store_schema() -> SchemaRef {
    let mut fields = vec![
        Field::new("run_id", DataType::Utf8, false),
        Field::new(
            "run_started",
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            false,
        ),
    ];
    fields.extend(
        TEXT_COLUMNS
            .iter()
            .map(|(name, nullable)| Field::new(*name, DataType::Utf8, *nullable)),
    );
    Arc::new(Schema::new(fields))
}

/// One row per cell of `run`, in cell order.
pub(super) fn batch(run: &HarnessRun, context: &RunContext) -> Result<RecordBatch, ArrowError> {
    let count = run.cells.len();
    let mut columns: Vec<Vec<Option<String>>> = vec![Vec::with_capacity(count); TEXT_COLUMNS.len()];
    for (key, cell) in &run.cells {
        let policy = run.policies.get(&key.policy);
        let compiled = policy.and_then(|p| p.compiled.as_ref().ok());
        let bundle = cell.bundle();
        let json = |value: Option<serde_json::Value>| value.map(|v| v.to_string());
        let field = |f: fn(&PlanBundle) -> Option<serde_json::Value>| bundle.and_then(f);
        let values: [Option<String>; 24] = [
            context.git_commit.clone(),
            Some(run.workload.clone()),
            Some(run.datafusion_version.clone()),
            Some(key.policy.clone()),
            Some(key.query.clone()),
            Some(if bundle.is_some() { "built" } else { "failed" }.to_string()),
            match cell {
                Cell::Failed { error } => Some(error.clone()),
                Cell::Built { .. } => None,
            },
            compiled.map(|c| c.hashes.policy_hash.clone()),
            compiled.map(|c| c.hashes.settings_hash.clone()),
            compiled.map(|c| c.hashes.plan_environment_hash.clone()),
            bundle.map(|b| b.query.query_fingerprint.clone()),
            bundle.map(|b| b.query.statement.clone()),
            bundle.map(|b| b.plan_fingerprint.clone()),
            bundle.and_then(|b| b.physical_topology_hash.clone()),
            bundle.map(plan_content_digest),
            bundle.and_then(|b| b.plans.initial_logical.clone()),
            bundle.and_then(|b| b.plans.optimized_logical.clone()),
            bundle.and_then(|b| b.plans.physical.clone()),
            compiled.map(|c| c.to_json()),
            json(field(|b| b.optimizer_trace.as_ref().map(to_value))),
            json(field(|b| b.statistics.as_ref().map(to_value))),
            json(field(|b| b.pushdown.as_ref().map(to_value))),
            json(field(|b| Some(to_value(&b.delta_scans)))),
            bundle.map(|b| b.to_json()),
        ];
        for (column, value) in columns.iter_mut().zip(values) {
            column.push(value.map(|v| redact(&v).into_owned()));
        }
    }
    let mut arrays: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from(vec![context.run_id.clone(); count])),
        Arc::new(
            TimestampMicrosecondArray::from(vec![context.started_micros; count])
                .with_timezone("UTC"),
        ),
    ];
    arrays.extend(
        columns
            .into_iter()
            .map(|values| Arc::new(StringArray::from(values)) as ArrayRef),
    );
    RecordBatch::try_new(store_schema(), arrays)
}

fn to_value(value: &impl serde::Serialize) -> serde_json::Value {
    serde_json::to_value(value).expect("bundle parts serialize")
}
