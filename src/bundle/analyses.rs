//! What a bundle says about its plans besides the plans themselves, each a small function over one
//! [`CapturedPlans`]: the `EXPLAIN` renderings, `EXPLAIN ANALYZE` row counts, the physical topology
//! hash, Delta scans, statistics quality, physical properties, filter pushdown, lineage and
//! Substrait. None of them plans again: they read the plans the planning pass made.

use datafusion::common::TableReference;
use datafusion::execution::context::SessionState;
use datafusion::logical_expr::LogicalPlan;
use datafusion::physical_plan::displayable;

use super::model::{
    BundleFinding, CaptureStep, CaptureWarning, DeltaScan, DistributedStages, FilterPushdown,
    Lineage, OperatorRows, PhysicalProperties, PlanKind, Rendering, StatisticsReport,
    SubstraitReadBack,
};
use super::paths::PathNormalizer;
use super::plan::CapturedPlans;
use super::scans::{self, LogicalScan, PhysicalScan, TableLocator};
use super::{fingerprint, lineage, output_rows, properties, pushdown, statistics};
use crate::compile::CompiledPolicy;
use crate::policy::options::ExplainFormat;
use crate::workload::{RegisteredDelta, ScanOwners, delta_scans};

/// The analyses a bundle carries besides its plans; each can be left out (its field is then `null`),
/// for speed or to measure what each costs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Analysis {
    /// `physical_topology_hash`.
    PhysicalTopologyHash,
    /// `statistics`: what the planner knew of each scan.
    Statistics,
    /// `properties`: partitioning, ordering and pipeline breakers.
    Properties,
    /// `pushdown`: the filters each scan received.
    Pushdown,
    /// `lineage`: the tables, columns and functions the plan uses.
    Lineage,
    /// Only built with the cargo feature `substrait`.
    Substrait,
}

/// What the analyses need of the workload set up under a policy.
pub(super) struct Context<'a> {
    pub compiled: &'a CompiledPolicy,
    pub normalizer: &'a PathNormalizer,
    /// Each physical scan's workload table.
    pub locator: &'a TableLocator,
    /// The Delta tables registered, for matching Delta scans to them.
    pub deltas: &'a [RegisteredDelta],
    /// Every workload table's declared name, by its resolved name.
    pub names: &'a std::collections::BTreeMap<String, String>,
    /// The metadata snapshot the tables are served from (as shown), when they are.
    pub snapshot: Option<&'a str>,
}

/// The finding code of an analysis that needs data the workload does not have.
pub const NEEDS_DATA: &str = "needs-data";

/// The analyses of one bundle; a field is empty when its analysis was left out or its plan is
/// missing.
#[derive(Default)]
pub(super) struct Analyses {
    pub renderings: Vec<Rendering>,
    pub analyze: Option<Vec<OperatorRows>>,
    pub physical_topology_hash: Option<String>,
    pub delta_scans: Vec<DeltaScan>,
    pub statistics: Option<StatisticsReport>,
    pub properties: Option<PhysicalProperties>,
    pub pushdown: Option<FilterPushdown>,
    pub lineage: Option<Lineage>,
    pub substrait: SubstraitFields,
    pub distributed_stages: Option<DistributedStages>,
    pub findings: Vec<BundleFinding>,
    /// Analyses that failed or found something to look at, in the order they ran.
    pub warnings: Vec<CaptureWarning>,
}

/// The three Substrait fields of a bundle.
#[derive(Default)]
pub(super) struct SubstraitFields {
    pub encoded: Option<String>,
    pub round_trip: Option<bool>,
    pub read_back: Option<SubstraitReadBack>,
}

/// Runs every analysis `wanted` accepts over `plans`, and the ones the policy asks for
/// (`explain.formats`, `explain.analyze`).
pub(super) async fn analyses(
    context: &Context<'_>,
    plans: &CapturedPlans,
    wanted: impl Fn(Analysis) -> bool,
) -> Analyses {
    let compiled = context.compiled;
    let normalizer = context.normalizer;
    // The tables the query reads: which of two tables at one location a scan is.
    let scanned = plans.scanned();
    let mut analyses = Analyses {
        renderings: renderings(plans, &compiled.explain.formats, normalizer),
        delta_scans: delta_scans_of(context, plans, &scanned),
        ..Analyses::default()
    };
    if compiled.explain.analyze {
        match context.snapshot {
            // Running the plan reads data pages, which a snapshot does not hold: say so, once,
            // instead of failing on the first page.
            Some(snapshot) => analyses.findings.push(BundleFinding {
                code: NEEDS_DATA.to_string(),
                message: format!(
                    "`explain.analyze` runs the plan, which needs the data; the workload is the \
                     metadata snapshot `{snapshot}` (plans only): run this policy over the data"
                ),
            }),
            None => {
                analyses.analyze = output_rows_of(plans, normalizer, &mut analyses.warnings).await;
            }
        }
    }
    let Some(physical) = &plans.physical else {
        // Pushdown and lineage read P1, which exists without P2 when only physical planning failed.
        logical_analyses(context, plans, &[], &wanted, &mut analyses);
        analyses.substrait = substrait_of(plans, normalizer, &wanted, &mut analyses.warnings).await;
        return analyses;
    };
    if wanted(Analysis::PhysicalTopologyHash) {
        analyses.physical_topology_hash = Some(fingerprint::physical_topology_hash(physical));
    }
    let physical_scans = if wanted(Analysis::Statistics)
        || wanted(Analysis::Properties)
        || wanted(Analysis::Pushdown)
    {
        scans::physical_scans(
            physical,
            context.locator,
            ScanOwners::new(context.deltas, &scanned),
        )
    } else {
        Vec::new()
    };
    if wanted(Analysis::Statistics) {
        let analysis = statistics::analyze(
            &physical_scans,
            compiled.statistics.minimum_quality,
            plans.state.config().collect_statistics(),
        );
        analyses.findings.extend(analysis.findings);
        analyses
            .warnings
            .extend(analysis.warnings.into_iter().map(|mut warning| {
                warning.message = normalizer.normalize(&warning.message);
                warning
            }));
        analyses.statistics = Some(analysis.report);
    }
    if wanted(Analysis::Properties) {
        analyses.properties = Some(properties::analyze(physical, &physical_scans));
    }
    distributed_stages_of(context, plans, physical, &mut analyses);
    logical_analyses(context, plans, &physical_scans, &wanted, &mut analyses);
    analyses.substrait = substrait_of(plans, normalizer, &wanted, &mut analyses.warnings).await;
    analyses
}

/// The `EXPLAIN` formats the policy asks for besides `indent` (which is `plans`), each once.
fn renderings(
    plans: &CapturedPlans,
    formats: &[ExplainFormat],
    normalizer: &PathNormalizer,
) -> Vec<Rendering> {
    let explain = &plans.state.config_options().explain;
    let mut formats = formats.to_vec();
    formats.sort();
    formats.dedup();
    formats
        .into_iter()
        .filter_map(|format| {
            let (plan, text) = match format {
                ExplainFormat::Indent => return None,
                ExplainFormat::Tree => (
                    PlanKind::Physical,
                    displayable(plans.physical.as_ref()?.as_ref())
                        .set_tree_maximum_render_width(explain.tree_maximum_render_width)
                        .tree_render()
                        .to_string(),
                ),
                ExplainFormat::Graphviz => (
                    PlanKind::OptimizedLogical,
                    plans.optimized.as_ref()?.display_graphviz().to_string(),
                ),
                ExplainFormat::Pgjson => (
                    PlanKind::OptimizedLogical,
                    plans.optimized.as_ref()?.display_pg_json().to_string(),
                ),
            };
            Some(Rendering {
                format,
                plan,
                text: normalizer.normalize(&text),
            })
        })
        .collect()
}

/// `EXPLAIN ANALYZE`'s row counts: runs P2 to completion. A run that fails is a warning.
async fn output_rows_of(
    plans: &CapturedPlans,
    normalizer: &PathNormalizer,
    warnings: &mut Vec<CaptureWarning>,
) -> Option<Vec<OperatorRows>> {
    let physical = plans.physical.as_ref()?;
    match output_rows::output_rows(physical, &plans.state).await {
        Ok(rows) => Some(rows),
        Err(error) => {
            warnings.push(CaptureWarning::failed(
                CaptureStep::Analyze,
                normalizer.normalize(&error.to_string()),
            ));
            None
        }
    }
}

/// The files each Delta scan of P2 reads, attributed to the workload's tables.
fn delta_scans_of(
    context: &Context<'_>,
    plans: &CapturedPlans,
    scanned: &std::collections::BTreeSet<String>,
) -> Vec<DeltaScan> {
    let Some(physical) = &plans.physical else {
        return Vec::new();
    };
    let normalize = |text: &str| context.normalizer.normalize(text);
    delta_scans(physical, context.deltas, scanned)
        .into_iter()
        .map(|scan| DeltaScan {
            selected_ratio: scan
                .files_in_version
                .filter(|&files| files > 0)
                .map(|files| scan.files_selected as f64 / files as f64),
            table: scan.table,
            version: scan.version,
            files_in_version: scan.files_in_version.map(|n| n as u64),
            files_selected: scan.files_selected as u64,
            selected: {
                // Sorted again: the random names sorted the list before.
                let mut files: Vec<String> = scan.selected.iter().map(|f| normalize(f)).collect();
                files.sort();
                files
            },
            pruning_predicate: scan.parquet_predicate.map(|p| normalize(&p)),
        })
        .collect()
}

/// Pushdown and lineage: both read P1's table scans (and pushdown P2's scans too).
fn logical_analyses(
    context: &Context<'_>,
    plans: &CapturedPlans,
    physical_scans: &[PhysicalScan],
    wanted: &impl Fn(Analysis) -> bool,
    analyses: &mut Analyses,
) {
    let Some(optimized) = &plans.optimized else {
        return;
    };
    if !wanted(Analysis::Pushdown) && !wanted(Analysis::Lineage) {
        return;
    }
    let logical_scans = logical_scans(context, optimized, &plans.state);
    if wanted(Analysis::Pushdown) {
        analyses.pushdown = Some(pushdown::analyze(
            &logical_scans,
            physical_scans,
            &plans.state,
        ));
    }
    if wanted(Analysis::Lineage) {
        analyses.lineage = Some(lineage::analyze(optimized, &logical_scans));
    }
}

/// P1's table scans, each with the workload's name for its table.
fn logical_scans(
    context: &Context<'_>,
    plan: &LogicalPlan,
    state: &SessionState,
) -> Vec<LogicalScan> {
    let catalog = &state.config_options().catalog;
    let name_of = |reference: &TableReference| {
        let resolved = reference
            .clone()
            .resolve(&catalog.default_catalog, &catalog.default_schema)
            .to_string();
        context.names.get(&resolved).cloned()
    };
    scans::logical_scans(plan, &name_of)
}

/// A Ballista policy's static stage plan, with a finding when the client cannot send the query to
/// the scheduler and one per stage the scheduler cannot send to an executor; a failing distributed
/// planner is a warning.
#[cfg(feature = "ballista")]
fn distributed_stages_of(
    context: &Context<'_>,
    plans: &CapturedPlans,
    physical: &std::sync::Arc<dyn datafusion::physical_plan::ExecutionPlan>,
    analyses: &mut Analyses,
) {
    let Some(ballista) = &context.compiled.ballista else {
        return;
    };
    let adaptive = ballista
        .settings
        .get("ballista.planner.adaptive.enabled")
        .cloned()
        .flatten()
        .is_none_or(|v| v == "true");
    if let Some(optimized) = &plans.optimized {
        analyses
            .findings
            .extend(super::distributed::job_submission_finding(
                optimized,
                plans.state.config(),
                context.normalizer,
            ));
    }
    match super::distributed::distributed_stages(
        physical,
        plans.state.config(),
        adaptive,
        context.normalizer,
    ) {
        Ok((stages, findings)) => {
            analyses.distributed_stages = Some(stages);
            analyses.findings.extend(findings);
        }
        Err(error) => analyses.warnings.push(CaptureWarning::failed(
            CaptureStep::DistributedStages,
            context
                .normalizer
                .normalize(&format!("Ballista's distributed planner fails: {error}")),
        )),
    }
}

/// Without the `ballista` feature no session of a Ballista policy is made, so there is no plan to
/// stage (see [`crate::session::SessionFactory::new`]).
#[cfg(not(feature = "ballista"))]
fn distributed_stages_of(
    _context: &Context<'_>,
    _plans: &CapturedPlans,
    _physical: &std::sync::Arc<dyn datafusion::physical_plan::ExecutionPlan>,
    _analyses: &mut Analyses,
) {
}

/// The Substrait plan, whether it reads back to P1's text as the bundle holds it, and how it
/// compares; a plan DataFusion cannot write or read back gets a warning.
#[cfg(feature = "substrait")]
async fn substrait_of(
    plans: &CapturedPlans,
    normalizer: &PathNormalizer,
    wanted: &impl Fn(Analysis) -> bool,
    warnings: &mut Vec<CaptureWarning>,
) -> SubstraitFields {
    let (Some(plan), Some(text)) = (&plans.optimized, &plans.texts.optimized_logical) else {
        return SubstraitFields::default();
    };
    if !wanted(Analysis::Substrait) {
        return SubstraitFields::default();
    }
    let mut warn =
        |message: String| warnings.push(CaptureWarning::failed(CaptureStep::Substrait, message));
    match super::substrait::substrait(plan, text, normalizer, &plans.state).await {
        Ok(substrait) => match substrait.read_back {
            Ok(read_back) => SubstraitFields {
                encoded: Some(substrait.encoded),
                round_trip: Some(read_back.first_difference.is_none()),
                read_back: Some(read_back),
            },
            Err(error) => {
                warn(format!("the Substrait plan does not read back: {error}"));
                SubstraitFields {
                    encoded: Some(substrait.encoded),
                    round_trip: Some(false),
                    read_back: None,
                }
            }
        },
        Err(error) => {
            warn(format!(
                "DataFusion cannot write this plan as Substrait: {error}"
            ));
            SubstraitFields::default()
        }
    }
}

/// Without the `substrait` feature there is no Substrait plan.
#[cfg(not(feature = "substrait"))]
async fn substrait_of(
    _plans: &CapturedPlans,
    _normalizer: &PathNormalizer,
    _wanted: &impl Fn(Analysis) -> bool,
    _warnings: &mut Vec<CaptureWarning>,
) -> SubstraitFields {
    SubstraitFields::default()
}
