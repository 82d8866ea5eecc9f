//! Applying settings to DataFusion's `ConfigOptions` and reading back DataFusion's rendering of them.

use std::collections::BTreeMap;

use datafusion::config::{ConfigField, ConfigOptions, Visit};
use datafusion::error::DataFusionError;

use super::exceptions::{DYNAMIC_FILTER_UMBRELLA, MACHINE_DEPENDENT_KEYS};

/// DataFusion's rendering of one option's value, as `entries()` would show it, without rendering the
/// other options.
/// A key of an engine's configuration namespace (`acme.x`) is read back through the namespace's own
/// `entries()`, its getter.
pub fn render(options: &ConfigOptions, key: &str) -> Option<String> {
    if key.starts_with("datafusion.") {
        return render_within(options, "datafusion", key);
    }
    let (prefix, inner) = key.split_once('.')?;
    let (_, extension) = options.extensions.iter().find(|(p, _)| *p == prefix)?;
    extension
        .entries()
        .into_iter()
        .find(|entry| entry.key == inner)
        .and_then(|entry| entry.value)
}

/// Every option of `options` as `(key, value)`: DataFusion's under `datafusion.`, then each engine
/// namespace's under its prefix (DataFusion's own `entries()` lists those without it).
pub fn entries(options: &ConfigOptions) -> Vec<(String, Option<String>)> {
    struct All(Vec<(String, Option<String>)>);
    impl Visit for All {
        fn some<V: std::fmt::Display>(&mut self, key: &str, value: V, _: &'static str) {
            self.0.push((key.to_string(), Some(value.to_string())));
        }
        fn none(&mut self, key: &str, _: &'static str) {
            self.0.push((key.to_string(), None));
        }
    }
    let mut all = All(Vec::new());
    options.visit(&mut all, "datafusion", "");
    for (prefix, extension) in options.extensions.iter() {
        all.0.extend(
            extension
                .entries()
                .into_iter()
                .map(|entry| (format!("{prefix}.{}", entry.key), entry.value)),
        );
    }
    all.0
}

/// [`render`] for one namespace of options (`ParquetOptions` under `datafusion.execution.parquet`).
pub fn render_within(options: &impl ConfigField, prefix: &str, key: &str) -> Option<String> {
    struct One<'a> {
        key: &'a str,
        value: Option<String>,
    }
    impl Visit for One<'_> {
        fn some<V: std::fmt::Display>(&mut self, key: &str, value: V, _: &'static str) {
            if key == self.key {
                self.value = Some(value.to_string());
            }
        }
        fn none(&mut self, _: &str, _: &'static str) {}
    }
    let mut visitor = One { key, value: None };
    options.visit(&mut visitor, prefix, "");
    visitor.value
}

/// A setting DataFusion refused: its key and DataFusion's error.
#[derive(Debug, thiserror::Error)]
#[error("DataFusion does not accept `{key}`")]
pub struct SettingRejected {
    /// The key.
    pub key: String,
    #[source]
    /// DataFusion's error.
    pub error: DataFusionError,
}

/// Applies settings to `options` in the order DataFusion needs — the dynamic-filter umbrella first,
/// since setting it overwrites its three sub-flags — with `None` resetting an option to its default.
/// Returns DataFusion's rendering of each value set; an error names the key.
pub fn apply_settings<'a>(
    options: &mut ConfigOptions,
    settings: impl IntoIterator<Item = (&'a str, Option<&'a str>)>,
) -> Result<BTreeMap<String, String>, SettingRejected> {
    let mut settings: Vec<(&str, Option<&str>)> = settings.into_iter().collect();
    settings.sort_by_key(|(key, _)| *key != DYNAMIC_FILTER_UMBRELLA);
    let mut rendered = BTreeMap::new();
    for (key, value) in settings {
        let result = match value {
            Some(value) => options.set(key, value),
            // An engine namespace cannot reset one key; every caller applies to fresh options, where
            // an unset engine key already has its default.
            None if !key.starts_with("datafusion.") => Ok(()),
            None => ConfigField::reset(options, key),
        };
        result.map_err(|error| SettingRejected {
            key: key.to_string(),
            error,
        })?;
        if let Some(value) = value
            && let Some(shown) = render(options, key)
        {
            rendered.insert(key.to_string(), machine_independent(key, value, shown));
        }
    }
    Ok(rendered)
}

/// DataFusion's error text without backtraces, its `caused by` chain joined with `: `.
pub fn engine_message(error: &DataFusionError) -> String {
    let text = error.to_string();
    let text = text.split("\n\nbacktrace").next().unwrap_or(&text);
    text.split("\ncaused by\n")
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(": ")
}

/// DataFusion renders a machine-dependent option set to `0` as this machine's CPU count. Compiled
/// settings and hashes keep the `0` (DataFusion's own spelling of "one per CPU"), so that they are the
/// same on every machine; a session resolves it when it is built.
pub(super) fn machine_independent(key: &str, given: &str, rendered: String) -> String {
    if MACHINE_DEPENDENT_KEYS.contains(&key) && given.trim().parse::<u64>() == Ok(0) {
        "0".to_string()
    } else {
        rendered
    }
}
