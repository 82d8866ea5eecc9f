//! The plan bundle as a document: every field, documented (the doc comments become the schema's
//! descriptions), and the schema checked in at [`SCHEMA_PATH`].

use std::collections::BTreeMap;
use std::sync::OnceLock;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::policy::options::ExplainFormat;
use crate::validate::schema::{document_text, generate_json_schema};
use crate::workload::TableFormat;

/// Where the checked-in bundle schema lives, relative to the repository root.
pub const SCHEMA_PATH: &str = "schema/bundle.schema.json";

/// The version of the bundle layout; a change that consumers would notice increments it.
pub const BUNDLE_FORMAT: u32 = 1;

/// How one query was planned under one policy over one workload.
///
/// Everything in it is the same on every machine and in every run, given the same policy, query,
/// tables and DataFusion version: maps are sorted, file paths are written relative to the workload
/// (`$TPCH_DATA/…` for the built-in ones), Delta file names keep their place in the log instead of
/// their random UUID, and each bundle is planned in a fresh session state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "dfpolicy plan bundle")]
pub struct PlanBundle {
    /// The layout version of this document (currently 1).
    pub bundle_format: u32,
    /// The policy the session was built from.
    pub policy: PolicyIdentity,
    /// The DataFusion version that planned the query.
    pub datafusion_version: String,
    /// The workload's name (`tpch`, or the name in the workload file).
    pub workload: String,
    /// The query that was planned.
    pub query: QueryIdentity,
    /// The workload tables the query reads, by name as the workload declares them.
    pub tables: BTreeMap<String, TablePin>,
    /// `v1:` SHA-256 over the query fingerprint, the parameter values, the policy's
    /// `plan_environment_hash` and the table pins: what the plan is a function of. Equal
    /// fingerprints should give equal plans; a different plan under an equal fingerprint is a change in
    /// something dfpolicy does not pin (the data in an unpinned table, say).
    pub plan_fingerprint: String,
    /// The plans, as DataFusion's `EXPLAIN` prints them.
    pub plans: Plans,
    /// `v1:` SHA-256 over the physical plan's shape: each operator's depth, name, output
    /// partitioning (kind, hash keys, partition count), output ordering, and join and aggregate
    /// modes — not literal values, file paths or names, byte ranges or statistics. `null` without P2.
    pub physical_topology_hash: Option<String>,
    /// The plan after every analyzer, logical optimizer and physical optimizer rule, when the policy
    /// asks for it (`[explain] optimizer_trace = true`).
    pub optimizer_trace: Option<OptimizerTrace>,
    /// Output rows of every operator after running the query, when the policy asks for it
    /// (`[explain] analyze = true`).
    pub analyze: Option<Vec<OperatorRows>>,
    /// Each Delta scan of the physical plan, in plan order (depth first): which of the table's files
    /// it reads after partition and statistics pruning. Empty when the plan reads no Delta table.
    pub delta_scans: Vec<DeltaScan>,
    /// How good the statistics are that the physical plan was costed with, per scan and overall,
    /// from DataFusion's `StatisticsContext`. `null` without P2.
    pub statistics: Option<StatisticsReport>,
    /// The physical plan's properties: output partitioning, operators by kind, file groups per scan
    /// and the pipeline breakers above each scan. `null` without P2.
    pub properties: Option<PhysicalProperties>,
    /// Where each filter conjunct is applied: by the scan alone (`exact`), by the scan and again
    /// above it (`inexact`), or only above it (`unsupported`). `null` without P1.
    pub pushdown: Option<FilterPushdown>,
    /// What the plan reads and calls: each table scan's columns and filters, and the functions.
    /// `null` without P1.
    pub lineage: Option<Lineage>,
    /// The optimized logical plan as a Substrait plan: base64 of the protobuf bytes, extension
    /// declarations sorted. `null` when dfpolicy is built without the `substrait` feature or when
    /// DataFusion cannot serialize the plan (then with a warning).
    pub substrait: Option<String>,
    /// Whether the Substrait plan reads back (`from_substrait_plan`) and optimizes to the same text as
    /// `plans.optimized_logical`. `null` when there is no Substrait plan.
    pub substrait_round_trip: Option<bool>,
    /// How the plan read back from Substrait compares with `plans.optimized_logical`: its output
    /// columns, and the first line where the optimized texts part. `null` when there is no Substrait
    /// plan or it does not read back (then with a warning).
    pub substrait_read_back: Option<SubstraitReadBack>,
    /// The static stage plan of Ballista's distributed planner, for a policy that targets Ballista:
    /// how the physical plan is cut into stages at its shuffles. Absent for a DataFusion policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distributed_stages: Option<DistributedStages>,
    /// What the policy's expectations say about this plan (`statistics-below-minimum`); `dfpolicy
    /// check` fails on them.
    pub findings: Vec<BundleFinding>,
    /// Capture steps that failed, and plans that deserve a look; the fields a failed step would have
    /// filled are empty.
    pub warnings: Vec<CaptureWarning>,
}

named_enum! {
    names = "lowercase";
    /// How much DataFusion knows about a number: `exact`, `estimated` (DataFusion's `Inexact`),
    /// `unknown` (`Absent`), or `mixed` when the numbers summarized differ.
    // The variants stay undocumented: schemars writes a documented variant as a `oneOf` branch
    // instead of a name in the schema's `enum`.
    #[allow(missing_docs)]
    pub enum Quality {
        Exact,
        Estimated,
        Unknown,
        Mixed,
    }
}

/// The quality of the row count, the total byte size and the column statistics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StatisticsQualities {
    /// Of the row count.
    pub rows: Quality,
    /// Of the total byte size.
    pub bytes: Quality,
    /// Minimum, maximum and null count of every column the scan produces: `mixed` when they differ.
    pub columns: Quality,
}

/// Statistics quality per scan and over all scans.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StatisticsReport {
    /// Over all scans: a quality when every scan has it, else `mixed`. `null` for a plan without
    /// scans.
    pub overall: Option<StatisticsQualities>,
    /// Each scan (leaf operator) of the physical plan, depth first.
    pub scans: Vec<ScanStatistics>,
}

/// The statistics DataFusion has for one scan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScanStatistics {
    /// The workload's name for the table; `null` when the scan reads no workload table.
    pub table: Option<String>,
    /// The scan operator and what it reads (`DataSourceExec file_type=parquet`, `DeltaScanExec`).
    pub operator: String,
    /// How much of it is known.
    #[serde(flatten)]
    pub quality: StatisticsQualities,
    /// The row count, exact or estimated.
    pub row_count: Option<u64>,
    /// Why something is unknown, when it is.
    pub reason: Option<String>,
}

/// The physical plan's shape, summarized.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PhysicalProperties {
    /// The root's output partitioning kind (`RoundRobinBatch`, `Hash`, `Range`,
    /// `UnknownPartitioning`).
    pub output_partitioning: String,
    /// The root's output partition count.
    pub output_partitions: u64,
    /// How many operators of each kind the plan has, keyed by DataFusion's operator name and, where
    /// it matters, its mode as DataFusion prints it: `HashJoinExec mode=CollectLeft`,
    /// `AggregateExec mode=Partial`, `RepartitionExec partitioning=Hash`, `DataSourceExec
    /// file_type=parquet`, `SortExec(TopK)`. Operators dfpolicy does not know appear by their name.
    pub operators: BTreeMap<String, u64>,
    /// Each scan, depth first.
    pub scans: Vec<ScanProperties>,
}

/// One scan's layout and what stands above it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScanProperties {
    /// The workload's name for the table; `null` when the scan reads no workload table.
    pub table: Option<String>,
    /// The scan operator (`DataSourceExec file_type=parquet`).
    pub operator: String,
    /// File groups (one per output partition of a file scan); `null` for other scans.
    pub file_groups: Option<u64>,
    /// Distinct files over all groups (DataFusion may split one file into byte ranges).
    pub files: Option<u64>,
    /// The nearest operator above the scan that consumes all of its input before producing output
    /// (a sort, a final aggregate, the build side of a join), with its depth; `null` when the scan's
    /// rows stream to the output.
    pub pipeline_breaker: Option<PipelineBreaker>,
}

/// An operator that holds its input back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PipelineBreaker {
    /// As in [`PhysicalProperties::operators`]; a join's build side is `… (build side)`.
    pub operator: String,
    /// Its depth below the plan's root.
    pub depth: u32,
}

named_enum! {
    names = "lowercase";
    /// How a filter conjunct is applied to a scan.
    pub enum PushdownClass {
        /// The scan applies it fully; no filter above repeats it.
        Exact,
        /// The scan prunes with it (row groups, pages, files), and a filter above applies it again.
        Inexact,
        /// The scan cannot use it; only a filter above applies it.
        Unsupported,
    }
}

/// Filter pushdown of every table scan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FilterPushdown {
    /// Conjuncts by class over all scans.
    pub counts: BTreeMap<PushdownClass, u64>,
    /// Each table scan of the optimized logical plan that has filters, in plan order.
    pub scans: Vec<ScanPushdown>,
    /// Filters that joins and `TopK` sorts fill in while the query runs
    /// (`enable_dynamic_filter_pushdown`), by the scan that receives them.
    pub dynamic_filters: Vec<DynamicFilter>,
}

/// The filter conjuncts of one table scan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScanPushdown {
    /// The workload's name for the table.
    pub table: String,
    /// Whether the physical scan filters rows while decoding (Parquet `pushdown_filters`); without
    /// it, conjuncts in the scan's predicate only prune row groups, pages and files.
    pub row_level: bool,
    /// Each conjunct of the filters above the scan, with how far it got.
    pub conjuncts: Vec<PushedConjunct>,
}

/// One conjunct, classified.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PushedConjunct {
    /// As the optimized logical plan prints it.
    pub predicate: String,
    /// What the physical plan does with it (the logical class when the physical plan does not show
    /// the conjunct, as for Delta partition filters, applied while listing files).
    pub class: PushdownClass,
    /// What the table provider told the logical optimizer (`TableScan` `full_filters` are exact,
    /// `partial_filters` inexact, conjuncts only in the `Filter` above unsupported).
    pub logical: PushdownClass,
    /// The conjunct is in the physical scan's `predicate`.
    pub in_scan_predicate: bool,
    /// The conjunct is in the `FilterExec` directly above the scan.
    pub in_filter_above: bool,
}

/// A dynamic filter a scan receives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DynamicFilter {
    /// The workload's name for the scanned table; `null` when it is no workload table.
    pub table: Option<String>,
    /// As planned (`DynamicFilter [ empty ]`: filled at run time).
    pub filter: String,
}

/// What the plan reads and calls.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Lineage {
    /// Each table scan of the optimized logical plan (subqueries included), in plan order.
    pub scans: Vec<ScanLineage>,
    /// Every function the plan calls, sorted by name and kind.
    pub functions: Vec<FunctionCall>,
}

/// One table scan: the columns it produces and the filters applied to them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScanLineage {
    /// The table as the plan names it.
    pub table: String,
    /// The columns the scan produces.
    pub columns: Vec<String>,
    /// The scan's filters and the conjuncts of the `Filter` directly above it, once each.
    pub filters: Vec<String>,
}

/// A function the plan calls.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FunctionCall {
    /// The function's name.
    pub name: String,
    /// What kind of function it is.
    pub kind: FunctionKind,
    /// One of DataFusion's own functions (`false`: registered by the application).
    pub built_in: bool,
}

named_enum! {
    names = "lowercase";
    // The variants stay undocumented: schemars writes a documented variant as a `oneOf` branch
    // instead of a name in the schema's `enum`.
    #[allow(missing_docs)]
    /// The kinds of functions a plan calls.
    pub enum FunctionKind {
        Scalar,
        Aggregate,
        Window,
    }
}

/// The Substrait plan read back into DataFusion and optimized, against the optimized logical plan.
///
/// Texts that differ need not mean that the plan means something else: datafusion-substrait 55 puts
/// a sort that sat above the final projection below it, drops subquery aliases (columns keep the
/// table's qualifier instead of `__scalar_sq_1`) and names intermediate columns after expressions as
/// they were after type coercion (`sum(l_extendedprice * Int64(1) - l_discount)` comes back as
/// `sum(l_extendedprice * Decimal128(1,20,0) - l_discount)`). The output columns show what a
/// consumer of the results would notice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SubstraitReadBack {
    /// How the output columns of the plan read back differ from those of the optimized plan, column
    /// by column in order: name, data type, nullability. Empty when they are the same.
    pub output_differences: Vec<String>,
    /// The first line where the optimized texts differ; `null` when they are the same.
    pub first_difference: Option<PlanLineDifference>,
}

/// One line of two plan texts that differ.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanLineDifference {
    /// The line number, counted from 1.
    pub line: usize,
    /// The line in the optimized logical plan (empty when that text is shorter).
    pub expected: String,
    /// The line in the plan read back from Substrait and optimized (empty when that text is shorter).
    pub read_back: String,
}

/// A policy expectation the plan does not meet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BundleFinding {
    /// `statistics-below-minimum`.
    pub code: String,
    /// What is wrong, paths normalized.
    pub message: String,
}

/// The stages Ballista's static distributed planner (`DefaultDistributedPlanner::plan_query_stages`)
/// cuts the physical plan into. This is the **static layout**: with adaptive query execution on
/// (`ballista.planner.adaptive.enabled`, Ballista's default) the scheduler re-plans the stages while
/// the job runs, from the sizes the finished stages measured, so the stages that run may differ
/// (joins turned into broadcasts, partitions coalesced). With it off, these are the stages that run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DistributedStages {
    /// Always `static`: the layout before the job runs.
    pub layout: String,
    /// Whether adaptive execution may change the layout at run time.
    pub adaptive: bool,
    /// The stages in the order the planner made them (inputs before the stages that read them); the
    /// last is the final stage, whose output the client reads.
    pub stages: Vec<DistributedStage>,
    /// `v1:` SHA-256 over every stage's id, the stages it reads, its output partitioning and the
    /// physical topology of its plan: equal hashes, equal stage layouts.
    pub stage_topology_hash: String,
}

/// One stage of a distributed plan: a plan rooted at a shuffle writer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DistributedStage {
    /// Ballista's id of the stage.
    pub stage_id: usize,
    /// The stage's plan as `EXPLAIN` prints a physical plan, paths normalized like every plan;
    /// `UnresolvedShuffleExec` marks where it reads another stage's output.
    pub plan: String,
    /// How the stage's shuffle writer partitions its output (`Hash([l_orderkey@0], 4)`), or `null`
    /// when it keeps its input's partitioning.
    pub output_partitioning: Option<String>,
    /// How many partitions the stage runs as (its tasks).
    pub partitions: usize,
    /// The stages whose shuffle output this stage reads, in plan order.
    pub reads_stages: Vec<usize>,
    /// The stages of `reads_stages` that it reads whole in every task (a broadcast join's build
    /// side).
    pub broadcast_reads: Vec<usize>,
}

/// One Delta scan: delta-rs prunes the table's files by partition values and the log's per-file
/// statistics while planning, and plans a Parquet scan of exactly the files that remain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeltaScan {
    /// The workload's name for the table; `null` for a table the workload does not declare (one a
    /// query file created).
    pub table: Option<String>,
    /// The version read.
    pub version: Option<u64>,
    /// Files active in that version.
    pub files_in_version: Option<u64>,
    /// Files the scan reads (distinct files: DataFusion may split one into byte ranges).
    pub files_selected: u64,
    /// `files_selected / files_in_version`, when the table is known and has files.
    pub selected_ratio: Option<f64>,
    /// The files read, relative to the table's folder, sorted, names normalized (`<uuid#N>`).
    pub selected: Vec<String>,
    /// The predicate the Parquet scan prunes row groups and pages with, as DataFusion prints it;
    /// partition-only predicates are applied by the log replay instead and do not appear here.
    pub pruning_predicate: Option<String>,
}

/// The policy a bundle was planned under: its name and the compiler's three hashes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyIdentity {
    /// The policy's name.
    pub name: String,
    /// Its `policy_hash`.
    pub policy_hash: String,
    /// Its `settings_hash`.
    pub settings_hash: String,
    /// Its `plan_environment_hash`.
    pub plan_environment_hash: String,
}

/// The query of a bundle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct QueryIdentity {
    /// The query's name: its file stem (`q01`).
    pub name: String,
    /// The query file, relative to the workload folder (`queries/q01.sql`; `tpch/q01.sql` for the
    /// built-in workloads).
    pub file: String,
    /// Statements the file runs before the query (`CREATE VIEW …`), as written.
    pub preparation: Vec<String>,
    /// The query statement as written.
    pub statement: String,
    /// The parameter set bound to the query's placeholders, if it has any.
    pub parameters: Option<BoundParameters>,
    /// `v1:` SHA-256 of the normalized SQL template of the preparation and the statement: comments
    /// and whitespace dropped, keywords upper-cased, unquoted identifiers lower-cased, literals and
    /// placeholders replaced by `?` (in the spirit of PostgreSQL's `queryid`). Two parameter sets of
    /// one query, or two queries that differ only in constants, share it.
    pub query_fingerprint: String,
}

/// A parameter set of the workload file, as bound.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BoundParameters {
    /// The set's name.
    pub name: String,
    /// Each placeholder's value as DataFusion bound it (after casting to the type the query gives
    /// the placeholder), rendered as SQL literals would print: `$1` → `1994-01-01`.
    pub values: BTreeMap<String, String>,
}

/// What a bundle read of one table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TablePin {
    /// The table's format (`parquet`, `csv`, `delta`, or another `STORED AS` format).
    pub format: TableFormat,
    /// The location, relative to the workload folder (`$TPCH_DATA/…` for the built-in workloads; a
    /// URL for remote tables).
    pub location: String,
    /// Delta: the version read (the pinned one, else the latest).
    pub delta_version: Option<u64>,
    /// Data files in the table (Delta: active in that version).
    pub files: u64,
}

/// The plans of a bundle. Each is the text `EXPLAIN` prints for the query in a session with the same
/// config (indent format, not verbose; `show_statistics` and `show_schema` as the policy sets them),
/// with file paths written relative to the workload. A plan whose capture step failed is `null`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Plans {
    /// P0: the logical plan as the SQL planner made it (parameters bound), before the analyzer.
    /// `EXPLAIN VERBOSE` calls it `initial_logical_plan`.
    pub initial_logical: Option<String>,
    /// P1: after the analyzer and the logical optimizer (`EXPLAIN`'s `logical_plan`).
    pub optimized_logical: Option<String>,
    /// P2: after the physical planner and optimizer (`EXPLAIN`'s `physical_plan`).
    pub physical: Option<String>,
    /// The other renderings the policy asks for (`[explain] formats`), sorted by format, each of the
    /// plan DataFusion renders in it: `tree` the physical plan, `graphviz` and `pgjson` the optimized
    /// logical plan. `indent` is the plans above.
    pub renderings: Vec<Rendering>,
}

/// One plan in one `EXPLAIN` format.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Rendering {
    /// The `EXPLAIN` format.
    pub format: ExplainFormat,
    /// Which plan it shows.
    pub plan: PlanKind,
    /// The rendering, paths normalized.
    pub text: String,
}

named_enum! {
    names = "snake_case";
    // The variants stay undocumented: schemars writes a documented variant as a `oneOf` branch
    // instead of a name in the schema's `enum`.
    #[allow(missing_docs)]
    /// Which plan a rendering shows.
    pub enum PlanKind {
        OptimizedLogical,
        Physical,
    }
}

/// The rule-by-rule trace of the planning pass that produced the bundle's plans.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OptimizerTrace {
    /// The physical plan before the first physical optimizer rule (`initial_physical_plan`); the
    /// analyzer starts from `plans.initial_logical` and the logical optimizer from the analyzer's
    /// last plan.
    pub initial_physical: Option<String>,
    /// Every rule application in order: the analyzer's rules, then the logical optimizer's rules pass
    /// after pass (it stops when a pass changes nothing, at most `datafusion.optimizer.max_passes`),
    /// then the physical optimizer's rules.
    pub steps: Vec<TraceStep>,
}

/// One rule application.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TraceStep {
    /// The phase the rule belongs to.
    pub phase: Phase,
    /// The logical optimizer's pass, from 0; 0 for the analyzer and the physical optimizer.
    pub pass: u32,
    /// The rule's position in its phase's rule list, from 0. Physical rule names repeat
    /// (`OutputRequirements`, `ProjectionPushdown`), so a physical step is named by index and rule.
    pub index: u32,
    /// The rule's name, as `EXPLAIN VERBOSE` prints it.
    pub rule: String,
    /// Whether the plan's text differs from the step before (for the first step of a phase: from the
    /// plan the phase started with).
    pub changed: bool,
    /// The plan after the rule, only when it changed.
    pub plan: Option<String>,
}

named_enum! {
    names = "lowercase";
    // The variants stay undocumented: schemars writes a documented variant as a `oneOf` branch
    // instead of a name in the schema's `enum`.
    #[allow(missing_docs)]
    /// The planning phases a trace step belongs to.
    pub enum Phase {
        Analyzer,
        Logical,
        Physical,
    }
}

impl Phase {
    /// The prefix `EXPLAIN VERBOSE` gives the rows of this phase.
    pub fn explain_prefix(self) -> &'static str {
        match self {
            Phase::Analyzer | Phase::Logical => "logical_plan after",
            Phase::Physical => "physical_plan after",
        }
    }
}

/// Output rows of one operator of the physical plan after running it: the deterministic part of
/// `EXPLAIN ANALYZE` (DataFusion's `rows` metric category); no times, no memory, no bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OperatorRows {
    /// Depth in the plan (the root is 0); operators are listed depth first, as `EXPLAIN` prints
    /// them.
    pub depth: u32,
    /// The operator (`FilterExec`).
    pub operator: String,
    /// Rows it produced, summed over partitions; `null` when it does not count them.
    pub output_rows: Option<u64>,
}

/// A capture step that failed, or (advisory) a plan built on guesses the user may not be able to
/// fix, such as a join planned over a CSV table's unknown row counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CaptureWarning {
    /// The capture step.
    pub step: CaptureStep,
    /// DataFusion's error, with file paths written relative to the workload.
    pub message: String,
    /// The step did not fail: the warning is about the plan. Advisory warnings fail a command only
    /// under `--deny-warnings`; failed steps always do.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub advisory: bool,
}

impl CaptureWarning {
    /// A capture step that failed.
    pub fn failed(step: CaptureStep, message: impl Into<String>) -> CaptureWarning {
        CaptureWarning {
            step,
            message: message.into(),
            advisory: false,
        }
    }

    /// A warning about the plan; the step itself succeeded.
    pub fn advisory(step: CaptureStep, message: impl Into<String>) -> CaptureWarning {
        CaptureWarning {
            step,
            message: message.into(),
            advisory: true,
        }
    }

    /// Whether it fails a command: a failed step always, an advisory warning under
    /// `--deny-warnings`.
    pub fn fails(&self, deny_warnings: bool) -> bool {
        deny_warnings || !self.advisory
    }

    /// `advisory` or `failed step`, as reports label it.
    pub fn kind(&self) -> &'static str {
        if self.advisory {
            "advisory"
        } else {
            "failed step"
        }
    }
}

named_enum! {
    names = "snake_case";
    /// The capture steps that can fail without failing the bundle.
    pub enum CaptureStep {
        /// Reading a table's version and file count.
        TablePins,
        /// The SQL planner (P0).
        InitialLogical,
        /// Binding the parameter set.
        BindParameters,
        /// The analyzer and logical optimizer (P1).
        OptimizedLogical,
        /// The physical planner and optimizer (P2).
        Physical,
        /// Running the query for `EXPLAIN ANALYZE` row counts.
        Analyze,
        /// Reading the scans' statistics; also a join planned over unknown row counts.
        Statistics,
        /// Serializing the plan to Substrait or reading it back.
        Substrait,
        /// Ballista's distributed planner, or encoding its stages for the executors.
        DistributedStages,
    }
}

impl PlanBundle {
    /// Whether a command fails on this bundle: a policy finding or a failed capture step, or any
    /// warning at all when `deny_warnings`.
    pub fn fails(&self, deny_warnings: bool) -> bool {
        !self.findings.is_empty() || self.warnings.iter().any(|w| w.fails(deny_warnings))
    }

    /// The bundle as stable JSON: fields in declaration order, maps sorted, two-space indent,
    /// ending in a newline.
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).expect("bundles serialize");
        text.push('\n');
        text
    }

    /// A bundle read back from its JSON.
    pub fn from_json(text: &str) -> Result<PlanBundle, serde_json::Error> {
        serde_json::from_str(text)
    }
}

/// The bundle schema (JSON Schema draft-07), generated from [`PlanBundle`].
pub fn bundle_schema() -> &'static Value {
    static SCHEMA: OnceLock<Value> = OnceLock::new();
    SCHEMA.get_or_init(generate_json_schema::<PlanBundle>)
}

/// The bundle schema as the text checked in at [`SCHEMA_PATH`].
pub fn schema_text() -> String {
    document_text(bundle_schema())
}
