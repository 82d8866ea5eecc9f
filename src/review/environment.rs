//! What the plans were made under: each policy's compiled settings that differ from DataFusion's
//! defaults, with the environment hashes, and — when a sensitivity sweep is kept beside the
//! baseline — which keys move which queries.

use std::fmt::Write as _;

use super::markup::{Html, escape};
use crate::harness::HarnessRun;
use crate::registry::{classify, registry};
use crate::sensitivity::Sensitivity;

/// One `<details>` per policy: its file, hashes and non-default settings.
pub fn policies(html: &mut Html, run: &HarnessRun) {
    for (name, policy) in &run.policies {
        let compiled = match &policy.compiled {
            Ok(compiled) => compiled,
            Err(unavailable) => {
                let _ = write!(
                    html,
                    "<details class=\"policy\"><summary><b>{}</b> ({}): does not load</summary>\
                     <p class=\"error\">{}</p></details>",
                    escape(name),
                    escape(&policy.file),
                    escape(&unavailable.to_string())
                );
                continue;
            }
        };
        let changed: Vec<(&String, &Option<String>, String, String)> = compiled
            .settings
            .iter()
            .filter_map(|(key, value)| {
                let option = registry().option(key)?;
                let default = if option.machine_dependent {
                    "follows the machine".to_string()
                } else if value.as_deref() == option.canonical_default.as_deref() {
                    return None;
                } else {
                    option.default.clone().unwrap_or_else(|| "NULL".to_string())
                };
                Some((key, value, default, classify(option).0.to_string()))
            })
            .collect();
        let _ = write!(
            html,
            "<details class=\"policy\"><summary><b>{}</b> ({}): {} setting(s) differ from \
             DataFusion {}'s defaults</summary><dl class=\"hashes\">",
            escape(name),
            escape(&policy.file),
            changed.len(),
            escape(&compiled.engine.datafusion)
        );
        for (label, hash) in [
            ("policy hash", &compiled.hashes.policy_hash),
            ("settings hash", &compiled.hashes.settings_hash),
            (
                "plan environment hash",
                &compiled.hashes.plan_environment_hash,
            ),
        ] {
            let _ = write!(
                html,
                "<dt>{label}</dt><dd><code>{}</code></dd>",
                escape(hash)
            );
        }
        let _ = write!(
            html,
            "<dt>portable</dt><dd>{}</dd></dl>",
            if compiled.portable {
                "yes: every machine-dependent option is pinned"
            } else {
                "no"
            }
        );
        html.raw(
            "<table class=\"settings\"><thead><tr><th>key</th><th>value</th><th>DataFusion's default</th>\
             <th>class</th></tr></thead><tbody>",
        );
        for (key, value, default, class) in changed {
            let _ = write!(
                html,
                "<tr><td><code>{}</code></td><td><code>{}</code></td><td><code>{}</code></td><td>{}</td></tr>",
                escape(key),
                escape(value.as_deref().unwrap_or("NULL")),
                escape(&default),
                escape(&class)
            );
        }
        html.raw("</tbody></table></details>");
    }
}

/// The keys the sweep found to move plans, each value with the queries it moves and the flip
/// points; then how many keys move nothing.
pub fn sensitivity(html: &mut Html, sweep: &Sensitivity) {
    let moving: Vec<_> = sweep
        .keys
        .iter()
        .filter(|k| !k.moved().is_empty())
        .collect();
    let _ = write!(
        html,
        "<p>Sweep of policy <b>{}</b> over <b>{}</b>: {} query cells, {} candidates planned; {} of \
         {} keys move a plan.</p>",
        escape(&sweep.policy),
        escape(&sweep.workload),
        sweep.cells,
        sweep.candidates,
        moving.len(),
        sweep.keys.len()
    );
    if moving.is_empty() {
        return;
    }
    html.raw(
        "<table class=\"sensitivity\"><thead><tr><th>key</th><th>class</th><th>current</th>\
         <th>values that move plans</th><th>flip points</th></tr></thead><tbody>",
    );
    for key in moving {
        let _ = write!(
            html,
            "<tr><td><code>{}</code></td><td>{}</td><td><code>{}</code></td><td><ul>",
            escape(&key.key),
            key.class,
            escape(key.current.as_deref().unwrap_or("NULL"))
        );
        for value in key.values.iter().filter(|v| !v.changed.is_empty()) {
            let _ = write!(
                html,
                "<li><code>{}</code>: {} quer{}: {}</li>",
                escape(&value.value),
                value.changed.len(),
                if value.changed.len() == 1 { "y" } else { "ies" },
                escape(&value.changed.join(", "))
            );
        }
        html.raw("</ul></td><td><ul>");
        for flip in &key.flip_points {
            let _ = write!(
                html,
                "<li>{} at <code>{}</code></li>",
                escape(&flip.query),
                escape(&flip.at)
            );
        }
        html.raw("</ul></td></tr>");
    }
    html.raw("</tbody></table>");
}
