//! What `dfpolicy settings` lists: every DataFusion option (then every Ballista option) with its type, default, class and the policy
//! field that sets it, and the rules of a default session.

use serde::Serialize;

use crate::policy::options::typed_field_for_key;
use crate::registry::registry;

/// One DataFusion option as a policy author sees it.
#[derive(Debug, Clone, Serialize)]
pub struct SettingRow {
    pub key: &'static str,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub default: Option<&'static str>,
    pub minimum: Option<u64>,
    pub maximum: Option<u64>,
    pub machine_dependent: bool,
    /// `section.field`, when a typed field sets the option.
    pub policy_field: Option<String>,
    pub class: &'static str,
    pub class_reason: &'static str,
    /// What sensitivity sweeps measured (see `dfpolicy sensitivity`), one line per workload swept:
    /// `moves 12 of 22 plans of tpch-sf100`. Empty when no sweep is at hand.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<String>,
    pub description: &'static str,
}

/// Every option of the embedded DataFusion, sorted by key, then Ballista's `ballista.*` options.
pub fn setting_listing() -> Vec<SettingRow> {
    registry()
        .options()
        .chain(registry().ballista_options())
        .map(|o| {
            let (class, reason) = crate::registry::classify(o);
            SettingRow {
                key: &o.key,
                kind: o.kind.name(),
                default: o.default.as_deref(),
                minimum: o.minimum,
                maximum: o.maximum,
                machine_dependent: o.machine_dependent,
                policy_field: typed_field_for_key(&o.key)
                    .map(|(section, f)| format!("{section}.{}", f.name)),
                class: class.into(),
                class_reason: reason,
                evidence: Vec::new(),
                description: &o.description,
            }
        })
        .collect()
}

/// The listing as text: the key, then its type, default, field, class and description, indented.
pub fn settings_text(rows: &[SettingRow]) -> String {
    let mut t = String::new();
    for row in rows {
        let default = if row.machine_dependent {
            "<CPU count>".to_string()
        } else {
            row.default.unwrap_or("NULL").to_string()
        };
        let mut kind = row.kind.to_string();
        if let Some(min) = row.minimum {
            kind.push_str(&format!(", min {min}"));
        }
        if let Some(max) = row.maximum {
            kind.push_str(&format!(", max {max}"));
        }
        t.push_str(&format!("{}\n  type: {kind}; default: {default}", row.key));
        if let Some(field) = &row.policy_field {
            t.push_str(&format!("; policy field: {field}"));
        }
        t.push_str(&format!("\n  class: {} ({})", row.class, row.class_reason));
        if !row.evidence.is_empty() {
            t.push_str(&format!("\n  measured: {}", row.evidence.join("; ")));
        }
        t.push_str(&format!("\n  {}\n", row.description.replace('\n', " ")));
    }
    t
}

/// One optimizer rule of a default session.
#[derive(Debug, Clone, Serialize)]
pub struct RuleRow {
    pub stage: &'static str,
    pub name: &'static str,
}

/// The rules of a default session in the order a query passes them (names may repeat).
pub fn rule_listing() -> Vec<RuleRow> {
    registry()
        .rules()
        .iter()
        .map(|(stage, name)| RuleRow {
            stage: stage.into(),
            name,
        })
        .collect()
}

/// The rules as text, one per line: stage, name.
pub fn rules_text(rows: &[RuleRow]) -> String {
    rows.iter()
        .map(|row| format!("{:<9} {}\n", row.stage, row.name))
        .collect()
}
