//! The checked-in schemas (policy, workload, plan bundle) are exactly what the Rust types generate,
//! and the settings reference page exactly what the registry generates.

use dfpolicy::bundle;
use dfpolicy::validate::schema::{SCHEMA_PATH, schema_text};
use dfpolicy::workload::file as workload;

use crate::repo;

fn assert_current(path: &str, kind: &str, generated: String) {
    let current = std::fs::read_to_string(repo().join(path)).unwrap_or_default();
    if current != generated {
        let diff = similar::TextDiff::from_lines(&current, &generated)
            .unified_diff()
            .context_radius(2)
            .header(path, "generated")
            .to_string();
        panic!(
            "{path} is stale. Regenerate it with:\n\n    cargo run --release -- schema {kind} > {path}\n\n{diff}"
        );
    }
}

#[test]
fn checked_in_schemas_are_current() {
    assert_current(SCHEMA_PATH, "policy", schema_text());
    assert_current(workload::SCHEMA_PATH, "workload", workload::schema_text());
    assert_current(bundle::SCHEMA_PATH, "bundle", bundle::schema_text());
    assert_current(
        dfpolicy::compile::SETTINGS_REFERENCE_PATH,
        "settings",
        dfpolicy::compile::settings_markdown(&dfpolicy::compile::setting_listing()),
    );
}

#[test]
fn workload_schema_describes_tables_from_doc_comments() {
    let schema = workload::workload_schema();
    assert_eq!(schema["$schema"], "http://json-schema.org/draft-07/schema#");
    let table = &schema["properties"]["tables"]["items"];
    assert_eq!(table["additionalProperties"], false);
    // The built-in formats, then the other `STORED AS` formats of this dfpolicy's sessions.
    assert_eq!(
        table["properties"]["format"]["enum"],
        serde_json::json!(["parquet", "csv", "delta", "arrow", "json"])
    );
    assert!(
        table["properties"]["version"]["description"]
            .as_str()
            .unwrap()
            .contains("Delta only")
    );
    assert_eq!(
        schema["required"],
        serde_json::json!(["workload", "queries"])
    );
}

#[test]
fn schema_is_draft_07_with_descriptions_from_doc_comments() {
    let schema: serde_json::Value = serde_json::from_str(&schema_text()).unwrap();
    assert_eq!(schema["$schema"], "http://json-schema.org/draft-07/schema#");
    let batch_size = &schema["properties"]["execution"]["properties"]["batch_size"];
    assert!(
        batch_size["description"]
            .as_str()
            .unwrap()
            .contains("Rows per record batch")
    );
    let setting =
        &schema["properties"]["settings"]["properties"]["datafusion.execution.batch_size"];
    assert_eq!(setting["type"], "integer");
    assert_eq!(setting["minimum"], 1);
}

/// Every typed field that sets an engine option names it and its default as the registry has them,
/// and no field's description carries a hand-written `(key, default …)` that could drift from it.
#[test]
fn typed_fields_take_their_key_and_default_from_the_registry() {
    use dfpolicy::policy::options::SECTIONS;
    use dfpolicy::registry::registry;
    let schema: serde_json::Value = serde_json::from_str(&schema_text()).unwrap();
    let mut described = 0;
    for (section, fields) in SECTIONS {
        for field in *fields {
            let Some(key) = field.key else { continue };
            let option = registry().option(key).unwrap();
            let description =
                schema["properties"][*section]["properties"][field.name]["description"]
                    .as_str()
                    .unwrap();
            let default = match (option.machine_dependent, option.default.as_deref()) {
                (true, _) => "the machine's CPU count".to_string(),
                (false, None | Some("")) => "unset".to_string(),
                (false, Some(value)) => format!("`{value}`"),
            };
            assert!(
                description.ends_with(&format!("Sets `{key}`; its default: {default}.")),
                "{section}.{}: {description}",
                field.name
            );
            assert!(
                !description.contains(&format!("`{key}`, default")),
                "{section}.{} writes its default by hand: {description}",
                field.name
            );
            described += 1;
        }
    }
    assert!(
        described >= 50,
        "only {described} typed fields set an engine option"
    );
}
