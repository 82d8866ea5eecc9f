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
    self, DATAFUSION_VERSION, DYNAMIC_FILTER_UMBRELLA, MACHINE_DEPENDENT_KEYS, RUNTIME_PREFIX,
    RuleStage,
};
use crate::validate::Policy;

pub use classify::{SettingClass, classify};
pub use diff::{EnvironmentDiff, diff};
pub use hash::{HASH_SCHEME, Hashes};

/// Sessions are always built with `information_schema` on, so that their settings can be read back.
pub const FORCED_SETTINGS: &[(&str, &str)] = &[("datafusion.catalog.information_schema", "true")];

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
    /// Every `datafusion.*` option of `ConfigOptions`, sorted by key; `None` is NULL.
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

/// The DataFusion settings a policy sets explicitly, typed fields and `[settings]` together, as
/// `(key, value for ConfigOptions::set)` sorted by key; a `[settings]` key wins over a typed field
/// only where validation allowed both (same value).
pub fn explicit_settings(options: &PolicyOptions) -> BTreeMap<String, String> {
    let mut settings: BTreeMap<String, String> = options
        .typed_engine_settings()
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    if let Some(extra) = &options.settings {
        for (key, value) in &extra.0 {
            settings
                .entry(key.clone())
                .or_insert_with(|| value.engine_text());
        }
    }
    settings
}

pub fn compile(options: &PolicyOptions) -> Result<CompiledPolicy, CompileError> {
    let name = options.policy.name.clone();
    let error = |key: &str, message: String| CompileError {
        policy: name.clone(),
        key: key.to_string(),
        message,
    };
    let explicit = explicit_settings(options);

    let mut config = ConfigOptions::new();
    // The umbrella overwrites its three sub-flags, so it goes first and the sub-flags refine it.
    let umbrella = explicit
        .get(DYNAMIC_FILTER_UMBRELLA)
        .map(|v| (DYNAMIC_FILTER_UMBRELLA, v));
    let rest = explicit
        .iter()
        .filter(|(k, _)| k.as_str() != DYNAMIC_FILTER_UMBRELLA && !k.starts_with(RUNTIME_PREFIX))
        .map(|(k, v)| (k.as_str(), v));
    for (key, value) in umbrella.into_iter().chain(rest) {
        registry::apply(&mut config, key, value).map_err(|m| error(key, m))?;
    }
    for (key, value) in FORCED_SETTINGS {
        registry::apply(&mut config, key, value).map_err(|m| error(key, m))?;
    }
    let settings: BTreeMap<String, Option<String>> = config
        .entries()
        .into_iter()
        .map(|e| (e.key, e.value))
        .collect();
    let portable = MACHINE_DEPENDENT_KEYS
        .iter()
        .all(|k| explicit.contains_key(*k));

    let runtime = compile_runtime(options, &explicit).map_err(|(k, m)| error(&k, m))?;
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
    compiled.hashes = hash::hashes(&compiled, &explicit);
    Ok(compiled)
}

fn runtime_bytes(
    explicit: &BTreeMap<String, String>,
    name: &str,
    default: &str,
) -> Result<u64, (String, String)> {
    let key = format!("{RUNTIME_PREFIX}{name}");
    let value = explicit.get(&key).map(String::as_str).unwrap_or(default);
    let canonical = registry::registry()
        .check_value(&key, value)
        .map_err(|m| (key.clone(), m))?;
    canonical
        .0
        .parse()
        .map_err(|_| (key, format!("`{}` is not a byte count", canonical.0)))
}

fn compile_runtime(
    options: &PolicyOptions,
    explicit: &BTreeMap<String, String>,
) -> Result<RuntimeSettings, (String, String)> {
    let memory_limit = match explicit.get("datafusion.runtime.memory_limit") {
        Some(_) => Some(runtime_bytes(explicit, "memory_limit", "0")?),
        None => None,
    };
    let pool = options.runtime.as_ref().and_then(|r| r.memory_pool);
    let memory_pool = match (memory_limit, pool) {
        (None, _) => "unbounded",
        (Some(_), Some(MemoryPoolKind::Fair)) => "fair",
        (Some(_), _) => "greedy",
    };
    let fan_in = match explicit.get("datafusion.runtime.max_spill_merge_fan_in") {
        Some(v) => v.parse().map_err(|_| {
            (
                "datafusion.runtime.max_spill_merge_fan_in".to_string(),
                format!("`{v}` is not a count"),
            )
        })?,
        None => 0,
    };
    let ttl = match explicit.get("datafusion.runtime.list_files_cache_ttl") {
        Some(v) => Some(
            registry::registry()
                .check_value("datafusion.runtime.list_files_cache_ttl", v)
                .map_err(|m| ("datafusion.runtime.list_files_cache_ttl".to_string(), m))?
                .0,
        ),
        None => None,
    };
    Ok(RuntimeSettings {
        memory_limit,
        memory_pool: memory_pool.to_string(),
        spill_directory: explicit.get("datafusion.runtime.temp_directory").cloned(),
        max_temp_directory_size: runtime_bytes(explicit, "max_temp_directory_size", "100G")?,
        max_spill_merge_fan_in: fan_in,
        metadata_cache_limit: runtime_bytes(explicit, "metadata_cache_limit", "50M")?,
        list_files_cache_limit: runtime_bytes(explicit, "list_files_cache_limit", "1M")?,
        list_files_cache_ttl: ttl,
        file_statistics_cache_limit: runtime_bytes(explicit, "file_statistics_cache_limit", "20M")?,
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
                Some(v) => out.push_str(&format!("{} = {}\n", toml_string(key), toml_string(v))),
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
