//! The checked-in schema is exactly what the Rust types generate.

use dfpolicy::validate::schema::{SCHEMA_PATH, schema_text};

use crate::repo;

#[test]
fn checked_in_schema_is_current() {
    let path = repo().join(SCHEMA_PATH);
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    let generated = schema_text();
    if current != generated {
        let diff = similar::TextDiff::from_lines(&current, &generated)
            .unified_diff()
            .context_radius(2)
            .header(SCHEMA_PATH, "generated")
            .to_string();
        panic!(
            "{SCHEMA_PATH} is stale. Regenerate it with:\n\n    cargo run --release -- schema > {SCHEMA_PATH}\n\n{diff}"
        );
    }
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
