//! Your own engine: what a team's DataFusion adds to the vanilla one — functions, table functions,
//! `STORED AS` formats, catalogs, optimizer rules, a query planner and its own configuration
//! namespaces. One [`Extensions`] value says it; [`Extensions::install`] makes it the engine of this
//! process, so that the registry (and with it validation, compile, sessions, bundles, the harness,
//! `check` and the sweep) knows it from one place at the bottom of the pipeline.
//!
//! One process, one engine: a team's `dfpolicy` binary (`dfpolicy::cli::main_with`) is its engine, as
//! the plain binary is vanilla DataFusion. The registry is discovered once, with the installed engine
//! in it; installing after it was read is refused, so no stage ever sees two engines.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, OnceLock};

use datafusion::catalog::{CatalogProvider, TableFunctionImpl, TableProviderFactory};
use datafusion::config::{ConfigExtension, ConfigOptions};
use datafusion::error::Result;
use datafusion::execution::context::{QueryPlanner, SessionState};
use datafusion::logical_expr::registry::FunctionRegistry;
use datafusion::logical_expr::{AggregateUDF, ScalarUDF, WindowUDF};
use datafusion::optimizer::analyzer::AnalyzerRule;
use datafusion::optimizer::optimizer::OptimizerRule;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::setting_class::SettingClass;

/// A function package's registration function: `datafusion_functions_json::register_all` is one.
pub type RegisterFunctions = fn(&mut dyn FunctionRegistry) -> Result<()>;

type AnalyzerRuleRef = Arc<dyn AnalyzerRule + Send + Sync>;
type OptimizerRuleRef = Arc<dyn OptimizerRule + Send + Sync>;
type PhysicalRuleRef = Arc<dyn PhysicalOptimizerRule + Send + Sync>;
/// The analyzer's, the logical optimizer's and the physical optimizer's rules, in order.
type StageRules = (
    Vec<AnalyzerRuleRef>,
    Vec<OptimizerRuleRef>,
    Vec<PhysicalRuleRef>,
);

/// Where an engine's optimizer rule goes in its optimizer's list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RulePosition {
    /// After every rule of the stage.
    Appended,
    /// Just before the first rule of this name.
    Before(String),
    /// Just after the first rule of this name.
    After(String),
}

impl RulePosition {
    /// Just before the first rule named `rule`.
    pub fn before(rule: impl Into<String>) -> Self {
        RulePosition::Before(rule.into())
    }

    /// Just after the first rule named `rule`.
    pub fn after(rule: impl Into<String>) -> Self {
        RulePosition::After(rule.into())
    }
}

/// A package of functions registered by one call, with its name and version (so that upgrading it
/// is a cause of its own in `check`).
#[derive(Clone)]
struct FunctionPackage {
    name: String,
    version: String,
    register: RegisterFunctions,
}

/// A configuration namespace of the engine: its prefix and how to add its defaults to options.
#[derive(Clone)]
struct ConfigNamespace {
    prefix: &'static str,
    insert_default: fn(&mut datafusion::config::Extensions),
}

fn insert_default<T: ConfigExtension + Default>(extensions: &mut datafusion::config::Extensions) {
    extensions.insert(T::default());
}

/// What an engine adds to DataFusion. Built with the `with_*` methods; everything that plans sees it
/// once it is installed ([`Extensions::install`]) or given to a
/// [`SessionFactory`](crate::SessionFactory::with_extensions).
///
/// ```
/// use std::sync::Arc;
/// use dfpolicy::datafusion::logical_expr::{ScalarUDF, Volatility, create_udf};
/// use dfpolicy::datafusion::arrow::datatypes::DataType;
/// use dfpolicy::Extensions;
///
/// let mask = create_udf(
///     "mask_pii",
///     vec![DataType::Utf8],
///     DataType::Utf8,
///     Volatility::Immutable,
///     Arc::new(|args| Ok(args[0].clone())),
/// );
/// let engine = Extensions::new()
///     .named("acme", "1.4.0")
///     .with_scalar_udf(Arc::new(mask));
/// assert_eq!(engine.identity().unwrap().functions, ["mask_pii"]);
/// ```
#[derive(Clone, Default)]
pub struct Extensions {
    name: Option<(String, String)>,
    scalar: Vec<Arc<ScalarUDF>>,
    aggregate: Vec<Arc<AggregateUDF>>,
    window: Vec<Arc<WindowUDF>>,
    table_functions: Vec<(String, Arc<dyn TableFunctionImpl>)>,
    packages: Vec<FunctionPackage>,
    table_factories: Vec<(String, Arc<dyn TableProviderFactory>)>,
    catalogs: Vec<(String, Arc<dyn CatalogProvider>)>,
    analyzer_rules: Vec<(AnalyzerRuleRef, RulePosition)>,
    optimizer_rules: Vec<(OptimizerRuleRef, RulePosition)>,
    physical_rules: Vec<(PhysicalRuleRef, RulePosition)>,
    query_planner: Option<(String, Arc<dyn QueryPlanner + Send + Sync>)>,
    config_namespaces: Vec<ConfigNamespace>,
    classes: BTreeMap<String, SettingClass>,
}

impl fmt::Debug for Extensions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Extensions")
            .field("identity", &self.identity())
            .finish()
    }
}

/// Why an engine could not be installed.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// Another engine is already this process's engine.
    #[error(
        "engine `{installed}` is already installed in this process; one process serves one engine"
    )]
    AlreadyInstalled {
        /// The installed engine.
        installed: String,
    },
    /// The registry was read before the engine was installed: install first thing in `main`.
    #[error(
        "the registry was already read without engine `{engine}`: install the engine before any policy is loaded"
    )]
    TooLate {
        /// The engine that came too late.
        engine: String,
    },
    /// A rule's position names a rule its optimizer does not have.
    #[error(
        "{stage} rule `{rule}` is placed next to `{anchor}`, which the {stage} optimizer does not have"
    )]
    UnknownAnchor {
        /// `analyzer`, `logical` or `physical`.
        stage: &'static str,
        /// The engine's rule.
        rule: String,
        /// The rule it is placed next to.
        anchor: String,
    },
    /// DataFusion refused one of the engine's parts (a function package that fails to register).
    #[error("engine `{engine}`: DataFusion refused {part}")]
    Refused {
        /// The engine.
        engine: String,
        /// What DataFusion refused.
        part: String,
        #[source]
        /// DataFusion's error.
        source: datafusion::error::DataFusionError,
    },
}

/// What identifies an engine in hashes, bundles and `check`'s causes: its name and version and the
/// names of everything it adds, each list sorted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct EngineIdentity {
    /// The engine's name (`Extensions::named`); `unnamed` when it has none.
    pub name: String,
    /// The engine's version.
    pub version: String,
    /// Scalar, aggregate and window functions, by name (function packages' functions included).
    pub functions: Vec<String>,
    /// Function packages as `name version`.
    pub packages: Vec<String>,
    /// Table functions, by name.
    pub table_functions: Vec<String>,
    /// `STORED AS` formats of its table provider factories, upper case.
    pub formats: Vec<String>,
    /// Catalogs, by name.
    pub catalogs: Vec<String>,
    /// Optimizer rules as `stage:name`.
    pub rules: Vec<String>,
    /// Its query planner's name, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query_planner: Option<String>,
    /// Every key of its configuration namespaces.
    pub config_keys: Vec<String>,
}

impl EngineIdentity {
    /// What changed from `before` to `self`, one phrase each (`version 1.0 → 1.1`, `function
    /// \`mask_pii\` added`); empty when nothing did.
    pub fn changes_since(&self, before: &EngineIdentity) -> Vec<String> {
        let mut changes = Vec::new();
        if self.name != before.name {
            changes.push(format!("engine `{}` → `{}`", before.name, self.name));
        }
        if self.version != before.version {
            changes.push(format!("version {} → {}", before.version, self.version));
        }
        let lists: [(&str, &Vec<String>, &Vec<String>); 7] = [
            ("function", &before.functions, &self.functions),
            ("package", &before.packages, &self.packages),
            (
                "table function",
                &before.table_functions,
                &self.table_functions,
            ),
            ("format", &before.formats, &self.formats),
            ("catalog", &before.catalogs, &self.catalogs),
            ("rule", &before.rules, &self.rules),
            ("setting", &before.config_keys, &self.config_keys),
        ];
        for (noun, old, new) in lists {
            for name in new.iter().filter(|n| !old.contains(n)) {
                changes.push(format!("{noun} `{name}` added"));
            }
            for name in old.iter().filter(|n| !new.contains(n)) {
                changes.push(format!("{noun} `{name}` removed"));
            }
        }
        if self.query_planner != before.query_planner {
            let shown = |p: &Option<String>| p.clone().unwrap_or_else(|| "DataFusion's".into());
            changes.push(format!(
                "query planner {} → {}",
                shown(&before.query_planner),
                shown(&self.query_planner)
            ));
        }
        changes
    }
}

impl fmt::Display for EngineIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.name, self.version)
    }
}

impl Extensions {
    /// No extensions: vanilla DataFusion.
    pub fn new() -> Self {
        Self::default()
    }

    /// The engine's name and version, as hashes, bundles and `check` show it.
    pub fn named(mut self, name: impl Into<String>, version: impl Into<String>) -> Self {
        self.name = Some((name.into(), version.into()));
        self
    }

    /// A scalar function.
    pub fn with_scalar_udf(mut self, udf: Arc<ScalarUDF>) -> Self {
        self.scalar.push(udf);
        self
    }

    /// An aggregate function.
    pub fn with_aggregate_udf(mut self, udaf: Arc<AggregateUDF>) -> Self {
        self.aggregate.push(udaf);
        self
    }

    /// A window function.
    pub fn with_window_udf(mut self, udwf: Arc<WindowUDF>) -> Self {
        self.window.push(udwf);
        self
    }

    /// A table function (`SELECT * FROM name(...)`).
    pub fn with_table_function(
        mut self,
        name: impl Into<String>,
        function: Arc<dyn TableFunctionImpl>,
    ) -> Self {
        self.table_functions.push((name.into(), function));
        self
    }

    /// A package of functions registered by one call, such as
    /// `datafusion_functions_json::register_all`.
    pub fn with_functions(
        mut self,
        name: impl Into<String>,
        version: impl Into<String>,
        register: RegisterFunctions,
    ) -> Self {
        self.packages.push(FunctionPackage {
            name: name.into(),
            version: version.into(),
            register,
        });
        self
    }

    /// A table provider factory for `CREATE EXTERNAL TABLE ... STORED AS format` (and workload
    /// tables of that `format`).
    pub fn with_table_factory(
        mut self,
        format: impl Into<String>,
        factory: Arc<dyn TableProviderFactory>,
    ) -> Self {
        self.table_factories
            .push((format.into().to_uppercase(), factory));
        self
    }

    /// A catalog every session has under `name`.
    pub fn with_catalog(
        mut self,
        name: impl Into<String>,
        catalog: Arc<dyn CatalogProvider>,
    ) -> Self {
        self.catalogs.push((name.into(), catalog));
        self
    }

    /// An analyzer rule at `position`.
    pub fn with_analyzer_rule(mut self, rule: AnalyzerRuleRef, position: RulePosition) -> Self {
        self.analyzer_rules.push((rule, position));
        self
    }

    /// A logical optimizer rule at `position`.
    pub fn with_optimizer_rule(mut self, rule: OptimizerRuleRef, position: RulePosition) -> Self {
        self.optimizer_rules.push((rule, position));
        self
    }

    /// A physical optimizer rule at `position`.
    pub fn with_physical_optimizer_rule(
        mut self,
        rule: PhysicalRuleRef,
        position: RulePosition,
    ) -> Self {
        self.physical_rules.push((rule, position));
        self
    }

    /// The query planner (for the engine's own plan nodes), named for hashes and `check`.
    pub fn with_query_planner(
        mut self,
        name: impl Into<String>,
        planner: Arc<dyn QueryPlanner + Send + Sync>,
    ) -> Self {
        self.query_planner = Some((name.into(), planner));
        self
    }

    /// A configuration namespace (`acme.*`): its keys are validated, compiled, listed, classified
    /// and hashed like DataFusion's, with its own setter and its own rendering.
    pub fn with_config_extension<T: ConfigExtension + Default>(mut self) -> Self {
        self.config_namespaces.push(ConfigNamespace {
            prefix: T::PREFIX,
            insert_default: insert_default::<T>,
        });
        self
    }

    /// Declares the class of one of the engine's keys (`acme.spill_codec` is execution-only, say).
    /// A key of the engine without a declared class counts as plan-shaping, the safe side.
    pub fn with_setting_class(mut self, key: impl Into<String>, class: SettingClass) -> Self {
        self.classes.insert(key.into(), class);
        self
    }

    /// Whether it adds nothing: vanilla DataFusion.
    pub fn is_empty(&self) -> bool {
        self.identity().is_none()
    }

    /// The engine's identity; `None` for vanilla DataFusion (no name, nothing added), so that its
    /// hashes and bundles stay what they were before engines existed.
    pub fn identity(&self) -> Option<EngineIdentity> {
        let sorted = |mut names: Vec<String>| {
            names.sort();
            names.dedup();
            names
        };
        let mut functions: Vec<String> = self
            .scalar
            .iter()
            .map(|f| f.name().to_string())
            .chain(self.aggregate.iter().map(|f| f.name().to_string()))
            .chain(self.window.iter().map(|f| f.name().to_string()))
            .collect();
        functions.extend(self.package_functions());
        let stage_rules = self
            .analyzer_rules
            .iter()
            .map(|(r, _)| format!("analyzer:{}", r.name()))
            .chain(
                self.optimizer_rules
                    .iter()
                    .map(|(r, _)| format!("logical:{}", r.name())),
            )
            .chain(
                self.physical_rules
                    .iter()
                    .map(|(r, _)| format!("physical:{}", r.name())),
            )
            .collect();
        let identity = EngineIdentity {
            name: self
                .name
                .as_ref()
                .map_or("unnamed".into(), |(n, _)| n.clone()),
            version: self.name.as_ref().map_or(String::new(), |(_, v)| v.clone()),
            functions: sorted(functions),
            packages: sorted(
                self.packages
                    .iter()
                    .map(|p| format!("{} {}", p.name, p.version))
                    .collect(),
            ),
            table_functions: sorted(
                self.table_functions
                    .iter()
                    .map(|(n, _)| n.clone())
                    .collect(),
            ),
            formats: sorted(
                self.table_factories
                    .iter()
                    .map(|(n, _)| n.clone())
                    .collect(),
            ),
            catalogs: sorted(self.catalogs.iter().map(|(n, _)| n.clone()).collect()),
            rules: sorted(stage_rules),
            query_planner: self.query_planner.as_ref().map(|(n, _)| n.clone()),
            config_keys: self
                .option_entries()
                .into_iter()
                .map(|(key, _, _)| key)
                .collect(),
        };
        let vanilla = self.name.is_none()
            && identity
                == EngineIdentity {
                    name: "unnamed".into(),
                    ..EngineIdentity::default()
                };
        (!vanilla).then_some(identity)
    }

    /// The names of the functions the packages register, found by registering them into a scratch
    /// session (a package says what it adds only by adding it).
    fn package_functions(&self) -> Vec<String> {
        if self.packages.is_empty() {
            return Vec::new();
        }
        let mut scratch = datafusion::execution::SessionStateBuilder::new().build();
        let before = names_of(&scratch);
        for package in &self.packages {
            // A package that fails here fails again, with its error, when a session is built.
            let _ = (package.register)(&mut scratch);
        }
        names_of(&scratch)
            .into_iter()
            .filter(|name| !before.contains(name))
            .collect()
    }

    /// Makes this the engine of the process: the registry, and every stage after it, know it. Call
    /// it first thing, before any policy is loaded; [`crate::cli::main_with`] does.
    pub fn install(self) -> std::result::Result<(), EngineError> {
        let already_installed = || EngineError::AlreadyInstalled {
            installed: installed().label(),
        };
        // An engine already installed is the first thing to say: the registry has been read since,
        // most likely, but "too late" would send the caller looking for the wrong mistake.
        if INSTALLED.get().is_some() {
            return Err(already_installed());
        }
        self.check()?;
        if REGISTRY_READ.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(EngineError::TooLate {
                engine: self.label(),
            });
        }
        let mut taken = true;
        INSTALLED.get_or_init(|| {
            taken = false;
            Arc::new(self)
        });
        if taken {
            return Err(already_installed());
        }
        Ok(())
    }

    /// The engine as errors name it: `acme 1.0.0`, or vanilla DataFusion. Worked out only when an
    /// error needs it (naming a package's functions registers it in a scratch session).
    fn label(&self) -> String {
        self.identity()
            .map_or_else(|| "vanilla DataFusion".into(), |i| i.to_string())
    }

    /// Checks what can be checked before a session exists: rule anchors, function packages.
    fn check(&self) -> std::result::Result<(), EngineError> {
        let mut state = datafusion::execution::SessionStateBuilder::new()
            .with_default_features()
            .build();
        self.placed_rules(
            state.analyzer().rules.clone(),
            state.optimizers().to_vec(),
            state.physical_optimizers().to_vec(),
        )?;
        // One registration, as a session does it: a package that fails is named in the error.
        self.register(&mut state)
            .map_err(|source| EngineError::Refused {
                engine: self.label(),
                part: "its functions, formats or catalogs".into(),
                source,
            })
    }

    /// DataFusion's default options with the engine's configuration namespaces added, at their
    /// defaults.
    pub fn config_options(&self) -> ConfigOptions {
        let mut options = ConfigOptions::new();
        self.add_config_namespaces(&mut options);
        options
    }

    /// Adds the engine's configuration namespaces that `options` lacks, at their defaults.
    pub(crate) fn add_config_namespaces(&self, options: &mut ConfigOptions) {
        for namespace in &self.config_namespaces {
            let present = options
                .extensions
                .iter()
                .any(|(prefix, _)| prefix == namespace.prefix);
            if !present {
                (namespace.insert_default)(&mut options.extensions);
            }
        }
    }

    /// Every key of the engine's configuration namespaces: `(prefix.key, default, description)`.
    pub(crate) fn option_entries(&self) -> Vec<(String, Option<String>, String)> {
        let options = self.config_options();
        let mut entries: Vec<_> = options
            .extensions
            .iter()
            .flat_map(|(prefix, extension)| {
                extension.entries().into_iter().map(move |entry| {
                    (
                        format!("{prefix}.{}", entry.key),
                        entry.value,
                        entry.description.trim().to_string(),
                    )
                })
            })
            .collect();
        entries.sort();
        entries
    }

    /// The class the engine declares for one of its keys.
    pub(crate) fn declared_class(&self, key: &str) -> Option<SettingClass> {
        self.classes.get(key).copied()
    }

    /// Whether `key` is under one of the engine's configuration namespaces.
    pub(crate) fn owns_key(&self, key: &str) -> bool {
        key.split_once('.')
            .is_some_and(|(prefix, _)| self.config_namespaces.iter().any(|n| n.prefix == prefix))
    }

    /// The engine's query planner, if it has one.
    pub(crate) fn query_planner(&self) -> Option<Arc<dyn QueryPlanner + Send + Sync>> {
        self.query_planner.as_ref().map(|(_, p)| Arc::clone(p))
    }

    /// The engine's rules of each stage placed into the given default lists, in order.
    pub(crate) fn placed_rules(
        &self,
        analyzer: Vec<AnalyzerRuleRef>,
        logical: Vec<OptimizerRuleRef>,
        physical: Vec<PhysicalRuleRef>,
    ) -> std::result::Result<StageRules, EngineError> {
        Ok((
            place("analyzer", analyzer, &self.analyzer_rules, |r| {
                r.name().to_string()
            })?,
            place("logical", logical, &self.optimizer_rules, |r| {
                r.name().to_string()
            })?,
            place("physical", physical, &self.physical_rules, |r| {
                r.name().to_string()
            })?,
        ))
    }

    /// Registers the engine's functions, table functions, formats and catalogs in `state`.
    pub(crate) fn register(&self, state: &mut SessionState) -> Result<()> {
        for udf in &self.scalar {
            state.register_udf(Arc::clone(udf))?;
        }
        for udaf in &self.aggregate {
            state.register_udaf(Arc::clone(udaf))?;
        }
        for udwf in &self.window {
            state.register_udwf(Arc::clone(udwf))?;
        }
        for package in &self.packages {
            (package.register)(state).map_err(|error| {
                error.context(format!(
                    "function package `{} {}`",
                    package.name, package.version
                ))
            })?;
        }
        for (name, function) in &self.table_functions {
            state.register_udtf(name, Arc::clone(function));
        }
        for (format, factory) in &self.table_factories {
            state
                .table_factories_mut()
                .insert(format.clone(), Arc::clone(factory));
        }
        for (name, catalog) in &self.catalogs {
            state
                .catalog_list()
                .register_catalog(name.clone(), Arc::clone(catalog));
        }
        Ok(())
    }

    /// Whether the engine has a table provider factory for `format` (any case).
    pub fn has_format(&self, format: &str) -> bool {
        let format = format.to_uppercase();
        self.table_factories.iter().any(|(f, _)| *f == format)
    }
}

fn names_of(state: &SessionState) -> std::collections::BTreeSet<String> {
    state
        .scalar_functions()
        .keys()
        .chain(state.aggregate_functions().keys())
        .chain(state.window_functions().keys())
        .cloned()
        .collect()
}

/// `defaults` with each of `extra` placed at its position.
fn place<R: ?Sized>(
    stage: &'static str,
    mut rules: Vec<Arc<R>>,
    extra: &[(Arc<R>, RulePosition)],
    name: impl Fn(&R) -> String,
) -> std::result::Result<Vec<Arc<R>>, EngineError> {
    for (rule, position) in extra {
        let at = |anchor: &str| {
            rules
                .iter()
                .position(|r| name(r) == anchor)
                .ok_or_else(|| EngineError::UnknownAnchor {
                    stage,
                    rule: name(rule),
                    anchor: anchor.to_string(),
                })
        };
        let index = match position {
            RulePosition::Appended => rules.len(),
            RulePosition::Before(anchor) => at(anchor)?,
            RulePosition::After(anchor) => at(anchor)? + 1,
        };
        rules.insert(index, Arc::clone(rule));
    }
    Ok(rules)
}

static INSTALLED: OnceLock<Arc<Extensions>> = OnceLock::new();

/// Set when the registry reads the engine: an engine installed after that would not be in it.
static REGISTRY_READ: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// The engine the registry is discovered with; from now on no other can be installed.
pub(super) fn installed_for_registry() -> &'static Extensions {
    REGISTRY_READ.store(true, std::sync::atomic::Ordering::SeqCst);
    installed()
}

/// The engine of this process: what [`Extensions::install`] installed, or vanilla DataFusion.
pub fn installed() -> &'static Extensions {
    static VANILLA: OnceLock<Extensions> = OnceLock::new();
    match INSTALLED.get() {
        Some(engine) => engine,
        None => VANILLA.get_or_init(Extensions::new),
    }
}

/// [`installed`], shared.
pub fn installed_arc() -> Arc<Extensions> {
    INSTALLED
        .get()
        .cloned()
        .unwrap_or_else(|| Arc::new(Extensions::new()))
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::datatypes::DataType;
    use datafusion::logical_expr::{Volatility, create_udf};
    use datafusion::optimizer::optimizer::Optimizer;

    use super::*;

    fn udf(name: &str) -> Arc<ScalarUDF> {
        Arc::new(create_udf(
            name,
            vec![DataType::Utf8],
            DataType::Utf8,
            Volatility::Immutable,
            Arc::new(|args| Ok(args[0].clone())),
        ))
    }

    #[test]
    fn vanilla_has_no_identity_and_an_engine_names_what_it_adds() {
        assert_eq!(Extensions::new().identity(), None);
        let before = Extensions::new()
            .named("acme", "1.0.0")
            .with_scalar_udf(udf("mask_pii"));
        let after = Extensions::new()
            .named("acme", "1.1.0")
            .with_scalar_udf(udf("mask_pii"))
            .with_scalar_udf(udf("unmask"));
        let (before, after) = (before.identity().unwrap(), after.identity().unwrap());
        assert_eq!(before.functions, ["mask_pii"]);
        assert_eq!(
            after.changes_since(&before),
            ["version 1.0.0 → 1.1.0", "function `unmask` added"]
        );
        assert!(before.changes_since(&before).is_empty());
    }

    #[derive(Debug)]
    struct Named(&'static str);

    impl OptimizerRule for Named {
        fn name(&self) -> &str {
            self.0
        }
    }

    #[test]
    fn rules_go_where_their_positions_say_and_an_unknown_anchor_is_refused() {
        let defaults = Optimizer::new().rules;
        let names = |rules: &[OptimizerRuleRef]| -> Vec<String> {
            rules.iter().map(|r| r.name().to_string()).collect()
        };
        let engine = Extensions::new()
            .with_optimizer_rule(
                Arc::new(Named("first")),
                RulePosition::before(names(&defaults)[0].clone()),
            )
            .with_optimizer_rule(
                Arc::new(Named("after_limit")),
                RulePosition::after("push_down_limit"),
            )
            .with_optimizer_rule(Arc::new(Named("last")), RulePosition::Appended);
        let (_, placed, _) = engine
            .placed_rules(Vec::new(), defaults.clone(), Vec::new())
            .unwrap();
        let placed = names(&placed);
        assert_eq!(placed[0], "first");
        assert_eq!(placed.last().unwrap(), "last");
        let limit = placed.iter().position(|n| n == "push_down_limit").unwrap();
        assert_eq!(placed[limit + 1], "after_limit");
        assert_eq!(placed.len(), defaults.len() + 3);

        let lost = Extensions::new()
            .with_optimizer_rule(Arc::new(Named("x")), RulePosition::before("no_such_rule"));
        let error = lost
            .placed_rules(Vec::new(), defaults, Vec::new())
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "logical rule `x` is placed next to `no_such_rule`, which the logical optimizer does not have"
        );
    }
}
