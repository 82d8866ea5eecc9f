//! Compiling a validated policy into one complete, canonical session environment with hashes.
//!
//! The compiled form lists every DataFusion option (defaults filled in), the runtime settings and the
//! optimizer rule recipe. It is what sessions are built from, what `dfpolicy compile` prints, and what
//! the hashes are computed over.

pub(crate) mod diff;
pub(crate) mod hash;
pub(crate) mod listing;
pub(crate) mod loader;

use std::collections::BTreeMap;
use std::time::Duration;

use datafusion::config::ConfigOptions;
use serde::{Deserialize, Serialize};

use crate::policy::options::{ExplainFormat, MemoryPoolKind, PolicyOptions, StatisticsQuality};
use crate::registry::ballista::{self, BALLISTA_PREFIX};
use crate::registry::{
    self, DATAFUSION_VERSION, FORCED_SETTINGS, MACHINE_DEPENDENT_KEYS, RUNTIME_PREFIX, RuleStage,
    ValueKind,
};

pub use diff::{EnvironmentDiff, diff};
pub use hash::{HASH_SCHEME, Hashes, plan_shape_keys};
pub use listing::{
    RuleRow, SETTINGS_REFERENCE_PATH, SettingRow, rule_listing, rules_text, setting_listing,
    settings_markdown, settings_text,
};
pub use loader::{Policy, PolicyError, PolicyLoader};

/// The engine a policy was compiled for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Engine {
    /// The DataFusion release (`55.2.0`).
    pub datafusion: String,
    /// The installed engine's identity (its name, version and what it adds), for a policy compiled
    /// in an engine's dfpolicy (`dfpolicy::cli::main_with`); absent for vanilla DataFusion.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extensions: Option<registry::EngineIdentity>,
}

named_enum! {
    names = "lowercase";
    /// How the session's memory limit is shared.
    pub enum MemoryPool {
        /// No limit.
        Unbounded,
        /// First come, first served (DataFusion's `GreedyMemoryPool`).
        Greedy,
        /// Equal shares for spilling operators (DataFusion's `FairSpillPool`).
        Fair,
    }
}

/// The runtime environment: memory, spilling and cache budgets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuntimeSettings {
    /// Bytes, or `None` for no limit.
    pub memory_limit: Option<u64>,
    /// `unbounded` exactly when there is no limit.
    pub memory_pool: MemoryPool,
    /// The spill directory as configured (DataFusion creates a random subdirectory in it).
    pub spill_directory: Option<String>,
    /// Bytes spill files may take in the spill directory.
    pub max_temp_directory_size: u64,
    /// Spill files merged at once.
    pub max_spill_merge_fan_in: u64,
    /// Bytes of the Parquet metadata cache.
    pub metadata_cache_limit: u64,
    /// Bytes of the listing cache.
    pub list_files_cache_limit: u64,
    /// How long a listing stays cached, or `None` for no expiry. Written as DataFusion's `SET` takes
    /// it, `{m}m{s}s`.
    #[serde(with = "ttl_text")]
    pub list_files_cache_ttl: Option<Duration>,
    /// Bytes of the file statistics cache.
    pub file_statistics_cache_limit: u64,
}

impl RuntimeSettings {
    /// Every field by name with its JSON value, in declaration order: the one walk over the runtime
    /// settings that the TOML output, the hashes and the diff share.
    pub fn entries(&self) -> Vec<(String, serde_json::Value)> {
        match serde_json::to_value(self).expect("runtime settings serialize") {
            serde_json::Value::Object(fields) => fields.into_iter().collect(),
            _ => unreachable!("a struct serializes to an object"),
        }
    }
}

/// The `{m}m{s}s` text of an optional duration, for serde.
mod ttl_text {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    use crate::registry::{parse_duration, render_duration};

    pub fn serialize<S: Serializer>(
        ttl: &Option<Duration>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match ttl {
            Some(duration) => serializer.serialize_some(&render_duration(*duration)),
            None => serializer.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Duration>, D::Error> {
        Option::<String>::deserialize(deserializer)?
            .map(|text| parse_duration(&text).map_err(serde::de::Error::custom))
            .transpose()
    }
}

/// The optimizer rules a session runs, in order, after `disabled_rules`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleRecipe {
    /// Analyzer rules, in order.
    pub analyzer: Vec<String>,
    /// Logical optimizer rules, in order.
    pub logical: Vec<String>,
    /// Physical optimizer rules, in order (names may repeat).
    pub physical: Vec<String>,
}

impl RuleRecipe {
    /// The rules of one stage.
    pub fn stage(&self, stage: RuleStage) -> &[String] {
        match stage {
            RuleStage::Analyzer => &self.analyzer,
            RuleStage::Logical => &self.logical,
            RuleStage::Physical => &self.physical,
        }
    }

    /// The stages with their rules, in the order a query passes them.
    pub fn stages(&self) -> impl Iterator<Item = (RuleStage, &[String])> {
        RuleStage::ALL
            .into_iter()
            .map(|stage| (stage, self.stage(stage)))
    }
}

/// The namespace rule sessions and query checks apply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct NamespaceRule {
    /// Queries must name tables as `catalog.schema.table`.
    pub require_qualified_references: bool,
}

/// What plan bundles expect of the statistics a plan rests on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatisticsExpectation {
    /// `unknown` accepts anything.
    pub minimum_quality: StatisticsQuality,
}

/// What a plan bundle captures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExplainCapture {
    /// The `EXPLAIN` formats bundles render besides `indent`.
    pub formats: Vec<ExplainFormat>,
    /// Whether bundles carry every rule's output.
    pub optimizer_trace: bool,
    /// Runs `EXPLAIN ANALYZE`, which executes the query.
    pub analyze: bool,
}

/// A policy compiled into a complete session environment: everything a session, a namespace check or a
/// plan bundle needs, with no reference back to the policy file. It serializes to JSON and back
/// without loss (credentials aside, which are redacted when written).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompiledPolicy {
    /// The policy's name.
    pub policy: String,
    /// The DataFusion release and the engine it was compiled for.
    pub engine: Engine,
    /// Every machine-dependent option is pinned by the policy, so the environment is the same on
    /// every machine.
    pub portable: bool,
    /// Every `datafusion.*` option of `ConfigOptions`, sorted by key; `None` is NULL. Serialized with
    /// credentials redacted (see [`crate::secrets`]).
    #[serde(serialize_with = "crate::secrets::serialize_settings")]
    pub settings: BTreeMap<String, Option<String>>,
    /// Memory, spilling and cache budgets.
    pub runtime: RuntimeSettings,
    /// The rules sessions run, each stage in order.
    pub rules: RuleRecipe,
    /// Whether queries must name tables in full.
    pub namespace: NamespaceRule,
    /// The statistics quality bundles expect.
    pub statistics: StatisticsExpectation,
    /// What bundles capture.
    pub explain: ExplainCapture,
    /// The Ballista environment, for a policy that targets Ballista; absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ballista: Option<BallistaEnvironment>,
    /// The policy's hashes.
    pub hashes: Hashes,
}

/// What a Ballista session adds to the DataFusion environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BallistaEnvironment {
    /// The Ballista release whose registry the policy was checked against.
    pub version: String,
    /// Every `ballista.*` option, sorted by key, Ballista's defaults filled in; `None` is unset.
    /// `ballista.standalone.parallelism` is `0` ("one per CPU") unless the policy pins it.
    pub settings: BTreeMap<String, Option<String>>,
    /// The DataFusion settings Ballista forces on every distributed session, with its value; the
    /// compiled `settings` already hold these values.
    pub forced: BTreeMap<String, String>,
}

/// Why a validated policy could not be compiled. Validation is meant to make this impossible; it
/// names the policy and key so that a gap is easy to report. `message` is DataFusion's own words
/// (its error reduced to the message, without the `Error during planning:` wrapping).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot compile policy `{policy}`: setting `{key}`: {message}")]
pub struct CompileError {
    /// The policy's name.
    pub policy: String,
    /// The key DataFusion refused.
    pub key: String,
    /// DataFusion's words.
    pub message: String,
}

/// Compiles a resolved policy into its complete session environment.
pub fn compile(options: &PolicyOptions) -> Result<CompiledPolicy, CompileError> {
    let name = options.policy.name.clone();
    let error = |key: &str, message: String| CompileError {
        policy: name.clone(),
        key: key.to_string(),
        message,
    };
    let explicit = options.engine_settings();
    let registry = registry::registry();

    // DataFusion's rendering of every value the policy sets: what the hashes and the runtime read.
    let mut config = registry::config_options();
    let (ballista_keys, engine_keys): (Vec<_>, Vec<_>) = explicit
        .iter()
        .partition(|(k, _)| k.starts_with(BALLISTA_PREFIX));
    let (runtime_keys, config_keys): (Vec<_>, Vec<_>) = engine_keys
        .into_iter()
        .partition(|(k, _)| k.starts_with(RUNTIME_PREFIX));
    let mut canonical = registry::apply_settings(
        &mut config,
        config_keys
            .into_iter()
            .map(|(k, v)| (k.as_str(), Some(v.as_str()))),
    )
    .map_err(|rejected| error(&rejected.key, registry::engine_message(&rejected.error)))?;
    for (key, value) in runtime_keys {
        let value = registry
            .check_value(key, value)
            .map_err(|e| error(key, e.message))?;
        canonical.insert(key.clone(), value.0);
    }
    for (key, value) in ballista_keys {
        let value = registry
            .check_value(key, value)
            .map_err(|e| error(key, e.message))?;
        canonical.insert(key.clone(), value.0);
    }
    // What Ballista forces on a distributed session replaces the policy's value (validation reports a
    // policy that asks for another): the environment is the one its plans are made in.
    let targets_ballista = options.targets_ballista();
    if targets_ballista {
        registry::apply_settings(
            &mut config,
            ballista::catalog()
                .forced
                .iter()
                .map(|f| (f.key.as_str(), Some(f.value.as_str()))),
        )
        .map_err(|rejected| error(&rejected.key, registry::engine_message(&rejected.error)))?;
    }
    registry::apply_settings(
        &mut config,
        FORCED_SETTINGS.iter().map(|(k, v)| (*k, Some(*v))),
    )
    .map_err(|rejected| error(&rejected.key, registry::engine_message(&rejected.error)))?;

    // A machine-dependent option the policy does not pin to a number stays `0`, DataFusion's spelling
    // of "one per CPU": the compiled environment and its hashes are then the same on every machine,
    // and each session resolves it where it runs.
    let pinned = |key: &str| canonical.get(key).is_some_and(|v| v != "0");
    let settings: BTreeMap<String, Option<String>> = registry::entries(&config)
        .into_iter()
        .map(|(key, value)| {
            if MACHINE_DEPENDENT_KEYS.contains(&key.as_str()) && !pinned(&key) {
                (key, Some("0".to_string()))
            } else {
                (key, value)
            }
        })
        .collect();
    let ballista = targets_ballista.then(|| BallistaEnvironment {
        version: ballista::BALLISTA_VERSION.to_string(),
        settings: registry
            .ballista_options()
            .map(|o| {
                let value = if o.machine_dependent && !pinned(&o.key) {
                    Some("0".to_string())
                } else {
                    canonical
                        .get(&o.key)
                        .cloned()
                        .or_else(|| o.canonical_default.clone())
                };
                (o.key.clone(), value)
            })
            .collect(),
        forced: ballista::catalog()
            .forced
            .iter()
            .map(|f| (f.key.clone(), f.value.clone()))
            .collect(),
    });
    let portable = MACHINE_DEPENDENT_KEYS.iter().all(|k| pinned(k))
        && (!targets_ballista || pinned(ballista::STANDALONE_PARALLELISM));

    let runtime = compile_runtime(options, &canonical).map_err(|(k, m)| error(&k, m))?;
    let rules = rule_recipe(options);
    let explain = options.explain.clone().unwrap_or_default();
    let mut compiled = CompiledPolicy {
        policy: name.clone(),
        engine: Engine {
            datafusion: DATAFUSION_VERSION.to_string(),
            extensions: registry::registry().engine().cloned(),
        },
        portable,
        settings,
        runtime,
        rules,
        namespace: NamespaceRule {
            require_qualified_references: options
                .namespace
                .as_ref()
                .and_then(|n| n.require_qualified_references)
                .unwrap_or(false),
        },
        statistics: StatisticsExpectation {
            minimum_quality: options
                .statistics
                .as_ref()
                .and_then(|s| s.minimum_quality)
                .unwrap_or(StatisticsQuality::Unknown),
        },
        ballista,
        explain: ExplainCapture {
            formats: explain
                .formats
                .unwrap_or_else(|| vec![ExplainFormat::Indent]),
            optimizer_trace: explain.optimizer_trace.unwrap_or(false),
            analyze: explain.analyze.unwrap_or(false),
        },
        hashes: Hashes::default(),
    };
    compiled.hashes = hash::hashes(&compiled, options, &canonical);
    Ok(compiled)
}

/// The runtime settings from the canonical values the policy sets, DataFusion's defaults elsewhere.
fn compile_runtime(
    options: &PolicyOptions,
    canonical: &BTreeMap<String, String>,
) -> Result<RuntimeSettings, (String, String)> {
    let value = |name: &str| {
        let key = format!("{RUNTIME_PREFIX}{name}");
        let value = canonical
            .get(&key)
            .map(String::as_str)
            .or_else(|| registry::registry().canonical_default(&key));
        (key, value)
    };
    let number = |name: &str| -> Result<Option<u64>, (String, String)> {
        match value(name) {
            (_, None) => Ok(None),
            (key, Some(v)) => v
                .parse()
                .map(Some)
                .map_err(|_| (key, format!("`{v}` is not a number"))),
        }
    };
    let required = |name: &str| -> Result<u64, (String, String)> {
        number(name)?.ok_or_else(|| {
            (
                format!("{RUNTIME_PREFIX}{name}"),
                "DataFusion has no default".into(),
            )
        })
    };
    let memory_limit = number("memory_limit")?;
    let pool = options.runtime.as_ref().and_then(|r| r.memory_pool);
    let memory_pool = match (memory_limit, pool) {
        (None, _) => MemoryPool::Unbounded,
        (Some(_), Some(MemoryPoolKind::Fair)) => MemoryPool::Fair,
        (Some(_), Some(MemoryPoolKind::Greedy) | None) => MemoryPool::Greedy,
    };
    Ok(RuntimeSettings {
        memory_limit,
        memory_pool,
        spill_directory: value("temp_directory").1.map(str::to_string),
        max_temp_directory_size: required("max_temp_directory_size")?,
        max_spill_merge_fan_in: required("max_spill_merge_fan_in")?,
        metadata_cache_limit: required("metadata_cache_limit")?,
        list_files_cache_limit: required("list_files_cache_limit")?,
        list_files_cache_ttl: match value("list_files_cache_ttl") {
            (_, None) => None,
            (key, Some(text)) => {
                Some(registry::parse_duration(text).map_err(|e| (key, e.message))?)
            }
        },
        file_statistics_cache_limit: required("file_statistics_cache_limit")?,
    })
}

fn rule_recipe(options: &PolicyOptions) -> RuleRecipe {
    let disabled = options.disabled_rules();
    let stage = |wanted: RuleStage| -> Vec<String> {
        registry::registry()
            .rules()
            .iter()
            .filter(|(stage, name)| *stage == wanted && !disabled.contains(name.as_str()))
            .map(|(_, name)| name.clone())
            .collect()
    };
    RuleRecipe {
        analyzer: stage(RuleStage::Analyzer),
        logical: stage(RuleStage::Logical),
        physical: stage(RuleStage::Physical),
    }
}

impl CompiledPolicy {
    /// The settings as DataFusion's typed [`ConfigOptions`]: the way every stage reads a compiled
    /// value (`options.sql_parser.dialect`, `options.explain.show_statistics`) rather than looking a
    /// key up and parsing its text. `settings` is applied through DataFusion's checked setter, so this
    /// fails only for an environment DataFusion does not accept (an edited JSON), naming the key.
    /// dfpolicy's own typed fields are beside it: [`CompiledPolicy::runtime`],
    /// [`CompiledPolicy::rules`], [`CompiledPolicy::namespace`], [`CompiledPolicy::statistics`],
    /// [`CompiledPolicy::explain`].
    pub fn config_options(&self) -> datafusion::error::Result<ConfigOptions> {
        let mut options = registry::config_options();
        let settings = self
            .settings
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_deref()));
        registry::apply_settings(&mut options, settings).map_err(|rejected| {
            rejected.error.context(format!(
                "policy `{}`: cannot apply `{}`",
                self.policy, rejected.key
            ))
        })?;
        Ok(options)
    }

    /// The compiled policy as pretty JSON, the shape other tools parse.
    pub fn to_json(&self) -> String {
        let mut text =
            serde_json::to_string_pretty(&self.json_value()).expect("compiled policies serialize");
        text.push('\n');
        text
    }

    fn json_value(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("compiled policies serialize")
    }

    /// Reads a compiled policy written by [`CompiledPolicy::to_json`] (or `dfpolicy compile --format
    /// json`).
    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// The compiled policy as TOML, meant to be committed next to the policy and diffed in review.
    /// TOML has no null: unset options are listed in a comment block instead.
    pub fn to_toml(&self) -> String {
        let mut out = String::new();
        out.push_str(&format!(
            "# Compiled by dfpolicy from policy `{}` for DataFusion {}. Do not edit: regenerate with\n# `dfpolicy compile <policy> > <this file>`.\n",
            self.policy, self.engine.datafusion
        ));
        out.push_str(&format!(
            "policy = {}\nportable = {}\n\n",
            toml_string(&self.policy),
            self.portable
        ));
        out.push_str(&format!(
            "[engine]\ndatafusion = {}\n\n",
            toml_string(&self.engine.datafusion)
        ));
        if let Some(identity) = &self.engine.extensions {
            // The engine's identity, as TOML (its lists sorted): a table of its own.
            let table = toml::to_string(identity).expect("identities serialize as TOML");
            out.push_str(&format!("[engine.extensions]\n{table}\n"));
        }
        out.push_str("[hashes]\n");
        out.push_str(&format!(
            "policy_hash = {}\n",
            toml_string(&self.hashes.policy_hash)
        ));
        out.push_str(&format!(
            "settings_hash = {}\n",
            toml_string(&self.hashes.settings_hash)
        ));
        out.push_str(&format!(
            "plan_environment_hash = {}\n\n",
            toml_string(&self.hashes.plan_environment_hash)
        ));
        // Typed values, as a policy's `[settings]` takes them: every line can be pasted into a policy.
        out.push_str("[settings]\n");
        let mut unset = Vec::new();
        for (key, value) in &self.settings {
            match value {
                Some(v) => out.push_str(&setting_line(key, v)),
                None => unset.push(key.as_str()),
            }
        }
        if !unset.is_empty() {
            out.push_str("# unset (NULL):\n");
            for key in unset {
                out.push_str(&format!("# {key}\n"));
            }
        }
        out.push_str("\n[runtime]\n");
        for (key, value) in self.runtime.entries() {
            match value {
                serde_json::Value::Null => out.push_str(&format!("# {key} = unset\n")),
                serde_json::Value::String(s) => {
                    out.push_str(&format!("{key} = {}\n", toml_string(&s)))
                }
                other => out.push_str(&format!("{key} = {other}\n")),
            }
        }
        out.push_str("\n[rules]\n");
        for (stage, names) in self.rules.stages() {
            out.push_str(&format!("{stage} = [\n"));
            for name in names {
                out.push_str(&format!("    {},\n", toml_string(name)));
            }
            out.push_str("]\n");
        }
        out.push_str(&format!(
            "\n[namespace]\nrequire_qualified_references = {}\n",
            self.namespace.require_qualified_references
        ));
        out.push_str(&format!(
            "\n[statistics]\nminimum_quality = {}\n",
            toml_string(&self.statistics.minimum_quality.to_string())
        ));
        let formats: Vec<String> = self
            .explain
            .formats
            .iter()
            .map(|f| toml_string(&f.to_string()))
            .collect();
        out.push_str(&format!(
            "\n[explain]\nformats = [{}]\noptimizer_trace = {}\nanalyze = {}\n",
            formats.join(", "),
            self.explain.optimizer_trace,
            self.explain.analyze
        ));
        if let Some(ballista) = &self.ballista {
            out.push_str(&format!(
                "\n[ballista]\nversion = {}\n\n[ballista.settings]\n",
                toml_string(&ballista.version)
            ));
            for (key, value) in &ballista.settings {
                match value {
                    Some(v) => out.push_str(&setting_line(key, v)),
                    None => out.push_str(&format!("# {key} unset\n")),
                }
            }
            out.push_str("\n# DataFusion settings Ballista forces on every distributed session; [settings]\n# above already holds these values.\n[ballista.forced]\n");
            for (key, value) in &ballista.forced {
                out.push_str(&setting_line(key, value));
            }
        }
        out
    }
}

/// One `"key" = value` line, as `[settings]` takes it, credentials redacted.
fn setting_line(key: &str, value: &str) -> String {
    format!(
        "{} = {}\n",
        toml_string(key),
        toml_value(key, &crate::secrets::redact(value))
    )
}

/// A setting's value as TOML of the option's type: booleans and numbers bare, everything else quoted;
/// what `[settings]` accepts for the same key.
fn toml_value(key: &str, value: &str) -> String {
    let kind = registry::registry()
        .option(key)
        .map_or(ValueKind::Text, |o| o.kind);
    registry::toml_literal(kind, value)
}

fn toml_string(text: &str) -> String {
    toml::Value::String(text.to_string()).to_string()
}
