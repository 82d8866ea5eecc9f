//! Building a bundle: one planning pass per query, in a fresh session state, with every plan and
//! every rule application recorded on the way.
//!
//! The pass is DataFusion's own, taken apart where its parts are public: `create_logical_plan` (P0),
//! the analyzer and the logical optimizer with observers (P1), the query planner with the physical
//! optimizer rules wrapped to record their output (P2). `SessionState::create_physical_plan` is
//! exactly the analyzer, the optimizer and the query planner in a row, so the plans are the ones
//! `EXPLAIN` prints.

use std::collections::BTreeMap;
use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::Arc;

use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{DataFusionError, ParamValues, ScalarValue, TableReference};
use datafusion::execution::context::SessionState;
use datafusion::logical_expr::LogicalPlan;
use datafusion::physical_plan::{ExecutionPlan, displayable};
use datafusion::prelude::SessionContext;

use super::model::{
    BUNDLE_FORMAT, BoundParameters, CaptureStep, CaptureWarning, DeltaScan, OptimizerTrace, Phase,
    PlanBundle, PlanKind, Plans, PolicyIdentity, QueryIdentity, Rendering, SubstraitReadBack,
    TablePin, TraceStep,
};
use super::paths::{self, PathNormalizer};
use super::scans::{self, TableLocator};
use super::trace::{LogicalRecorder, PhysicalRenderer, record_physical, recording_state};
use super::{analyze, fingerprint, lineage, properties, pushdown, statistics};
use crate::policy::options::ExplainFormat;
use crate::registry::DATAFUSION_VERSION;
use crate::session::SessionFactory;
use crate::workload::show::data_file_count;
use crate::workload::{
    ParameterSet, ParameterValue, Query, RegisteredDelta, TableFormat, Workload, WorkloadError,
    delta_scans,
};

/// A workload set up once under a policy: its tables registered in a session, their pins read,
/// its paths' normalizer made. Every bundle then plans in a fresh state cloned from that session.
pub struct Bundler {
    factory: SessionFactory,
    workload: Workload,
    session: SessionContext,
    /// With the optimizer trace: the same session, its physical optimizer rules wrapped to record.
    recording: Option<SessionContext>,
    /// The Delta tables registered, for matching Delta scans to them.
    deltas: Vec<RegisteredDelta>,
    /// By the table's resolved name (`catalog.schema.table`): its declared name and pin.
    pins: BTreeMap<String, (String, TablePin)>,
    /// Every workload table's declared name, by its resolved name.
    names: BTreeMap<String, String>,
    pin_warnings: Vec<CaptureWarning>,
    normalizer: PathNormalizer,
    locator: TableLocator,
}

impl Bundler {
    /// Registers the workload's tables (generating a built-in workload's data first if missing) and
    /// reads their versions and file counts.
    pub async fn new(
        factory: &SessionFactory,
        workload: &Workload,
    ) -> Result<Bundler, WorkloadError> {
        let (session, deltas) = workload.session_with_tables(factory).await?;
        let normalizer = PathNormalizer::new(
            &workload.path_anchor(),
            &workload.tables,
            deltas.iter().map(|d| &d.facts),
        );
        let options = session.copied_config();
        let catalog = &options.options().catalog;
        let mut pins = BTreeMap::new();
        let mut names = BTreeMap::new();
        let mut pin_warnings = Vec::new();
        for table in &workload.tables {
            let resolved = TableReference::parse_str(&table.name)
                .resolve(&catalog.default_catalog, &catalog.default_schema)
                .to_string();
            names.insert(resolved.clone(), table.name.clone());
            let location = normalizer
                .location(&table.name)
                .map_or_else(|| table.location.to_string(), str::to_string);
            let pin = match table.format {
                TableFormat::Delta => {
                    deltas
                        .iter()
                        .find(|d| d.name == table.name)
                        .map(|d| TablePin {
                            format: table.format,
                            location,
                            delta_version: Some(d.facts.version),
                            files: d.facts.active_files as u64,
                        })
                }
                _ => match data_file_count(table) {
                    Some(files) => Some(TablePin {
                        format: table.format,
                        location,
                        delta_version: None,
                        files: files as u64,
                    }),
                    None => {
                        pin_warnings.push(CaptureWarning {
                            step: CaptureStep::TablePins,
                            message: format!(
                                "table `{}`: the files of remote {} tables are not counted",
                                table.name,
                                table.format.as_str()
                            ),
                        });
                        None
                    }
                },
            };
            if let Some(pin) = pin {
                pins.insert(resolved, (table.name.clone(), pin));
            }
        }
        let recording = factory
            .compiled()
            .explain
            .optimizer_trace
            .then(|| SessionContext::new_with_state(recording_state(session.state())));
        let locator = TableLocator::new(&workload.tables, &deltas);
        Ok(Bundler {
            factory: factory.clone(),
            workload: workload.clone(),
            session,
            recording,
            deltas,
            pins,
            names,
            pin_warnings,
            normalizer,
            locator,
        })
    }

    /// A bundle of one query: await it, or choose a parameter set first.
    pub fn bundle<'a>(&'a self, query: &'a Query) -> BundleBuilder<'a> {
        BundleBuilder {
            bundler: self,
            query,
            parameters: None,
            skipped: Vec::new(),
        }
    }

    /// How this workload's paths are written in bundles.
    pub fn normalizer(&self) -> &PathNormalizer {
        &self.normalizer
    }

    pub fn workload(&self) -> &Workload {
        &self.workload
    }

    pub fn factory(&self) -> &SessionFactory {
        &self.factory
    }

    /// The session the workload's tables are registered in (bundles plan in fresh clones of its
    /// state).
    pub fn session(&self) -> &SessionContext {
        &self.session
    }
}

/// One bundle to build: `.parameters(name)` chooses a parameter set, `.await` builds it.
pub struct BundleBuilder<'a> {
    bundler: &'a Bundler,
    query: &'a Query,
    parameters: Option<String>,
    skipped: Vec<Analysis>,
}

/// The analyses a bundle carries besides its plans; each can be left out (its field is then `null`),
/// for speed or to measure what each costs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Analysis {
    PhysicalTopologyHash,
    Statistics,
    Properties,
    Pushdown,
    Lineage,
    /// Only built with the cargo feature `substrait`.
    Substrait,
}

impl<'a> BundleBuilder<'a> {
    /// Binds the query's parameter set of this name (declared with `[[parameters]]`).
    pub fn parameters(mut self, name: impl Into<String>) -> Self {
        self.parameters = Some(name.into());
        self
    }

    /// Leaves an analysis out: its field is `null`.
    pub fn skip(mut self, analysis: Analysis) -> Self {
        self.skipped.push(analysis);
        self
    }

    /// Builds the bundle.
    pub async fn build(self) -> Result<PlanBundle, BundleError> {
        let wanted = |analysis: Analysis| !self.skipped.contains(&analysis);
        let set = self.parameter_set()?;
        let bundler = self.bundler;
        let query = self.query;
        let compiled = bundler.factory.compiled();
        let normalize = |text: &str| bundler.normalizer.normalize(text);
        let mut warnings = bundler.pin_warnings.clone();
        let mut warn = |step: CaptureStep, error: &DataFusionError| {
            warnings.push(CaptureWarning {
                step,
                message: normalize(&error.to_string()),
            });
        };

        // A fresh state per bundle: DataFusion's alias counters (`__common_expr_N`) live in it. A
        // query file that creates views gets a session of its own, so the shared one stays clean.
        let tracing = compiled.explain.optimizer_trace;
        let state = match (&bundler.recording, query.preparation.is_empty()) {
            (Some(recording), true) => recording.state(),
            (None, true) => bundler.session.state(),
            (recording, false) => {
                let state = bundler
                    .workload
                    .query_session(&bundler.factory, query)
                    .await?
                    .state();
                if recording.is_some() {
                    recording_state(state)
                } else {
                    state
                }
            }
        };
        let explain = state.config_options().explain.clone();

        // P0, then the parameters bound.
        let mut initial = match state.create_logical_plan(query.sql()).await {
            Ok(plan) => Some(plan),
            Err(error) => {
                warn(CaptureStep::InitialLogical, &error);
                None
            }
        };
        let mut bound = None;
        if let Some(set) = set
            && let Some(plan) = initial.take()
        {
            match bind(plan, set) {
                Ok((plan, parameters)) => {
                    initial = Some(plan);
                    bound = Some(parameters);
                }
                Err(error) => warn(CaptureStep::BindParameters, &error),
            }
        }
        let tables = initial
            .as_ref()
            .map(|plan| self.pins_of(plan, &state))
            .unwrap_or_default();

        // P1, with the analyzer's and the optimizer's steps.
        let mut steps: Vec<TraceStep> = Vec::new();
        let mut initial_text = None;
        let mut optimized_text = None;
        let optimized = match &initial {
            Some(plan) => {
                let result = optimize(&state, plan, tracing, &mut steps);
                initial_text = result.initial_text;
                optimized_text = result.optimized_text;
                match result.plan {
                    Ok(plan) => Some(plan),
                    Err(error) => {
                        warn(CaptureStep::OptimizedLogical, &error);
                        None
                    }
                }
            }
            None => None,
        };
        let (physical, snapshots) = match &optimized {
            Some(plan) => {
                let planning = state.query_planner().create_physical_plan(plan, &state);
                let (physical, snapshots) = record_physical(planning).await;
                match physical {
                    Ok(plan) => (Some(plan), snapshots),
                    Err(error) => {
                        warn(CaptureStep::Physical, &error);
                        (None, snapshots)
                    }
                }
            }
            None => (None, Vec::new()),
        };
        let render_physical = |plan: &dyn ExecutionPlan| {
            displayable(plan)
                .set_show_statistics(explain.show_statistics)
                .set_show_schema(explain.show_schema)
                .indent(false)
                .to_string()
        };
        let mut initial_physical = None;
        let mut physical_text = None;
        if tracing {
            let mut renderer = PhysicalRenderer::new(explain.show_statistics, explain.show_schema);
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
                    None => initial_physical = text.map(|t| normalize(t)),
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
            // The last rule's output is P2: its text is known.
            physical_text = previous
                .filter(|(plan, _)| physical.as_ref().is_some_and(|p| Arc::ptr_eq(p, plan)))
                .map(|(_, text)| text);
        }

        let mut renderings = Vec::new();
        let mut formats = compiled.explain.formats.clone();
        formats.sort();
        formats.dedup();
        for format in formats {
            let rendering = match format {
                ExplainFormat::Indent => None,
                ExplainFormat::Tree => physical.as_ref().map(|plan| {
                    (
                        PlanKind::Physical,
                        displayable(plan.as_ref())
                            .set_tree_maximum_render_width(explain.tree_maximum_render_width)
                            .tree_render()
                            .to_string(),
                    )
                }),
                ExplainFormat::Graphviz => optimized.as_ref().map(|plan| {
                    (
                        PlanKind::OptimizedLogical,
                        plan.display_graphviz().to_string(),
                    )
                }),
                ExplainFormat::Pgjson => optimized.as_ref().map(|plan| {
                    (
                        PlanKind::OptimizedLogical,
                        plan.display_pg_json().to_string(),
                    )
                }),
            };
            if let Some((plan, text)) = rendering {
                renderings.push(Rendering {
                    format,
                    plan,
                    text: normalize(&text),
                });
            }
        }

        let plans = Plans {
            initial_logical: initial.as_ref().map(|p| {
                normalize(
                    &initial_text
                        .take()
                        .unwrap_or_else(|| p.display_indent().to_string()),
                )
            }),
            optimized_logical: optimized.as_ref().map(|p| {
                normalize(
                    &optimized_text
                        .take()
                        .unwrap_or_else(|| p.display_indent().to_string()),
                )
            }),
            physical: physical.as_ref().map(|p| {
                normalize(
                    &physical_text
                        .take()
                        .unwrap_or_else(|| render_physical(p.as_ref())),
                )
            }),
            renderings,
        };

        let analyze = match (&physical, compiled.explain.analyze) {
            (Some(plan), true) => match analyze::output_rows(plan, &state).await {
                Ok(rows) => Some(rows),
                Err(error) => {
                    warn(CaptureStep::Analyze, &error);
                    None
                }
            },
            _ => None,
        };

        let physical_topology_hash = physical
            .as_ref()
            .filter(|_| wanted(Analysis::PhysicalTopologyHash))
            .map(fingerprint::physical_topology_hash);
        let delta_scans = physical
            .as_ref()
            .map(|plan| {
                delta_scans(plan, &bundler.deltas)
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
                            let mut files: Vec<String> =
                                scan.selected.iter().map(|f| normalize(f)).collect();
                            files.sort();
                            files
                        },
                        pruning_predicate: scan.parquet_predicate.map(|p| normalize(&p)),
                    })
                    .collect()
            })
            .unwrap_or_default();

        // The analyses, all from the plans above.
        let physical_scans = physical
            .as_ref()
            .filter(|_| {
                wanted(Analysis::Statistics)
                    || wanted(Analysis::Properties)
                    || wanted(Analysis::Pushdown)
            })
            .map(|plan| scans::physical_scans(plan, &bundler.locator))
            .unwrap_or_default();
        let mut findings = Vec::new();
        let statistics = physical
            .as_ref()
            .filter(|_| wanted(Analysis::Statistics))
            .map(|_| {
                let analysis = statistics::analyze(
                    &physical_scans,
                    compiled.statistics.minimum_quality,
                    state.config().collect_statistics(),
                );
                findings.extend(analysis.findings);
                warnings.extend(analysis.warnings.into_iter().map(|mut warning| {
                    warning.message = normalize(&warning.message);
                    warning
                }));
                analysis.report
            });
        let properties = physical
            .as_ref()
            .filter(|_| wanted(Analysis::Properties))
            .map(|plan| properties::analyze(plan, &physical_scans));
        let catalog = &state.config_options().catalog;
        let name_of = |reference: &TableReference| {
            let resolved = reference
                .clone()
                .resolve(&catalog.default_catalog, &catalog.default_schema)
                .to_string();
            bundler.names.get(&resolved).cloned()
        };
        let logical_scans = optimized
            .as_ref()
            .filter(|_| wanted(Analysis::Pushdown) || wanted(Analysis::Lineage))
            .map(|plan| scans::logical_scans(plan, &name_of))
            .unwrap_or_default();
        let pushdown = optimized
            .as_ref()
            .filter(|_| wanted(Analysis::Pushdown))
            .map(|_| pushdown::analyze(&logical_scans, &physical_scans, &state));
        let lineage = optimized
            .as_ref()
            .filter(|_| wanted(Analysis::Lineage))
            .map(|plan| lineage::analyze(plan, &logical_scans));
        let (substrait, substrait_round_trip, substrait_read_back) =
            match (&optimized, &plans.optimized_logical) {
                (Some(plan), Some(text)) if wanted(Analysis::Substrait) => {
                    substrait_of(plan, text, &bundler.normalizer, &state, &mut warnings).await
                }
                _ => (None, None, None),
            };

        let optimizer_trace = tracing.then(|| OptimizerTrace {
            initial_physical,
            steps: steps
                .into_iter()
                .map(|mut step| {
                    step.plan = step.plan.map(|text| normalize(&text));
                    step
                })
                .collect(),
        });

        let dialect = compiled
            .settings
            .get("datafusion.sql_parser.dialect")
            .cloned()
            .flatten()
            .unwrap_or_else(|| "generic".to_string());
        let mut statements: Vec<&str> = query.preparation.iter().map(|s| s.text.as_str()).collect();
        statements.push(query.sql());
        let query_fingerprint = fingerprint::query_fingerprint(&statements, &dialect);
        let plan_fingerprint = fingerprint::plan_fingerprint(
            &query_fingerprint,
            bound.as_ref(),
            &compiled.hashes.plan_environment_hash,
            &tables,
        );
        let anchor = bundler.workload.path_anchor();
        let file = if anchor.written_as.is_some() {
            query.file.clone()
        } else {
            let source = query
                .source
                .path
                .canonicalize()
                .unwrap_or_else(|_| query.source.path.clone());
            paths::relative(&anchor.folder, &source)
        };
        Ok(PlanBundle {
            bundle_format: BUNDLE_FORMAT,
            policy: PolicyIdentity {
                name: compiled.policy.clone(),
                policy_hash: compiled.hashes.policy_hash.clone(),
                settings_hash: compiled.hashes.settings_hash.clone(),
                plan_environment_hash: compiled.hashes.plan_environment_hash.clone(),
            },
            datafusion_version: DATAFUSION_VERSION.to_string(),
            workload: bundler.workload.name.clone(),
            query: QueryIdentity {
                name: query.name.clone(),
                file,
                preparation: query.preparation.iter().map(|s| s.text.clone()).collect(),
                statement: query.sql().to_string(),
                parameters: bound,
                query_fingerprint,
            },
            tables,
            plan_fingerprint,
            plans,
            physical_topology_hash,
            optimizer_trace,
            analyze,
            delta_scans,
            statistics,
            properties,
            pushdown,
            lineage,
            substrait,
            substrait_round_trip,
            substrait_read_back,
            findings,
            warnings,
        })
    }

    /// The parameter set to bind: the one named, or none for a query without placeholders.
    fn parameter_set(&self) -> Result<Option<&'a ParameterSet>, BundleError> {
        let query = self.query;
        let available = || {
            query
                .parameter_sets
                .iter()
                .map(|s| s.name.clone())
                .collect::<Vec<_>>()
        };
        match &self.parameters {
            Some(name) => query
                .parameter_sets
                .iter()
                .find(|s| s.name == *name)
                .map(Some)
                .ok_or_else(|| BundleError::UnknownParameterSet {
                    query: query.name.clone(),
                    name: name.clone(),
                    available: available(),
                }),
            None if query.placeholders.is_empty() => Ok(None),
            None if query.parameter_sets.is_empty() => Err(BundleError::MissingParameters {
                query: query.name.clone(),
                placeholders: query.placeholders.clone(),
            }),
            None => Err(BundleError::ParameterSetRequired {
                query: query.name.clone(),
                available: available(),
            }),
        }
    }

    /// The pins of the workload tables the plan scans (also inside subqueries).
    fn pins_of(&self, plan: &LogicalPlan, state: &SessionState) -> BTreeMap<String, TablePin> {
        let catalog = &state.config_options().catalog;
        let mut tables = BTreeMap::new();
        let _ = plan.apply_with_subqueries(|node| {
            if let LogicalPlan::TableScan(scan) = node {
                let resolved = scan
                    .table_name
                    .clone()
                    .resolve(&catalog.default_catalog, &catalog.default_schema)
                    .to_string();
                if let Some((name, pin)) = self.bundler.pins.get(&resolved) {
                    tables.insert(name.clone(), pin.clone());
                }
            }
            Ok(TreeNodeRecursion::Continue)
        });
        tables
    }
}

impl<'a> IntoFuture for BundleBuilder<'a> {
    type Output = Result<PlanBundle, BundleError>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send + 'a>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.build())
    }
}

/// The Substrait plan, whether it reads back to `text` (P1 as the bundle shows it), and how it
/// compares; a plan DataFusion cannot write or read back gets a warning.
#[cfg(feature = "substrait")]
async fn substrait_of(
    plan: &LogicalPlan,
    text: &str,
    normalizer: &PathNormalizer,
    state: &SessionState,
    warnings: &mut Vec<CaptureWarning>,
) -> (Option<String>, Option<bool>, Option<SubstraitReadBack>) {
    match super::substrait::substrait(plan, text, normalizer, state).await {
        Ok(substrait) => match substrait.read_back {
            Ok(read_back) => (
                Some(substrait.encoded),
                Some(read_back.first_difference.is_none()),
                Some(read_back),
            ),
            Err(error) => {
                warnings.push(CaptureWarning {
                    step: CaptureStep::Substrait,
                    message: format!("the Substrait plan does not read back: {error}"),
                });
                (Some(substrait.encoded), Some(false), None)
            }
        },
        Err(error) => {
            warnings.push(CaptureWarning {
                step: CaptureStep::Substrait,
                message: format!("DataFusion cannot write this plan as Substrait: {error}"),
            });
            (None, None, None)
        }
    }
}

/// Without the `substrait` feature there is no Substrait plan.
#[cfg(not(feature = "substrait"))]
async fn substrait_of(
    _plan: &LogicalPlan,
    _text: &str,
    _normalizer: &PathNormalizer,
    _state: &SessionState,
    _warnings: &mut Vec<CaptureWarning>,
) -> (Option<String>, Option<bool>, Option<SubstraitReadBack>) {
    (None, None, None)
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

/// Why a bundle could not be built at all (a failing capture step is a warning instead).
#[derive(Debug)]
pub enum BundleError {
    /// The workload could not be set up in a session (tables, preparatory statements).
    Workload(WorkloadError),
    /// `--params` names a set the query does not have.
    UnknownParameterSet {
        query: String,
        name: String,
        available: Vec<String>,
    },
    /// The query has placeholders and parameter sets, and none was chosen.
    ParameterSetRequired {
        query: String,
        available: Vec<String>,
    },
    /// The query has placeholders and the workload declares no parameter set for it.
    MissingParameters {
        query: String,
        placeholders: Vec<String>,
    },
}

impl fmt::Display for BundleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BundleError::Workload(error) => error.fmt(f),
            BundleError::UnknownParameterSet {
                query,
                name,
                available,
            } => {
                write!(f, "query `{query}` has no parameter set `{name}`")?;
                if available.is_empty() {
                    write!(f, " (it has none)")
                } else {
                    write!(f, " (it has: {})", available.join(", "))
                }
            }
            BundleError::ParameterSetRequired { query, available } => write!(
                f,
                "query `{query}` has placeholders: choose one of its parameter sets ({})",
                available.join(", ")
            ),
            BundleError::MissingParameters {
                query,
                placeholders,
            } => write!(
                f,
                "query `{query}` has placeholders ({}) and no parameter set: declare one with [[parameters]] in the workload file",
                placeholders.join(", ")
            ),
        }
    }
}

impl std::error::Error for BundleError {}

impl From<WorkloadError> for BundleError {
    fn from(error: WorkloadError) -> Self {
        BundleError::Workload(error)
    }
}
