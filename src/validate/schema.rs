//! The JSON schema of policy files: generated from the policy model ([`PolicyOptions`], doc comments
//! become descriptions), with `[settings]` listing every option of the embedded DataFusion from the
//! registry. Editors use the checked-in copy; validation runs the same schema.

use std::sync::OnceLock;

use schemars::generate::SchemaSettings;
use schemars::transform::RecursiveTransform;
use serde_json::Value;

use crate::policy::document::PathSegment;
use crate::policy::options::{PolicyOptions, SECTIONS};
use crate::registry::{ValueKind, registry};

/// Where the checked-in schema lives, relative to the repository root.
pub const SCHEMA_PATH: &str = "schema/policy.schema.json";

/// The policy schema (JSON Schema draft-07), generated from the Rust types.
pub fn policy_schema() -> &'static Value {
    static SCHEMA: OnceLock<Value> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let mut schema = generate_schema::<PolicyOptions>();
        schema["properties"]["settings"] = settings_schema();
        describe_engine_keys(&mut schema);
        schema
    })
}

/// Each typed field that sets an engine option says which, and that option's default, read from the
/// registry: no key or default is written by hand in the fields' doc comments, so none can drift
/// from the engine.
fn describe_engine_keys(schema: &mut Value) {
    for (section, fields) in SECTIONS {
        for field in *fields {
            let Some(key) = field.key else { continue };
            let Some(option) = registry().option(key) else {
                continue;
            };
            let default = if option.machine_dependent {
                "the machine's CPU count".to_string()
            } else {
                match option.default.as_deref() {
                    None | Some("") => "unset".to_string(),
                    Some(value) => format!("`{value}`"),
                }
            };
            let description =
                &mut schema["properties"][*section]["properties"][field.name]["description"];
            let text = description
                .as_str()
                .unwrap_or_default()
                .trim_end()
                .to_string();
            *description =
                Value::String(format!("{text}\n\nSets `{key}`; its default: {default}."));
        }
    }
}

/// The draft-07 schema of a document type, as every dfpolicy document schema is made: subschemas
/// inlined (one self-contained file for editors), doc comments as descriptions, no `null` (TOML has
/// none).
pub fn generate_schema<T: schemars::JsonSchema>() -> Value {
    let generator = SchemaSettings::draft07()
        .with(|settings| settings.inline_subschemas = true)
        .with_transform(RecursiveTransform(drop_null))
        .into_generator();
    let schema = generator.into_root_schema_for::<T>();
    serde_json::to_value(schema).expect("a generated schema is JSON")
}

/// The draft-07 schema of a JSON document dfpolicy writes (plan bundles): made like
/// [`generate_schema`], but `null` stays, since JSON has it.
pub fn generate_json_schema<T: schemars::JsonSchema>() -> Value {
    let generator = SchemaSettings::draft07()
        .with(|settings| settings.inline_subschemas = true)
        .into_generator();
    let schema = generator.into_root_schema_for::<T>();
    serde_json::to_value(schema).expect("a generated schema is JSON")
}

/// The policy schema as the text checked in at [`SCHEMA_PATH`].
pub fn schema_text() -> String {
    document_text(policy_schema())
}

/// A schema as checked-in text: pretty JSON with a final newline.
pub fn document_text(schema: &Value) -> String {
    let mut text = serde_json::to_string_pretty(schema).expect("a schema serializes");
    text.push('\n');
    text
}

/// TOML has no null, so `Option` fields are "absent or a value", never null.
fn drop_null(schema: &mut schemars::Schema) {
    let Some(object) = schema.as_object_mut() else {
        return;
    };
    if let Some(Value::Array(types)) = object.get_mut("type") {
        types.retain(|t| t != "null");
        if types.len() == 1 {
            let only = types[0].clone();
            object.insert("type".into(), only);
        }
    }
    if let Some(Value::Array(values)) = object.get_mut("enum") {
        values.retain(|v| !v.is_null());
    }
    for keyword in ["anyOf", "oneOf"] {
        let Some(Value::Array(options)) = object.get_mut(keyword) else {
            continue;
        };
        options.retain(|o| o.get("type") != Some(&Value::String("null".into())));
        if options.len() == 1 {
            let only = options.remove(0);
            object.remove(keyword);
            if let Value::Object(inner) = only {
                for (key, value) in inner {
                    object.entry(key).or_insert(value);
                }
            }
        }
    }
}

/// `[settings]`: one property per DataFusion option, with its description, default and type, so editors
/// complete keys and the schema layer rejects unknown ones.
fn settings_schema() -> Value {
    let mut properties = serde_json::Map::new();
    for option in registry().options().chain(registry().ballista_options()) {
        let types: Value = match option.kind {
            ValueKind::Boolean => "boolean".into(),
            ValueKind::UnsignedInteger | ValueKind::SignedInteger => "integer".into(),
            ValueKind::Float => serde_json::json!(["number", "integer"]),
            ValueKind::Text | ValueKind::Choice | ValueKind::Duration => "string".into(),
            ValueKind::Capacity => serde_json::json!(["string", "integer"]),
        };
        let default = option.default.as_deref().unwrap_or("NULL");
        let mut property = serde_json::Map::new();
        property.insert(
            "description".into(),
            format!("{} (default: {default})", option.description).into(),
        );
        property.insert("type".into(), types);
        if matches!(option.kind, ValueKind::UnsignedInteger) {
            property.insert("minimum".into(), option.minimum.unwrap_or(0).into());
        }
        if let Some(maximum) = option.maximum {
            property.insert("maximum".into(), maximum.into());
        }
        properties.insert(option.key.clone(), property.into());
    }
    serde_json::json!({
        "description": "Any DataFusion 55 option by its full key (`\"datafusion.execution.parquet.coerce_int96\" = \"ms\"`), for options without a typed field, and any Ballista 55 option (`\"ballista.shuffle.max_concurrent_read_requests\" = 32`), which makes the policy a Ballista policy. A key may not contradict a typed field that sets the same option.",
        "type": "object",
        "properties": properties,
        "additionalProperties": false
    })
}

/// The property names the policy schema allows at `path` (sections at the root, fields in a section).
pub fn allowed_keys(path: &[PathSegment]) -> Vec<String> {
    keys_at(policy_schema(), path)
}

/// The property names `schema` allows at `path`, following tables by key and arrays into their items.
pub fn keys_at(mut schema: &Value, path: &[PathSegment]) -> Vec<String> {
    for segment in path {
        let next = match segment {
            PathSegment::Key(key) => schema.get("properties").and_then(|p| p.get(key)),
            PathSegment::Index(_) => schema.get("items"),
        };
        match next {
            Some(s) => schema = s,
            None => return Vec::new(),
        }
    }
    schema
        .get("properties")
        .and_then(Value::as_object)
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use crate::policy::options::SECTIONS;
    use crate::registry::registry;

    #[test]
    fn every_typed_key_is_a_datafusion_option() {
        for (section, fields) in SECTIONS {
            for field in *fields {
                if let Some(key) = field.key {
                    assert!(
                        registry().option(key).is_some(),
                        "[{section}].{} maps to unknown {key}",
                        field.name
                    );
                }
            }
        }
    }
}
