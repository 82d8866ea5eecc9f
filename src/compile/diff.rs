//! What differs between two compiled environments, and whether it can change a plan.

use serde::Serialize;

use super::CompiledPolicy;
use crate::registry::{SettingClass, classify, registry};

/// One difference between two environments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SettingDifference {
    /// An option key, `runtime.<field>`, or `rules.<stage>`.
    pub key: String,
    pub left: Option<String>,
    pub right: Option<String>,
    pub class: SettingClass,
    /// Ballista forces the value on one side (`left` or `right` is a Ballista policy whose value is
    /// Ballista's, whatever the policy wrote).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub forced_by_ballista: bool,
}

impl SettingDifference {
    pub fn plan_shape(&self) -> bool {
        self.class == SettingClass::PlanShape
    }
}

/// The differences between two compiled policies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EnvironmentDiff {
    pub left: String,
    pub right: String,
    pub differences: Vec<SettingDifference>,
    /// The plan-environment hashes differ: some plan may differ.
    pub plan_environment_differs: bool,
}

pub fn diff(left: &CompiledPolicy, right: &CompiledPolicy) -> EnvironmentDiff {
    let mut differences = Vec::new();
    let keys: std::collections::BTreeSet<&String> =
        left.settings.keys().chain(right.settings.keys()).collect();
    for key in keys {
        let (l, r) = (
            left.settings.get(key).cloned().flatten(),
            right.settings.get(key).cloned().flatten(),
        );
        if l != r {
            let class = registry()
                .option(key)
                .map_or(SettingClass::PlanShape, |o| classify(o).0);
            let forced = |c: &CompiledPolicy| {
                c.ballista
                    .as_ref()
                    .is_some_and(|b| b.forced.contains_key(key.as_str()))
            };
            differences.push(SettingDifference {
                key: key.clone(),
                left: l,
                right: r,
                class,
                forced_by_ballista: forced(left) || forced(right),
            });
        }
    }
    let text = |v: &serde_json::Value| match v {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    };
    for ((field, l), (_, r)) in left
        .runtime
        .entries()
        .iter()
        .zip(right.runtime.entries().iter())
    {
        if l != r {
            differences.push(SettingDifference {
                key: format!("runtime.{field}"),
                left: text(l),
                right: text(r),
                class: SettingClass::ExecutionOnly,
                forced_by_ballista: false,
            });
        }
    }
    for ((stage, l), (_, r)) in left.rules.stages().zip(right.rules.stages()) {
        if l != r {
            differences.push(SettingDifference {
                key: format!("rules.{}", stage),
                left: Some(l.join(",")),
                right: Some(r.join(",")),
                class: SettingClass::PlanShape,
                forced_by_ballista: false,
            });
        }
    }
    // Ballista: its release (absent for a DataFusion policy), then its options.
    let version = |c: &CompiledPolicy| c.ballista.as_ref().map(|b| b.version.clone());
    if version(left) != version(right) {
        differences.push(SettingDifference {
            key: "engine.ballista".to_string(),
            left: version(left),
            right: version(right),
            class: SettingClass::PlanShape,
            forced_by_ballista: false,
        });
    }
    let ballista_value = |c: &CompiledPolicy, key: &str| {
        c.ballista
            .as_ref()
            .and_then(|b| b.settings.get(key).cloned().flatten())
    };
    for option in registry().ballista_options() {
        let (l, r) = (
            ballista_value(left, &option.key),
            ballista_value(right, &option.key),
        );
        if l != r {
            differences.push(SettingDifference {
                key: option.key.clone(),
                left: l,
                right: r,
                class: classify(option).0,
                forced_by_ballista: false,
            });
        }
    }
    // What dfpolicy itself reads: no session sees it, but a reviewer should.
    let own = |compiled: &CompiledPolicy| {
        let mut fields = Vec::new();
        for (section, value) in [
            ("namespace", serde_json::to_value(&compiled.namespace)),
            ("statistics", serde_json::to_value(&compiled.statistics)),
            ("explain", serde_json::to_value(&compiled.explain)),
        ] {
            if let Ok(serde_json::Value::Object(map)) = value {
                fields.extend(map.into_iter().map(|(k, v)| (format!("{section}.{k}"), v)));
            }
        }
        fields
    };
    for ((key, l), (_, r)) in own(left).iter().zip(own(right).iter()) {
        if l != r {
            differences.push(SettingDifference {
                key: key.clone(),
                left: text(l),
                right: text(r),
                class: SettingClass::DfpolicyOnly,
                forced_by_ballista: false,
            });
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
