//! What differs between two compiled environments, and whether it can change a plan.

use serde::Serialize;

use super::CompiledPolicy;
use crate::registry::{SettingClass, classify, registry};

/// One difference between two environments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SettingDifference {
    /// An option key, `runtime.<field>`, or `rules.<stage>`.
    pub key: String,
    /// The value in the left policy; `None` is unset.
    pub left: Option<String>,
    /// The value in the right policy; `None` is unset.
    pub right: Option<String>,
    /// What the key changes (see [`SettingClass`]).
    pub class: SettingClass,
    /// Ballista forces the value on one side (`left` or `right` is a Ballista policy whose value is
    /// Ballista's, whatever the policy wrote).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub forced_by_ballista: bool,
}

impl SettingDifference {
    /// Whether the difference can change plans.
    pub fn plan_shape(&self) -> bool {
        self.class == SettingClass::PlanShape
    }
}

/// The differences between two compiled policies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EnvironmentDiff {
    /// The left policy's name.
    pub left: String,
    /// The right policy's name.
    pub right: String,
    /// Every key whose value differs, sorted by key.
    pub differences: Vec<SettingDifference>,
    /// The plan-environment hashes differ: some plan may differ.
    pub plan_environment_differs: bool,
}

/// One value of a compiled environment, as a diff compares it.
struct Entry {
    key: String,
    value: Option<String>,
    class: SettingClass,
    /// Ballista forces this value on the environment.
    forced_by_ballista: bool,
}

impl Entry {
    fn new(key: impl Into<String>, value: Option<String>, class: SettingClass) -> Entry {
        Entry {
            key: key.into(),
            value,
            class,
            forced_by_ballista: false,
        }
    }
}

/// The parts of a compiled environment a diff compares, in the order it reports them: each lists
/// its values for one environment, every key in the same order for every environment.
const PARTS: [fn(&CompiledPolicy) -> Vec<Entry>; 6] = [
    settings,
    runtime,
    rules,
    ballista_engine,
    ballista_settings,
    dfpolicy_only,
];

/// The differences between two compiled environments, key by key: settings, runtime, rules, Ballista's
/// and dfpolicy's own keys.
pub fn diff(left: &CompiledPolicy, right: &CompiledPolicy) -> EnvironmentDiff {
    let mut differences = Vec::new();
    for part in PARTS {
        let (mut lefts, rights) = (part(left), part(right));
        // A key only one side has (another release's option) compares with nothing.
        for entry in &rights {
            if !lefts.iter().any(|l| l.key == entry.key) {
                lefts.push(Entry::new(entry.key.clone(), None, entry.class));
            }
        }
        for l in lefts {
            let r = rights.iter().find(|r| r.key == l.key);
            let right_value = r.and_then(|r| r.value.clone());
            if l.value != right_value {
                differences.push(SettingDifference {
                    forced_by_ballista: l.forced_by_ballista
                        || r.is_some_and(|r| r.forced_by_ballista),
                    key: l.key,
                    left: l.value,
                    right: right_value,
                    class: l.class,
                });
            }
        }
    }
    EnvironmentDiff {
        left: left.policy.clone(),
        right: right.policy.clone(),
        differences,
        plan_environment_differs: left.hashes.plan_environment_hash
            != right.hashes.plan_environment_hash,
    }
}

/// Every DataFusion option, by key, classified.
fn settings(compiled: &CompiledPolicy) -> Vec<Entry> {
    compiled
        .settings
        .iter()
        .map(|(key, value)| Entry {
            class: registry()
                .option(key)
                .map_or(SettingClass::PlanShape, |o| classify(o).0),
            forced_by_ballista: compiled
                .ballista
                .as_ref()
                .is_some_and(|b| b.forced.contains_key(key.as_str())),
            ..Entry::new(key.clone(), value.clone(), SettingClass::PlanShape)
        })
        .collect()
}

/// The runtime section: how plans run, never what they are.
fn runtime(compiled: &CompiledPolicy) -> Vec<Entry> {
    compiled
        .runtime
        .entries()
        .into_iter()
        .map(|(field, value)| {
            Entry::new(
                format!("runtime.{field}"),
                json_text(&value),
                SettingClass::ExecutionOnly,
            )
        })
        .collect()
}

/// Each stage's rule list.
fn rules(compiled: &CompiledPolicy) -> Vec<Entry> {
    compiled
        .rules
        .stages()
        .map(|(stage, rules)| {
            Entry::new(
                format!("rules.{stage}"),
                Some(rules.join(",")),
                SettingClass::PlanShape,
            )
        })
        .collect()
}

/// Ballista's release; absent for a DataFusion policy.
fn ballista_engine(compiled: &CompiledPolicy) -> Vec<Entry> {
    let version = compiled.ballista.as_ref().map(|b| b.version.clone());
    vec![Entry::new(
        "engine.ballista",
        version,
        SettingClass::PlanShape,
    )]
}

/// Every Ballista option; absent for a DataFusion policy.
fn ballista_settings(compiled: &CompiledPolicy) -> Vec<Entry> {
    registry()
        .ballista_options()
        .map(|option| {
            let value = compiled
                .ballista
                .as_ref()
                .and_then(|b| b.settings.get(&option.key).cloned().flatten());
            Entry::new(option.key.clone(), value, classify(option).0)
        })
        .collect()
}

/// What dfpolicy itself reads: no session sees it, but a reviewer should.
fn dfpolicy_only(compiled: &CompiledPolicy) -> Vec<Entry> {
    [
        ("namespace", serde_json::to_value(&compiled.namespace)),
        ("statistics", serde_json::to_value(&compiled.statistics)),
        ("explain", serde_json::to_value(&compiled.explain)),
    ]
    .into_iter()
    .filter_map(|(section, value)| match value {
        Ok(serde_json::Value::Object(fields)) => Some((section, fields)),
        _ => None,
    })
    .flat_map(|(section, fields)| {
        fields.into_iter().map(move |(field, value)| {
            Entry::new(
                format!("{section}.{field}"),
                json_text(&value),
                SettingClass::DfpolicyOnly,
            )
        })
    })
    .collect()
}

/// A JSON value as a diff shows it: strings bare, `null` as nothing.
fn json_text(value: &serde_json::Value) -> Option<String> {
    match value {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

impl EnvironmentDiff {
    /// A line per difference, then the verdict.
    pub fn to_text(&self) -> String {
        let mut out = format!("--- {}\n+++ {}\n", self.left, self.right);
        for d in &self.differences {
            out.push_str(&format!(
                "{} [{}]{}\n  - {}\n  + {}\n",
                d.key,
                d.class,
                if d.forced_by_ballista {
                    " (forced by Ballista)"
                } else {
                    ""
                },
                d.left.as_deref().unwrap_or("NULL"),
                d.right.as_deref().unwrap_or("NULL")
            ));
        }
        let plan_shape = self.differences.iter().filter(|d| d.plan_shape()).count();
        out.push_str(&format!(
            "{}, {plan_shape} plan-shape: {}\n",
            crate::report::counted(self.differences.len(), "difference", "differences"),
            if self.plan_environment_differs {
                "plan environments differ (plan_environment_hash differs)"
            } else {
                "plan-equivalent (same plan_environment_hash)"
            }
        ));
        out
    }
}
