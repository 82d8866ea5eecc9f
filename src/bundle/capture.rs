//! Building a bundle in three parts: [`plan`](super::plan) (one planning pass in a fresh session
//! state, with every rule application recorded when the policy asks), [`analyses`](super::analyses)
//! (what the plans say on review, each read from that one pass), and [`assemble`] (the bundle
//! around them, with its identity and fingerprints). [`Bundler`] sets a workload up once per policy;
//! [`BundleBuilder`] builds one query's bundle, or only its plans.

use std::collections::{BTreeMap, HashMap};
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::Mutex;

use datafusion::common::TableReference;
use datafusion::execution::context::SessionState;
use datafusion::prelude::SessionContext;

use super::analyses::{self, Analyses, Analysis};
use super::fingerprint;
use super::model::{
    BUNDLE_FORMAT, CaptureStep, CaptureWarning, PlanBundle, Plans, PolicyIdentity, QueryIdentity,
    TablePin,
};
use super::paths::{self, PathNormalizer};
use super::plan::{self, CapturedPlans, Planning};
use super::scans::TableLocator;
use super::trace::recording_state;
use crate::registry::DATAFUSION_VERSION;
use crate::session::SessionFactory;
use crate::workload::show::data_file_count;
use crate::workload::{ParameterSet, Query, RegisteredDelta, TableFormat, Workload, WorkloadError};

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
    /// Query fingerprints by dialect and statements: a query bundled again (another parameter set,
    /// `--repeat`, a sweep) is not tokenized again.
    query_fingerprints: Mutex<HashMap<(String, Vec<String>), String>>,
}

impl Bundler {
    /// Registers the workload's tables (generating a built-in workload's data first if missing) and
    /// reads their versions and file counts.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> dfpolicy::Result<()> {
    /// use dfpolicy::{Bundler, Policy, SessionFactory, Workload};
    /// let factory = SessionFactory::new(Policy::load("policies/baseline.toml")?.compiled)?;
    /// let sales = Workload::load("workloads/sales/sales.toml")?;
    /// let bundler = Bundler::new(&factory, &sales).await?;
    /// let bundle = bundler.bundle(sales.query("big_spenders").unwrap()).await?;
    /// assert!(bundle.plans.physical.unwrap().contains("DataSourceExec"));
    /// assert!(bundle.physical_topology_hash.unwrap().starts_with("v1:"));
    /// # Ok(()) }
    /// ```
    pub async fn new(
        factory: &SessionFactory,
        workload: &Workload,
    ) -> Result<Bundler, WorkloadError> {
        let (session, registered) = workload.session_with_registered(factory).await?;
        let deltas = registered.deltas;
        let normalizer = PathNormalizer::new(
            &workload.path_anchor(),
            &workload.tables,
            deltas.iter().map(|d| &d.facts),
        );
        let options = session.copied_config();
        let TablePins {
            pins,
            names,
            warnings: pin_warnings,
        } = TablePins::read(
            workload,
            &deltas,
            &registered.remote_files,
            &normalizer,
            &options.options().catalog,
        );
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
            query_fingerprints: Mutex::default(),
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

    /// The workload the bundler plans.
    pub fn workload(&self) -> &Workload {
        &self.workload
    }

    /// The factory of the sessions it plans in.
    pub fn factory(&self) -> &SessionFactory {
        &self.factory
    }

    /// The session the workload's tables are registered in (bundles plan in fresh clones of its
    /// state).
    pub fn session(&self) -> &SessionContext {
        &self.session
    }

    /// A fresh session state for one query: DataFusion's alias counters (`__common_expr_N`) live in
    /// the state. A query file that creates views gets a session of its own, so the shared one stays
    /// clean. With the optimizer trace, the physical rules are wrapped to record.
    async fn fresh_state(&self, query: &Query) -> Result<SessionState, BundleError> {
        if query.preparation.is_empty() {
            return Ok(self.recording.as_ref().unwrap_or(&self.session).state());
        }
        let state = self
            .workload
            .query_session(&self.factory, query)
            .await?
            .state();
        Ok(if self.recording.is_some() {
            recording_state(state)
        } else {
            state
        })
    }

    /// What planning needs of this bundler.
    fn planning(&self) -> Planning<'_> {
        Planning {
            tracing: self.recording.is_some(),
            normalizer: &self.normalizer,
            pins: &self.pins,
            pin_warnings: &self.pin_warnings,
        }
    }

    /// What the analyses need of this bundler.
    fn analysis_context(&self) -> analyses::Context<'_> {
        analyses::Context {
            compiled: self.factory.compiled(),
            normalizer: &self.normalizer,
            locator: &self.locator,
            deltas: &self.deltas,
            names: &self.names,
            snapshot: self
                .workload
                .served_from()
                .snapshot()
                .map(|served| served.shown.as_str()),
        }
    }

    /// The query's `v1:` fingerprint in `dialect` (see [`fingerprint::query_fingerprint`]).
    fn query_fingerprint(&self, query: &Query, dialect: &str) -> String {
        let mut statements: Vec<String> =
            query.preparation.iter().map(|s| s.text.clone()).collect();
        statements.push(query.sql().to_string());
        let key = (dialect.to_string(), statements);
        let mut known = self.query_fingerprints.lock().expect("no holder panics");
        if let Some(fingerprint) = known.get(&key) {
            return fingerprint.clone();
        }
        let texts: Vec<&str> = key.1.iter().map(String::as_str).collect();
        let fingerprint = fingerprint::query_fingerprint(&texts, dialect);
        known.insert(key, fingerprint.clone());
        fingerprint
    }

    /// The query's file as bundles name it: relative to the workload's folder, or for a built-in
    /// workload as it names its queries (`tpch/q01.sql`).
    fn query_file(&self, query: &Query) -> String {
        let Some(folder) = self.workload.folder() else {
            return query.file.clone();
        };
        let source = query
            .source
            .path
            .canonicalize()
            .unwrap_or_else(|_| query.source.path.clone());
        paths::relative(folder, &source)
    }
}

/// The pins of a workload's tables, read once per bundler.
struct TablePins {
    /// By the table's resolved name (`catalog.schema.table`): its declared name and pin.
    pins: BTreeMap<String, (String, TablePin)>,
    /// Every workload table's declared name, by its resolved name.
    names: BTreeMap<String, String>,
    /// Tables whose files cannot be counted (remote ones whose store cannot be listed).
    warnings: Vec<CaptureWarning>,
}

impl TablePins {
    /// `remote_files`: the data files of each Parquet and CSV table on object storage, as listed
    /// when it was registered.
    fn read(
        workload: &Workload,
        deltas: &[RegisteredDelta],
        remote_files: &BTreeMap<String, usize>,
        normalizer: &PathNormalizer,
        catalog: &datafusion::config::CatalogOptions,
    ) -> TablePins {
        let mut read = TablePins {
            pins: BTreeMap::new(),
            names: BTreeMap::new(),
            warnings: Vec::new(),
        };
        for table in &workload.tables {
            let resolved = TableReference::parse_str(&table.name)
                .resolve(&catalog.default_catalog, &catalog.default_schema)
                .to_string();
            read.names.insert(resolved.clone(), table.name.clone());
            let location = normalizer
                .location(&table.name)
                .map_or_else(|| table.location.to_string(), str::to_string);
            let files = match table.format {
                TableFormat::Delta => deltas
                    .iter()
                    .find(|d| d.name == table.name)
                    .map(|d| (Some(d.facts.version), d.facts.active_files)),
                _ => {
                    match data_file_count(table).or_else(|| remote_files.get(&table.name).copied())
                    {
                        Some(files) => Some((None, files)),
                        None => {
                            // Advisory: nothing failed, the pin is only less precise.
                            read.warnings.push(CaptureWarning::advisory(
                                CaptureStep::TablePins,
                                format!(
                                    "table `{}`: the files of {} cannot be listed",
                                    table.name, table.location
                                ),
                            ));
                            None
                        }
                    }
                }
            };
            if let Some((delta_version, files)) = files {
                let pin = TablePin {
                    format: table.format.clone(),
                    location,
                    delta_version,
                    files: files as u64,
                };
                read.pins.insert(resolved, (table.name.clone(), pin));
            }
        }
        read
    }
}

/// One bundle to build: `.parameters(name)` chooses a parameter set, `.await` builds it.
pub struct BundleBuilder<'a> {
    bundler: &'a Bundler,
    query: &'a Query,
    parameters: Option<String>,
    skipped: Vec<Analysis>,
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

    /// Plans the query only: P0, P1, P2 and (with the policy's trace on) every rule's output, in a
    /// fresh session state, with nothing analysed. What sensitivity sweeps and other callers that
    /// plan many times need; [`BundleBuilder::build`] is this plus the analyses.
    pub async fn plan(&self) -> Result<CapturedPlans, BundleError> {
        let set = self.parameter_set()?;
        let state = self.bundler.fresh_state(self.query).await?;
        Ok(plan::plan(state, self.query, set, &self.bundler.planning()).await)
    }

    /// Builds the bundle: the plans, then the analyses not skipped, then the bundle around them.
    pub async fn build(self) -> Result<PlanBundle, BundleError> {
        let plans = self.plan().await?;
        let wanted = |analysis: Analysis| !self.skipped.contains(&analysis);
        let context = self.bundler.analysis_context();
        let analyses = analyses::analyses(&context, &plans, wanted).await;
        Ok(assemble(self.bundler, self.query, plans, analyses))
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
}

impl<'a> IntoFuture for BundleBuilder<'a> {
    type Output = Result<PlanBundle, BundleError>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send + 'a>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.build())
    }
}

/// The bundle around the plans and their analyses: who planned what (policy, query, tables) and the
/// fingerprints that say what the plan is a function of.
fn assemble(
    bundler: &Bundler,
    query: &Query,
    plans: CapturedPlans,
    analyses: Analyses,
) -> PlanBundle {
    let compiled = bundler.factory.compiled();
    let dialect = plans.state.config_options().sql_parser.dialect.to_string();
    let query_fingerprint = bundler.query_fingerprint(query, &dialect);
    let plan_fingerprint = fingerprint::plan_fingerprint(
        &query_fingerprint,
        plans.parameters.as_ref(),
        &compiled.hashes.plan_environment_hash,
        &plans.tables,
    );
    let mut warnings = plans.warnings;
    warnings.extend(analyses.warnings);
    PlanBundle {
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
            file: bundler.query_file(query),
            preparation: query.preparation.iter().map(|s| s.text.clone()).collect(),
            statement: query.sql().to_string(),
            parameters: plans.parameters,
            query_fingerprint,
        },
        tables: plans.tables,
        plan_fingerprint,
        plans: Plans {
            initial_logical: plans.texts.initial_logical,
            optimized_logical: plans.texts.optimized_logical,
            physical: plans.texts.physical,
            renderings: analyses.renderings,
        },
        physical_topology_hash: analyses.physical_topology_hash,
        optimizer_trace: plans.trace,
        analyze: analyses.analyze,
        delta_scans: analyses.delta_scans,
        statistics: analyses.statistics,
        properties: analyses.properties,
        pushdown: analyses.pushdown,
        lineage: analyses.lineage,
        substrait: analyses.substrait.encoded,
        substrait_round_trip: analyses.substrait.round_trip,
        substrait_read_back: analyses.substrait.read_back,
        distributed_stages: analyses.distributed_stages,
        findings: analyses.findings,
        warnings,
    }
}

/// Why a bundle could not be built at all (a failing capture step is a warning instead).
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    /// The workload could not be set up in a session (tables, preparatory statements).
    #[error(transparent)]
    Workload(#[from] WorkloadError),
    /// `--params` names a set the query does not have.
    #[error("query `{query}` has no parameter set `{name}` ({})", if available.is_empty() { "it has none".to_string() } else { format!("it has: {}", available.join(", ")) })]
    UnknownParameterSet {
        /// The query.
        query: String,
        /// The set asked for.
        name: String,
        /// The sets the query has.
        available: Vec<String>,
    },
    /// The query has placeholders and parameter sets, and none was chosen.
    #[error("query `{query}` has placeholders: choose one of its parameter sets ({})", available.join(", "))]
    ParameterSetRequired {
        /// The query.
        query: String,
        /// The sets it has.
        available: Vec<String>,
    },
    /// The query has placeholders and the workload declares no parameter set for it.
    #[error("query `{query}` has placeholders ({}) and no parameter set: declare one with [[parameters]] in the workload file", placeholders.join(", "))]
    MissingParameters {
        /// The query.
        query: String,
        /// Its placeholders.
        placeholders: Vec<String>,
    },
}
