//! Compiling a validated policy into one complete, canonical session environment with hashes.
//!
//! The compiled form lists every DataFusion option (defaults filled in), the runtime settings and the
//! optimizer rule recipe. It is what sessions are built from, what `dfpolicy compile` prints, and what
//! the hashes are computed over.

pub mod classify;
pub mod diff;
pub mod hash;

use std::collections::BTreeMap;

use datafusion::config::ConfigOptions;
use serde::{Deserialize, Serialize};

use crate::policy::options::{MemoryPoolKind, PolicyOptions};
use crate::registry::{
    self, DATAFUSION_VERSION, MACHINE_DEPENDENT_KEYS, RUNTIME_PREFIX, RuleStage,
};
use crate::validate::Policy;

pub use classify::{SettingClass, classify};
pub use diff::{EnvironmentDiff, diff};
pub use hash::{HASH_SCHEME, Hashes};

pub use crate::registry::FORCED_SETTINGS;

/// The engine a policy was compiled for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Engine {
    pub datafusion: String,
}

/// The runtime environment: memory, spilling and cache budgets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuntimeSettings {
    /// Bytes, or `None` for no limit.
    pub memory_limit: Option<u64>,
    /// `unbounded` without a limit, else `greedy` or `fair`.
    pub memory_pool: String,
    /// The spill directory as configured (DataFusion creates a random subdirectory in it).
    pub spill_directory: Option<String>,
    pub max_temp_directory_size: u64,
    pub max_spill_merge_fan_in: u64,
    pub metadata_cache_limit: u64,
    pub list_files_cache_limit: u64,
    /// `{m}m{s}s`, or `None` for no expiry.
    pub list_files_cache_ttl: Option<String>,
    pub file_statistics_cache_limit: u64,
}

/// The optimizer rules a session runs, in order, after `disabled_rules`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleRecipe {
    pub analyzer: Vec<String>,
    pub logical: Vec<String>,
    pub physical: Vec<String>,
}

/// A policy compiled into a complete session environment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompiledPolicy {
    pub policy: String,
    pub engine: Engine,
    /// Every machine-dependent option is pinned by the policy, so the environment is the same on
    /// every machine.
    pub portable: bool,
    /// Every `datafusion.*` option of `ConfigOptions`, sorted by key; `None` is NULL. Serialized with
    /// credentials redacted (see [`crate::secrets`]).
    #[serde(serialize_with = "crate::secrets::serialize_settings")]
    pub settings: BTreeMap<String, Option<String>>,
    pub runtime: RuntimeSettings,
    pub rules: RuleRecipe,
    pub hashes: Hashes,
    /// The resolved policy the environment was compiled from (for dfpolicy-only options).
    #[serde(skip)]
    pub options: PolicyOptions,
}

/// Why a validated policy could not be compiled. Validation is meant to make this impossible; it
/// names the policy and key so that a gap is easy to report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompileError {
    pub policy: String,
    pub key: String,
    pub message: String,
}

impl std::fmt::Display for CompileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "cannot compile policy `{}`: setting `{}`: {}",
            self.policy, self.key, self.message
        )
    }
}

impl std::error::Error for CompileError {}

impl Policy {
    /// Compiles the policy into its complete session environment.
    pub fn compile(&self) -> Result<CompiledPolicy, CompileError> {
        compile(&self.resolved.options)
    }
}

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
    let mut config = ConfigOptions::new();
    let (runtime_keys, config_keys): (Vec<_>, Vec<_>) = explicit
        .iter()
        .partition(|(k, _)| k.starts_with(RUNTIME_PREFIX));
    let mut canonical = registry::apply_settings(
        &mut config,
        config_keys
            .into_iter()
            .map(|(k, v)| (k.as_str(), Some(v.as_str()))),
    )
    .map_err(|(key, e)| error(&key, registry::engine_message(&e)))?;
    for (key, value) in runtime_keys {
        let value = registry
            .check_value(key, value)
            .map_err(|m| error(key, m))?;
        canonical.insert(key.clone(), value.0);
    }
    registry::apply_settings(
        &mut config,
        FORCED_SETTINGS.iter().map(|(k, v)| (*k, Some(*v))),
    )
    .map_err(|(key, e)| error(&key, registry::engine_message(&e)))?;

    // A machine-dependent option the policy does not pin to a number stays `0`, DataFusion's spelling
    // of "one per CPU": the compiled environment and its hashes are then the same on every machine,
    // and each session resolves it where it runs.
    let pinned = |key: &str| canonical.get(key).is_some_and(|v| v != "0");
    let settings: BTreeMap<String, Option<String>> = config
        .entries()
        .into_iter()
        .map(|e| {
            if MACHINE_DEPENDENT_KEYS.contains(&e.key.as_str()) && !pinned(&e.key) {
                (e.key, Some("0".to_string()))
            } else {
                (e.key, e.value)
            }
        })
        .collect();
    let portable = MACHINE_DEPENDENT_KEYS.iter().all(|k| pinned(k));

    let runtime = compile_runtime(options, &canonical).map_err(|(k, m)| error(&k, m))?;
    let rules = rule_recipe(options);
    let mut compiled = CompiledPolicy {
        policy: name.clone(),
        engine: Engine {
            datafusion: DATAFUSION_VERSION.to_string(),
        },
        portable,
        settings,
        runtime,
        rules,
        hashes: Hashes::default(),
        options: options.clone(),
    };
    compiled.hashes = hash::hashes(&compiled, &canonical);
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
        (None, _) => "unbounded",
        (Some(_), Some(MemoryPoolKind::Fair)) => "fair",
        (Some(_), _) => "greedy",
    };
    Ok(RuntimeSettings {
        memory_limit,
        memory_pool: memory_pool.to_string(),
        spill_directory: value("temp_directory").1.map(str::to_string),
        max_temp_directory_size: required("max_temp_directory_size")?,
        max_spill_merge_fan_in: required("max_spill_merge_fan_in")?,
        metadata_cache_limit: required("metadata_cache_limit")?,
        list_files_cache_limit: required("list_files_cache_limit")?,
        list_files_cache_ttl: value("list_files_cache_ttl").1.map(str::to_string),
        file_statistics_cache_limit: required("file_statistics_cache_limit")?,
    })
}

fn rule_recipe(options: &PolicyOptions) -> RuleRecipe {
    let disabled: Vec<&str> = options
        .optimizer
        .as_ref()
        .and_then(|o| o.disabled_rules.as_ref())
        .map(|rules| rules.iter().map(String::as_str).collect())
        .unwrap_or_default();
    let stage = |wanted: RuleStage| -> Vec<String> {
        registry::registry()
            .rules()
            .iter()
            .filter(|(stage, name)| *stage == wanted && !disabled.contains(&name.as_str()))
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
        out.push_str("[settings]\n");
        let mut unset = Vec::new();
        for (key, value) in &self.settings {
            match value {
                Some(v) => out.push_str(&format!(
                    "{} = {}\n",
                    toml_string(key),
                    toml_string(&crate::secrets::redact(v))
                )),
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
        let runtime = serde_json::to_value(&self.runtime).expect("runtime serializes");
        for (key, value) in runtime.as_object().expect("runtime is an object") {
            match value {
                serde_json::Value::Null => out.push_str(&format!("# {key} = unset\n")),
                serde_json::Value::String(s) => {
                    out.push_str(&format!("{key} = {}\n", toml_string(s)))
                }
                other => out.push_str(&format!("{key} = {other}\n")),
            }
        }
        out.push_str("\n[rules]\n");
        for (stage, names) in [
            ("analyzer", &self.rules.analyzer),
            ("logical", &self.rules.logical),
            ("physical", &self.rules.physical),
        ] {
            out.push_str(&format!("{stage} = [\n"));
            for name in names {
                out.push_str(&format!("    {},\n", toml_string(name)));
            }
            out.push_str("]\n");
        }
        out
    }
}

fn toml_string(text: &str) -> String {
    toml::Value::String(text.to_string()).to_string()
}
