//! The three hashes of a compiled policy (scheme `v1`).
//!
//! Each hash is SHA-256 over lines `name<TAB>value` (value JSON-encoded, `null` for unset), sorted by
//! name, after a header line naming the hash and the scheme. The result is written `v1:<hex>`, so a
//! later scheme can change the encoding without two schemes ever comparing equal.
//!
//! - `settings_hash`: every effective setting — all `ConfigOptions` keys (defaults filled in) and the
//!   runtime settings.
//! - `plan_environment_hash`: what can change a plan — the DataFusion version, the plan-shape settings
//!   (see [`super::classify`]), the rule recipe in order, and the default catalog and schema.
//! - `policy_hash`: the resolved policy — its name, engine requirement, every option it sets (in
//!   DataFusion's canonical rendering, whether set by a typed field or in `[settings]`), and the
//!   options only dfpolicy reads. Descriptions and comments are not part of it.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::CompiledPolicy;
use crate::policy::options::{PolicyOptions, SECTIONS};
use crate::registry::{DATAFUSION_VERSION, SettingClass, classify, registry};

/// The version of the hash encoding, prefixed to every hash.
pub const HASH_SCHEME: &str = "v1";

/// The three hashes of a compiled policy, each `v1:` and a SHA-256 in hex.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hashes {
    /// Over what the policy sets: its name and engine requirement, every option it sets (canonically
    /// rendered) and the options only dfpolicy reads (docs/compile.md).
    pub policy_hash: String,
    /// Over every effective setting (Ballista's too) and the runtime settings.
    pub settings_hash: String,
    /// Over what can change plans: the DataFusion release, the plan-shape settings, the rule recipe
    /// in order and, in an engine's dfpolicy, the engine's identity.
    pub plan_environment_hash: String,
}

/// The option keys that can change a plan's shape, sorted.
pub fn plan_shape_keys() -> &'static [&'static str] {
    static KEYS: OnceLock<Vec<&'static str>> = OnceLock::new();
    KEYS.get_or_init(|| {
        registry()
            .options()
            .filter(|o| classify(o).0 == SettingClass::PlanShape)
            .map(|o| o.key.as_str())
            .collect()
    })
}

/// The `v1` digest of named lines: SHA-256 over a header naming the hash, then `key<TAB>json value`
/// lines in key order. Later stages (plan bundles) hash their own inputs with it.
pub fn digest(name: &str, lines: BTreeMap<String, serde_json::Value>) -> String {
    let mut hasher = Sha256::new();
    hasher.update(format!("dfpolicy {name} {HASH_SCHEME}\n"));
    for (key, value) in lines {
        hasher.update(key.as_bytes());
        hasher.update(b"\t");
        // Credentials are not part of any hash (see `crate::secrets`).
        let value = match value {
            serde_json::Value::String(text) => crate::secrets::redact(&text).into_owned().into(),
            other => other,
        };
        hasher.update(value.to_string().as_bytes());
        hasher.update(b"\n");
    }
    written(&hasher.finalize())
}

/// A SHA-256 digest as every dfpolicy hash is written: `v1:` and the hex digits.
pub fn written(digest: &[u8]) -> String {
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("{HASH_SCHEME}:{hex}")
}

fn optional(value: &Option<String>) -> serde_json::Value {
    value
        .as_ref()
        .map_or(serde_json::Value::Null, |v| v.clone().into())
}

/// The runtime settings as lines `runtime.<field>`.
fn runtime_lines(compiled: &CompiledPolicy) -> BTreeMap<String, serde_json::Value> {
    compiled
        .runtime
        .entries()
        .into_iter()
        .map(|(k, v)| (format!("runtime.{k}"), v))
        .collect()
}

fn rule_lines(compiled: &CompiledPolicy) -> BTreeMap<String, serde_json::Value> {
    let mut lines = BTreeMap::new();
    for (stage, names) in compiled.rules.stages() {
        // Zero-padded positions keep the recipe's order under the sort by name.
        for (index, name) in names.iter().enumerate() {
            lines.insert(format!("rules.{}.{index:03}", stage), name.clone().into());
        }
    }
    lines
}

/// The `settings_hash` of a compiled environment.
pub fn settings_hash(compiled: &CompiledPolicy) -> String {
    let mut lines: BTreeMap<String, serde_json::Value> = compiled
        .settings
        .iter()
        .map(|(k, v)| (k.clone(), optional(v)))
        .collect();
    lines.extend(runtime_lines(compiled));
    if let Some(ballista) = &compiled.ballista {
        lines.extend(
            ballista
                .settings
                .iter()
                .map(|(k, v)| (k.clone(), optional(v))),
        );
    }
    digest("settings", lines)
}

/// The `plan_environment_hash` of a compiled environment.
pub fn plan_environment_hash(compiled: &CompiledPolicy) -> String {
    let mut lines: BTreeMap<String, serde_json::Value> = plan_shape_keys()
        .iter()
        .map(|&key| {
            (
                key.to_string(),
                optional(compiled.settings.get(key).unwrap_or(&None)),
            )
        })
        .collect();
    lines.extend(rule_lines(compiled));
    lines.insert("engine.datafusion".into(), DATAFUSION_VERSION.into());
    // An engine's plans depend on its functions, formats, rules and planner: its identity is a line
    // of its own. Vanilla DataFusion's hash has none, as before engines existed.
    if let Some(identity) = &compiled.engine.extensions {
        lines.insert(
            "engine.extensions".into(),
            serde_json::to_value(identity).expect("identities serialize"),
        );
    }
    // A Ballista policy's plans also depend on Ballista's planners: its release and the options
    // they read. A DataFusion policy's hash has none of these lines.
    if let Some(ballista) = &compiled.ballista {
        lines.insert("engine.ballista".into(), ballista.version.clone().into());
        for (key, value) in &ballista.settings {
            if crate::registry::ballista::plan_shape_reason(key).is_some() {
                lines.insert(key.clone(), optional(value));
            }
        }
    }
    for (name, key) in [
        (
            "namespace.default_catalog",
            "datafusion.catalog.default_catalog",
        ),
        (
            "namespace.default_schema",
            "datafusion.catalog.default_schema",
        ),
    ] {
        lines.insert(
            name.into(),
            optional(compiled.settings.get(key).unwrap_or(&None)),
        );
    }
    digest("plan-environment", lines)
}

/// `options`: the resolved policy; `canonical`: every option it sets, in DataFusion's rendering.
pub fn policy_hash(options: &PolicyOptions, canonical: &BTreeMap<String, String>) -> String {
    let mut lines = BTreeMap::new();
    lines.insert(
        "policy.name".to_string(),
        options.policy.name.clone().into(),
    );
    lines.insert(
        "policy.engine".to_string(),
        options
            .policy
            .engine
            .clone()
            .map_or(serde_json::Value::Null, Into::into),
    );
    for (key, value) in canonical {
        lines.insert(key.clone(), value.clone().into());
    }
    if options.targets_ballista() {
        lines.insert("ballista.target".to_string(), true.into());
    }
    let document = serde_json::to_value(options).expect("policies serialize");
    for (section, fields) in SECTIONS {
        for field in fields.iter().filter(|f| f.key.is_none()) {
            let Some(value) = document.get(section).and_then(|s| s.get(field.name)) else {
                continue;
            };
            let value = if *section == "optimizer" && field.name == "disabled_rules" {
                options
                    .disabled_rules()
                    .into_iter()
                    .collect::<Vec<_>>()
                    .into()
            } else {
                value.clone()
            };
            lines.insert(format!("{section}.{}", field.name), value);
        }
    }
    digest("policy", lines)
}

/// All three hashes of a compiled environment and the policy it was compiled from.
pub fn hashes(
    compiled: &CompiledPolicy,
    options: &PolicyOptions,
    canonical: &BTreeMap<String, String>,
) -> Hashes {
    Hashes {
        policy_hash: policy_hash(options, canonical),
        settings_hash: settings_hash(compiled),
        plan_environment_hash: plan_environment_hash(compiled),
    }
}
