//! Sessions built from a compiled policy: the config, the runtime environment, the optimizer rule
//! recipe and the default catalog and schema, exactly as compiled.

mod ballista;
pub(crate) mod namespace;

use std::collections::BTreeMap;
use std::num::NonZeroUsize;
use std::sync::Arc;

use datafusion::arrow::array::{Array, StringArray};
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::SessionStateBuilder;
use datafusion::execution::context::{SessionContext, SessionState};
use datafusion::execution::memory_pool::{FairSpillPool, GreedyMemoryPool, TrackConsumersPool};
use datafusion::execution::runtime_env::{RuntimeEnv, RuntimeEnvBuilder};
use datafusion::optimizer::analyzer::{Analyzer, AnalyzerRule};
use datafusion::optimizer::optimizer::{Optimizer, OptimizerRule};
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_optimizer::optimizer::PhysicalOptimizer;
use datafusion::prelude::SessionConfig;
use object_store::ObjectStore;

use std::path::Path;

use crate::compile::{CompiledPolicy, MemoryPool};
use crate::registry::{Extensions, RuleStage};
use crate::report::{Code, Diagnostic, Noun, Report, display_path, normalize, read_source};

#[cfg(feature = "ballista")]
pub use ballista::BallistaCluster;
pub use namespace::{
    MAX_QUERY_BYTES, SqlError, SqlParsing, UnqualifiedReference, parse_statements,
    unqualified_references, unqualified_references_with,
};

/// How many memory consumers an out-of-memory error names.
const REPORTED_CONSUMERS: usize = 5;

type AnalyzerRules = Vec<Arc<dyn AnalyzerRule + Send + Sync>>;
type LogicalRules = Vec<Arc<dyn OptimizerRule + Send + Sync>>;
type PhysicalRules = Vec<Arc<dyn PhysicalOptimizerRule + Send + Sync>>;

/// Creates DataFusion sessions that carry a compiled policy's environment.
///
/// The config and the rule lists are built once, when the factory is made; each session gets its own
/// runtime environment, so a memory limit is per session.
#[derive(Debug, Clone)]
pub struct SessionFactory {
    compiled: Arc<CompiledPolicy>,
    config: SessionConfig,
    analyzer: AnalyzerRules,
    logical: LogicalRules,
    physical: PhysicalRules,
    /// Object stores each session's runtime uses instead of DataFusion's own for these URLs.
    object_stores: Vec<(url::Url, Arc<dyn ObjectStore>)>,
    /// One runtime environment for every session instead of a new one each (see
    /// [`SessionFactory::with_runtime_env`]).
    shared_runtime: Option<Arc<RuntimeEnv>>,
    /// The engine's functions, formats, catalogs, rules and query planner; the installed engine
    /// unless [`SessionFactory::with_extensions`] gives another.
    extensions: Arc<Extensions>,
}

impl SessionFactory {
    /// Checks that the compiled environment applies to DataFusion and prepares it.
    ///
    /// ```
    /// let policy = dfpolicy::Policy::load("policies/baseline.toml")?;
    /// let factory = dfpolicy::SessionFactory::new(policy.compiled)?;
    /// let ctx = factory.context()?; // a SessionContext with the policy's environment
    /// assert_eq!(ctx.copied_config().target_partitions(), 4);
    /// # Ok::<(), dfpolicy::Error>(())
    /// ```
    pub fn new(compiled: impl Into<Arc<CompiledPolicy>>) -> Result<Self> {
        Self::with_engine(compiled.into(), crate::registry::engine::installed_arc())
    }

    fn with_engine(compiled: Arc<CompiledPolicy>, extensions: Arc<Extensions>) -> Result<Self> {
        let mut options = compiled.config_options()?;
        extensions.add_config_namespaces(&mut options);
        let config = SessionConfig::from(options);
        let (analyzer, logical, physical) = extensions
            .placed_rules(
                Analyzer::new().rules,
                Optimizer::new().rules,
                PhysicalOptimizer::new().rules,
            )
            .map_err(|e| DataFusionError::Configuration(e.to_string()))?;
        // A rule is kept when the recipe names it, or when it is an engine rule the registry does not
        // know (given to this factory, not installed): nothing could have disabled it.
        let known = |stage: RuleStage, name: &str| {
            crate::registry::registry()
                .rules()
                .iter()
                .any(|(s, n)| *s == stage && n == name)
        };
        let keep = |stage: RuleStage, names: &[String], name: &str| {
            names.iter().any(|n| n == name) || !known(stage, name)
        };
        let rules = &compiled.rules;
        let analyzer = analyzer
            .into_iter()
            .filter(|r| keep(RuleStage::Analyzer, &rules.analyzer, r.name()))
            .collect();
        let logical = logical
            .into_iter()
            .filter(|r| keep(RuleStage::Logical, &rules.logical, r.name()))
            .collect();
        let physical = physical
            .into_iter()
            .filter(|r| keep(RuleStage::Physical, &rules.physical, r.name()))
            .collect();
        let (config, logical) = ballista::prepare(&compiled, config, logical)?;
        let factory = SessionFactory {
            compiled,
            config,
            analyzer,
            logical,
            physical,
            object_stores: Vec::new(),
            shared_runtime: None,
            extensions,
        };
        factory.runtime_env()?;
        Ok(factory)
    }

    /// Sessions get `extensions` (functions, formats, catalogs, rules, query planner, configuration
    /// namespaces at their defaults) instead of the installed engine's. Validation and compile know
    /// only the installed engine's keys and rules: install the engine ([`Extensions::install`]) to
    /// set its keys in policies and disable its rules.
    pub fn with_extensions(self, extensions: impl Into<Arc<Extensions>>) -> Result<Self> {
        let mut factory = Self::with_engine(self.compiled, extensions.into())?;
        factory.object_stores = self.object_stores;
        factory.shared_runtime = self.shared_runtime;
        Ok(factory)
    }

    /// The engine this factory's sessions carry.
    pub fn extensions(&self) -> &Extensions {
        &self.extensions
    }

    /// Sessions read `url` (a scheme and authority: `file://`, `s3://bucket`) through `store`: how a
    /// metadata snapshot is recorded and served. Not part of the policy, so no hash changes.
    pub fn with_object_store(mut self, url: url::Url, store: Arc<dyn ObjectStore>) -> Self {
        self.object_stores.push((url, store));
        self
    }

    /// Every session uses `runtime` (its caches of Parquet metadata, file statistics and listings
    /// shared) instead of a new environment from the policy's runtime settings: how a settings sweep
    /// plans many variants of one policy without reading the footers again. Runtime settings are
    /// execution-only, so plans do not change.
    pub fn with_runtime_env(mut self, runtime: Arc<RuntimeEnv>) -> Self {
        self.shared_runtime = Some(runtime);
        self
    }

    /// The compiled policy the sessions are built from.
    pub fn compiled(&self) -> &CompiledPolicy {
        &self.compiled
    }

    /// The session config: every compiled setting applied through DataFusion's checked setter.
    pub fn session_config(&self) -> &SessionConfig {
        &self.config
    }

    /// A new runtime environment: memory limit and pool, spill directory and cache budgets.
    pub fn runtime_env(&self) -> Result<Arc<RuntimeEnv>> {
        if let Some(shared) = &self.shared_runtime {
            return Ok(Arc::clone(shared));
        }
        let runtime = &self.compiled.runtime;
        let usize_of = |name: &str, value: u64| {
            usize::try_from(value).map_err(|_| {
                DataFusionError::Configuration(format!(
                    "policy `{}`: runtime {name} {value} does not fit this machine",
                    self.compiled.policy
                ))
            })
        };
        let mut builder = RuntimeEnvBuilder::new()
            .with_max_temp_directory_size(runtime.max_temp_directory_size)
            .with_max_spill_merge_fan_in(usize_of(
                "max_spill_merge_fan_in",
                runtime.max_spill_merge_fan_in,
            )?)
            .with_metadata_cache_limit(usize_of(
                "metadata_cache_limit",
                runtime.metadata_cache_limit,
            )?)
            .with_object_list_cache_limit(usize_of(
                "list_files_cache_limit",
                runtime.list_files_cache_limit,
            )?)
            .with_file_statistics_cache_limit(usize_of(
                "file_statistics_cache_limit",
                runtime.file_statistics_cache_limit,
            )?);
        if let Some(ttl) = runtime.list_files_cache_ttl {
            builder = builder.with_object_list_cache_ttl(Some(ttl));
        }
        if let Some(limit) = runtime.memory_limit {
            let limit = usize_of("memory_limit", limit)?;
            let top = NonZeroUsize::new(REPORTED_CONSUMERS).expect("non-zero");
            let pool: Arc<dyn datafusion::execution::memory_pool::MemoryPool> =
                match runtime.memory_pool {
                    MemoryPool::Fair => {
                        Arc::new(TrackConsumersPool::new(FairSpillPool::new(limit), top))
                    }
                    // A limit always comes with a pool; `unbounded` cannot occur with one, and greedy is
                    // DataFusion's own choice for `with_memory_limit`.
                    MemoryPool::Greedy | MemoryPool::Unbounded => {
                        Arc::new(TrackConsumersPool::new(GreedyMemoryPool::new(limit), top))
                    }
                };
            builder = builder.with_memory_pool(pool);
        }
        if let Some(directory) = &runtime.spill_directory {
            builder = builder.with_temp_file_path(directory);
        }
        let env = builder.build_arc()?;
        for (url, store) in &self.object_stores {
            env.register_object_store(url, Arc::clone(store));
        }
        Ok(env)
    }

    /// A session state with the policy's config, runtime and rules, `information_schema` on, and the
    /// default catalog and schema created under the policy's names.
    pub fn state(&self) -> Result<SessionState> {
        let mut builder = SessionStateBuilder::new()
            .with_config(self.config.clone())
            .with_runtime_env(self.runtime_env()?)
            .with_default_features()
            .with_analyzer_rules(self.analyzer.clone())
            .with_optimizer_rules(self.logical.clone())
            .with_physical_optimizer_rules(self.physical.clone());
        if let Some(planner) = self.extensions.query_planner() {
            builder = builder.with_query_planner(planner);
        }
        let mut state = builder.build();
        self.extensions.register(&mut state)?;
        Ok(state)
    }

    /// A new session of the policy (a fresh state per call: plan each query in its own, as
    /// DataFusion's alias counters live in the state).
    pub fn context(&self) -> Result<SessionContext> {
        Ok(SessionContext::new_with_state(self.state()?))
    }

    /// The namespace check for one query; see [`check_namespace`].
    pub fn unqualified_references(
        &self,
        sql: &str,
    ) -> std::result::Result<Vec<UnqualifiedReference>, SqlError> {
        check_namespace(&self.compiled, sql)
    }
}

/// The namespace check for one query under a compiled policy: with `require_qualified_references`,
/// every table named without catalog and schema, parsed in the policy's dialect, identifier
/// normalization and recursion limit; empty when the policy does not require qualified names. It only
/// parses: no session or runtime is built.
pub fn check_namespace(
    compiled: &CompiledPolicy,
    sql: &str,
) -> std::result::Result<Vec<UnqualifiedReference>, SqlError> {
    if !compiled.namespace.require_qualified_references {
        return Ok(Vec::new());
    }
    unqualified_references_with(sql, &sql_parsing(compiled))
}

/// [`check_namespace`] for one SQL file, as findings located in it: `unqualified-table` for each table
/// named without catalog and schema, `invalid-sql` when the file cannot be checked, and a read finding
/// when it cannot be read (it is read without blocking, at most [`MAX_QUERY_BYTES`]).
pub fn check_namespace_file(compiled: &CompiledPolicy, query: &Path) -> Vec<Diagnostic> {
    let file = match read_source(query, "query", MAX_QUERY_BYTES) {
        Ok(file) => file,
        Err(finding) => return vec![*finding],
    };
    let at = |line: u64, column: u64, length: usize| {
        let start = file.offset_of(line as usize, column as usize);
        start..start + length
    };
    match check_namespace(compiled, &file.text) {
        Ok(found) => found
            .into_iter()
            .map(|r| {
                Diagnostic::new(
                    Code::UnqualifiedTable,
                    format!(
                        "`{}` is not written as catalog.schema.table, which policy `{}` requires",
                        r.table, compiled.policy
                    ),
                )
                .at(&file, at(r.line, r.column, r.table.len()))
            })
            .collect(),
        Err(error) => vec![
            Diagnostic::new(Code::InvalidSql, error.message.clone())
                .at(&file, at(error.line, error.column, 0)),
        ],
    }
}

/// [`check_namespace_file`] for several files, as one report (sorted, capped per code and file).
pub fn check_namespace_files(compiled: &CompiledPolicy, queries: &[impl AsRef<Path>]) -> Report {
    let mut report = Report {
        noun: Noun::QUERY,
        ..Report::default()
    };
    for query in queries {
        report.files.push(display_path(query.as_ref()));
        report
            .diagnostics
            .extend(check_namespace_file(compiled, query.as_ref()));
    }
    report.files.sort();
    normalize(&mut report.diagnostics);
    report
}

/// The parser settings of a compiled policy, read from its typed options. A compiled environment
/// that DataFusion does not accept (only an edited one) parses as DataFusion's defaults do; making a
/// session from it fails with the key.
pub fn sql_parsing(compiled: &CompiledPolicy) -> SqlParsing {
    compiled
        .config_options()
        .map(|options| SqlParsing::from(&options.sql_parser))
        .unwrap_or_default()
}

/// The settings a live session reports in `information_schema.df_settings`, by key.
pub async fn capture_session_settings(
    ctx: &SessionContext,
) -> Result<BTreeMap<String, Option<String>>> {
    let batches = ctx
        .sql("SELECT name, value FROM information_schema.df_settings")
        .await?
        .collect()
        .await?;
    let mut settings = BTreeMap::new();
    for batch in batches {
        let column = |i: usize| {
            batch
                .column(i)
                .as_any()
                .downcast_ref::<StringArray>()
                .ok_or_else(|| DataFusionError::Internal("df_settings columns are strings".into()))
        };
        let (names, values) = (column(0)?, column(1)?);
        for row in 0..batch.num_rows() {
            let value = (!values.is_null(row)).then(|| values.value(row).to_string());
            settings.insert(names.value(row).to_string(), value);
        }
    }
    Ok(settings)
}
