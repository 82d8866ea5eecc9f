//! The planning pass of a bundle: P0, the parameter set bound, P1 through the analyzer and the
//! logical optimizer, P2 through the query planner and the physical optimizer — in a fresh session
//! state, recording every rule's output when the policy asks for the optimizer trace. It plans and
//! renders the three plans as `EXPLAIN` prints them; it analyses nothing (see `analyses`), so
//! callers that only need plans (many times, say) pay for nothing else.
//!
//! The pass is DataFusion's own, taken apart where its parts are public: `create_logical_plan` (P0),
//! the analyzer and the logical optimizer with observers (P1), the query planner with the physical
//! optimizer rules wrapped to record their output (P2). `SessionState::create_physical_plan` is
//! exactly the analyzer, the optimizer and the query planner in a row, so the plans are the ones
//! `EXPLAIN` prints.

use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{DataFusionError, ParamValues, ScalarValue};
use datafusion::execution::context::SessionState;
use datafusion::logical_expr::LogicalPlan;
use datafusion::physical_plan::{ExecutionPlan, displayable};

use super::model::{
    BoundParameters, CaptureStep, CaptureWarning, OptimizerTrace, Phase, TablePin, TraceStep,
};
use super::paths::PathNormalizer;
use super::trace::{LogicalRecorder, PhysicalRenderer, PhysicalSnapshot, record_physical};
use crate::workload::{ParameterSet, ParameterValue, Query};

/// What one planning pass produced. A step that failed left its plan `None` and a warning; the
/// steps after it did not run.
pub struct CapturedPlans {
    /// The fresh session state the query was planned in: the policy's config, the workload's tables.
    pub state: SessionState,
    /// P0, with the parameter set bound.
    pub initial: Option<LogicalPlan>,
    /// The parameter set bound into P0, with each value as the query's placeholder type prints it.
    pub parameters: Option<BoundParameters>,
    /// P1.
    pub optimized: Option<LogicalPlan>,
    /// P2.
    pub physical: Option<Arc<dyn ExecutionPlan>>,
    /// The plans as `EXPLAIN` prints them, paths normalized.
    pub texts: PlanTexts,
    /// Every rule's output, when the policy's `explain.optimizer_trace` is on; paths normalized.
    pub trace: Option<OptimizerTrace>,
    /// The pins of the workload tables the query scans, by declared name.
    pub tables: BTreeMap<String, TablePin>,
    /// The bundler's pin warnings, then every planning step that failed, in planning order.
    pub warnings: Vec<CaptureWarning>,
}

impl CapturedPlans {
    /// The workload tables the query reads, by declared name.
    pub fn scanned(&self) -> std::collections::BTreeSet<String> {
        self.tables.keys().cloned().collect()
    }
}

/// P0, P1 and P2 as `EXPLAIN` prints them (`indent`, the physical plan with the policy's
/// `show_statistics` and `show_schema`).
#[derive(Debug, Clone, Default)]
pub struct PlanTexts {
    /// P0.
    pub initial_logical: Option<String>,
    /// P1.
    pub optimized_logical: Option<String>,
    /// P2.
    pub physical: Option<String>,
}

/// What planning needs of the workload set up under a policy.
pub(super) struct Planning<'a> {
    /// Record every rule's output (the policy's `explain.optimizer_trace`; the state's physical
    /// rules must then be the recording ones).
    pub tracing: bool,
    pub normalizer: &'a PathNormalizer,
    /// By the table's resolved name (`catalog.schema.table`): its declared name and pin.
    pub pins: &'a BTreeMap<String, (String, TablePin)>,
    /// Warnings of reading the pins, which every bundle carries first.
    pub pin_warnings: &'a [CaptureWarning],
}

/// Plans `query` (with `set` bound) in `state`, a fresh session state of the policy.
pub(super) async fn plan(
    state: SessionState,
    query: &Query,
    set: Option<&ParameterSet>,
    planning: &Planning<'_>,
) -> CapturedPlans {
    let tracing = planning.tracing;
    let normalize = |text: &str| planning.normalizer.normalize(text);
    let mut warnings = planning.pin_warnings.to_vec();
    let mut warn = |step: CaptureStep, error: DataFusionError| {
        warnings.push(CaptureWarning::failed(step, normalize(&error.to_string())));
    };

    let (initial, parameters) = logical_plan(&state, query, set, &mut warn).await;
    let tables = initial
        .as_ref()
        .map(|plan| scanned_tables(plan, &state, planning.pins))
        .unwrap_or_default();

    let mut steps = Vec::new();
    let (optimized, initial_text, optimized_text) = match &initial {
        Some(plan) => {
            let result = optimize(&state, plan, tracing, &mut steps);
            let optimized = result
                .plan
                .map_err(|e| warn(CaptureStep::OptimizedLogical, e));
            (optimized.ok(), result.initial_text, result.optimized_text)
        }
        None => (None, None, None),
    };

    let (physical, snapshots) = match &optimized {
        Some(plan) => {
            let physical_planning = state.query_planner().create_physical_plan(plan, &state);
            let (physical, snapshots) = record_physical(physical_planning).await;
            (
                physical.map_err(|e| warn(CaptureStep::Physical, e)).ok(),
                snapshots,
            )
        }
        None => (None, Vec::new()),
    };
    let (trace, physical_text) = if tracing {
        let (trace, physical_text) = trace(&state, steps, snapshots, physical.as_ref(), planning);
        (Some(trace), physical_text)
    } else {
        (None, None)
    };
    let texts = PlanTexts {
        initial_logical: initial
            .as_ref()
            .map(|p| normalize(&initial_text.unwrap_or_else(|| p.display_indent().to_string()))),
        optimized_logical: optimized
            .as_ref()
            .map(|p| normalize(&optimized_text.unwrap_or_else(|| p.display_indent().to_string()))),
        physical: physical.as_ref().map(|p| {
            normalize(&physical_text.unwrap_or_else(|| {
                let explain = &state.config_options().explain;
                displayable(p.as_ref())
                    .set_show_statistics(explain.show_statistics)
                    .set_show_schema(explain.show_schema)
                    .indent(false)
                    .to_string()
            }))
        }),
    };
    CapturedPlans {
        state,
        initial,
        parameters,
        optimized,
        physical,
        texts,
        trace,
        tables,
        warnings,
    }
}

/// P0 and, with a parameter set, P0 with its values bound; a step that fails is a warning.
async fn logical_plan(
    state: &SessionState,
    query: &Query,
    set: Option<&ParameterSet>,
    warn: &mut impl FnMut(CaptureStep, DataFusionError),
) -> (Option<LogicalPlan>, Option<BoundParameters>) {
    let initial = match state.create_logical_plan(query.sql()).await {
        Ok(plan) => plan,
        Err(error) => {
            warn(CaptureStep::InitialLogical, error);
            return (None, None);
        }
    };
    let Some(set) = set else {
        return (Some(initial), None);
    };
    match bind(initial, set) {
        Ok((plan, parameters)) => (Some(plan), Some(parameters)),
        Err(error) => {
            warn(CaptureStep::BindParameters, error);
            (None, None)
        }
    }
}

/// What the logical phases produced: P1, or the error; with the trace, the texts of P0 and P1 (the
/// recorders rendered them already).
struct Optimized {
    plan: datafusion::common::Result<LogicalPlan>,
    initial_text: Option<String>,
    optimized_text: Option<String>,
}

/// The analyzer and the logical optimizer, as `SessionState::optimize` runs them, recording each
/// step when `tracing`.
fn optimize(
    state: &SessionState,
    plan: &LogicalPlan,
    tracing: bool,
    steps: &mut Vec<TraceStep>,
) -> Optimized {
    if !tracing {
        let plan = state
            .analyzer()
            .execute_and_check(plan.clone(), state.config_options(), |_, _| {})
            .and_then(|analyzed| state.optimizer().optimize(analyzed, state, |_, _| {}));
        return Optimized {
            plan,
            initial_text: None,
            optimized_text: None,
        };
    }
    let analyzer_rules = state
        .analyzer()
        .rules
        .iter()
        .map(|r| Arc::as_ptr(r) as *const ())
        .collect();
    let mut analyzer = LogicalRecorder::new(Phase::Analyzer, analyzer_rules, plan, None);
    let initial_text = Some(analyzer.text().to_string());
    let analyzed =
        state
            .analyzer()
            .execute_and_check(plan.clone(), state.config_options(), |plan, rule| {
                analyzer.observe(plan, rule as *const _ as *const (), rule.name())
            });
    steps.append(&mut analyzer.steps);
    let analyzed = match analyzed {
        Ok(analyzed) => analyzed,
        Err(error) => {
            return Optimized {
                plan: Err(error),
                initial_text,
                optimized_text: None,
            };
        }
    };
    let optimizer_rules = state
        .optimizers()
        .iter()
        .map(|r| Arc::as_ptr(r) as *const ())
        .collect();
    // The analyzer's last plan is the analyzed plan: its text is known.
    let mut optimizer = LogicalRecorder::new(
        Phase::Logical,
        optimizer_rules,
        &analyzed,
        Some(analyzer.text().to_string()),
    );
    let optimized = state.optimizer().optimize(analyzed, state, |plan, rule| {
        optimizer.observe(plan, rule as *const _ as *const (), rule.name())
    });
    steps.append(&mut optimizer.steps);
    let optimized_text = optimized.is_ok().then(|| optimizer.text().to_string());
    Optimized {
        plan: optimized,
        initial_text,
        optimized_text,
    }
}

/// The whole trace, paths normalized: the logical `steps` recorded while optimizing, then the
/// physical ones rebuilt from the snapshots; and P2's text when the last snapshot is P2.
fn trace(
    state: &SessionState,
    mut steps: Vec<TraceStep>,
    snapshots: Vec<PhysicalSnapshot>,
    physical: Option<&Arc<dyn ExecutionPlan>>,
    planning: &Planning<'_>,
) -> (OptimizerTrace, Option<String>) {
    let normalize = |text: &str| planning.normalizer.normalize(text);
    let explain = &state.config_options().explain;
    let physical_trace = physical_trace(
        snapshots,
        PhysicalRenderer::new(explain.show_statistics, explain.show_schema),
        physical,
    );
    steps.extend(physical_trace.steps);
    let trace = OptimizerTrace {
        initial_physical: physical_trace.initial_physical.map(|text| normalize(&text)),
        steps: steps
            .into_iter()
            .map(|mut step| {
                step.plan = step.plan.map(|text| normalize(&text));
                step
            })
            .collect(),
    };
    (trace, physical_trace.final_text)
}

/// The physical half of the trace, rebuilt from the recorded snapshots.
struct PhysicalTrace {
    /// The plan the query planner made, before any physical rule.
    initial_physical: Option<String>,
    /// One step per physical rule application, in order.
    steps: Vec<TraceStep>,
    /// P2's text, when the last rule's output is P2 (it always is when planning succeeded).
    final_text: Option<String>,
}

/// Each physical rule's output, rendered once: a rule that returned the same plan object is
/// unchanged without rendering it again; one that made a new object is rendered and compared.
fn physical_trace(
    snapshots: Vec<PhysicalSnapshot>,
    mut renderer: PhysicalRenderer,
    physical: Option<&Arc<dyn ExecutionPlan>>,
) -> PhysicalTrace {
    let mut initial_physical = None;
    let mut steps = Vec::new();
    let mut previous: Option<(Arc<dyn ExecutionPlan>, String)> = None;
    for snapshot in snapshots {
        let same_plan = previous
            .as_ref()
            .is_some_and(|(plan, _)| Arc::ptr_eq(plan, &snapshot.plan));
        let mut changed = false;
        if !same_plan {
            let text = renderer.render(&snapshot.plan);
            changed = previous.as_ref().is_none_or(|(_, before)| *before != text);
            previous = Some((Arc::clone(&snapshot.plan), text));
        }
        let text = previous.as_ref().map(|(_, text)| text);
        match snapshot.index {
            None => initial_physical = text.cloned(),
            Some(index) => steps.push(TraceStep {
                phase: Phase::Physical,
                pass: 0,
                index: u32::try_from(index).unwrap_or(u32::MAX),
                rule: snapshot.rule,
                changed,
                plan: if changed { text.cloned() } else { None },
            }),
        }
    }
    let final_text = previous
        .filter(|(plan, _)| physical.is_some_and(|p| Arc::ptr_eq(p, plan)))
        .map(|(_, text)| text);
    PhysicalTrace {
        initial_physical,
        steps,
        final_text,
    }
}

/// Binds a parameter set: each value cast to the type the query gives its placeholder (as `EXECUTE`
/// casts to a prepared statement's types), positional sets as a list, named sets as a map.
fn bind(
    plan: LogicalPlan,
    set: &ParameterSet,
) -> datafusion::common::Result<(LogicalPlan, BoundParameters)> {
    let types = plan.get_parameter_types()?;
    let mut values = Vec::new();
    for (id, value) in &set.values {
        let scalar = match value {
            ParameterValue::Boolean(b) => ScalarValue::Boolean(Some(*b)),
            ParameterValue::Integer(i) => ScalarValue::Int64(Some(*i)),
            ParameterValue::Float(f) => ScalarValue::Float64(Some(*f)),
            ParameterValue::Text(t) => ScalarValue::Utf8(Some(t.clone())),
        };
        let scalar = match types.get(id) {
            Some(Some(wanted)) if scalar.data_type() != *wanted => {
                scalar.cast_to(wanted).map_err(|error| {
                    DataFusionError::Plan(format!(
                        "parameter `{id}` of set `{}`: cannot use {value:?} as {wanted}: {error}",
                        set.name
                    ))
                })?
            }
            _ => scalar,
        };
        values.push((id.clone(), scalar));
    }
    let positional: Option<Vec<(usize, ScalarValue)>> = values
        .iter()
        .map(|(id, scalar)| {
            id.strip_prefix('$')
                .and_then(|n| n.parse::<usize>().ok())
                .map(|n| (n, scalar.clone()))
        })
        .collect();
    let param_values = match positional {
        Some(mut list) => {
            list.sort_by_key(|(n, _)| *n);
            ParamValues::from(list.into_iter().map(|(_, s)| s).collect::<Vec<_>>())
        }
        None => ParamValues::from(
            values
                .iter()
                .map(|(id, s)| (id.trim_start_matches('$').to_string(), s.clone()))
                .collect::<Vec<_>>(),
        ),
    };
    let bound = plan.with_param_values(param_values)?;
    Ok((
        bound,
        BoundParameters {
            name: set.name.clone(),
            values: values
                .into_iter()
                .map(|(id, scalar)| (id, scalar.to_string()))
                .collect(),
        },
    ))
}

/// The pins of the workload tables `plan` scans (also inside subqueries), by declared name.
fn scanned_tables(
    plan: &LogicalPlan,
    state: &SessionState,
    pins: &BTreeMap<String, (String, TablePin)>,
) -> BTreeMap<String, TablePin> {
    let catalog = &state.config_options().catalog;
    let mut tables = BTreeMap::new();
    let _ = plan.apply_with_subqueries(|node| {
        if let LogicalPlan::TableScan(scan) = node {
            let resolved = scan
                .table_name
                .clone()
                .resolve(&catalog.default_catalog, &catalog.default_schema)
                .to_string();
            if let Some((name, pin)) = pins.get(&resolved) {
                tables.insert(name.clone(), pin.clone());
            }
        }
        Ok(TreeNodeRecursion::Continue)
    });
    tables
}
