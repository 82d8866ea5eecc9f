//! The schema layer of validation: every place where a file's tree does not fit the generated schema,
//! located in the file.

use std::sync::{Arc, OnceLock};

use jsonschema::error::{TypeKind, ValidationErrorKind};
use serde_json::Value;

use super::schema::policy_schema;
use super::suggest::{closest, unknown_document_key, unknown_name, unknown_name_without_help};
use crate::policy::document::{Node, NodeValue, PathSegment, path_text, pointer_to_path};
use crate::policy::options::{FieldKind, SECTIONS};
use crate::report::{Code, Diagnostic, MAX_FINDINGS_PER_KIND, SourceFile};

/// A kind of TOML document the schema layer checks: its generated schema, compiled once, and the name
/// of the table every such file starts with (`[policy]`, `[workload]`).
pub struct DocumentSchema {
    pub schema: &'static Value,
    pub validator: &'static jsonschema::Validator,
    pub top: &'static str,
}

impl DocumentSchema {
    /// Compiles a generated schema (draft-07) for checking.
    pub fn new(schema: &'static Value, top: &'static str) -> Self {
        let validator =
            jsonschema::draft7::new(schema).expect("a generated schema is valid draft-07");
        DocumentSchema {
            schema,
            validator: Box::leak(Box::new(validator)),
            top,
        }
    }
}

fn policy_document() -> &'static DocumentSchema {
    static POLICY: OnceLock<DocumentSchema> = OnceLock::new();
    POLICY.get_or_init(|| DocumentSchema::new(policy_schema(), "policy"))
}

/// The tree as the JSON instance the schema checks. Values JSON cannot carry faithfully become
/// `null`, which no type of the schema admits, so the schema reports them where they stand: datetimes,
/// non-finite floats, integers beyond 64 bits, and whole-number floats where an integer is expected
/// (JSON Schema counts `4096.0` as an integer, DataFusion does not).
fn instance(node: &Node, schema: Option<&Value>) -> Value {
    match &node.value {
        NodeValue::Table(table) => Value::Object(
            table
                .iter()
                .map(|(key, child)| {
                    let sub = schema
                        .and_then(|s| s.get("properties"))
                        .and_then(|p| p.get(key));
                    (key.clone(), instance(child, sub))
                })
                .collect(),
        ),
        NodeValue::Array(items) => {
            let sub = schema.and_then(|s| s.get("items"));
            Value::Array(items.iter().map(|item| instance(item, sub)).collect())
        }
        NodeValue::Datetime(_) | NodeValue::HugeInteger(_) => Value::Null,
        NodeValue::Float(f) if !f.is_finite() => Value::Null,
        NodeValue::Float(f) if f.fract() == 0.0 && schema.is_some_and(wants_integer_only) => {
            Value::Null
        }
        _ => node.to_json(),
    }
}

fn wants_integer_only(schema: &Value) -> bool {
    let types: Vec<&str> = match schema.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => return false,
    };
    types.contains(&"integer") && !types.contains(&"number")
}

/// Why a value that became `null` in the instance does not fit, where the schema expected `expected`.
fn unrepresentable(node: &Node, file: &SourceFile, at: &str, expected: &str) -> Diagnostic {
    let written = node.written(&file.text);
    match &node.value {
        NodeValue::HugeInteger(_) => Diagnostic::new(
            Code::OutOfRange,
            format!("`{at}` is {written}, which does not fit in a 64-bit integer"),
        ),
        NodeValue::Float(f) if !f.is_finite() => Diagnostic::new(
            Code::WrongType,
            format!("`{at}` must be {expected}, found `{written}`, which is not a finite number"),
        ),
        NodeValue::Float(f) => Diagnostic::new(
            Code::WrongType,
            format!("`{at}` must be {expected}, found the float `{written}`"),
        )
        .with_help(format!("write it without a fraction: {f:.0}")),
        NodeValue::Datetime(_) => Diagnostic::new(
            Code::WrongType,
            format!("`{at}` must be {expected}, found the datetime `{written}`"),
        )
        .with_help("TOML reads an unquoted date or time as a datetime; quote text values"),
        _ => Diagnostic::new(
            Code::WrongType,
            format!(
                "`{at}` must be {expected}, found {}",
                node.value.type_name()
            ),
        ),
    }
}

/// The schema layer of a policy file: every place where the file's tree does not match the schema.
pub fn check(file: &Arc<SourceFile>, tree: &Node) -> Vec<Diagnostic> {
    check_document(policy_document(), file, tree)
}

/// The schema layer for any kind of document: every place where the file's tree does not match the
/// document's schema.
pub fn check_document(
    document: &DocumentSchema,
    file: &Arc<SourceFile>,
    tree: &Node,
) -> Vec<Diagnostic> {
    let top = document.top;
    let instance = instance(tree, Some(document.schema));
    let mut diagnostics = Vec::new();
    let mut unknown_names = 0usize;
    let mut unrepresentable_reported = std::collections::HashSet::new();
    for error in document.validator.iter_errors(&instance) {
        let path = pointer_to_path(error.instance_path.as_str(), tree);
        let node = tree.deepest(&path);
        let at = path_text(&path);
        let diagnostic = match &error.kind {
            // A value JSON cannot carry: one finding, whichever keyword (type, enum) noticed it.
            _ if error.instance.is_null() => {
                if !unrepresentable_reported.insert(node.span.start) {
                    continue;
                }
                let expected = match &error.kind {
                    ValidationErrorKind::Type { kind } => expected_types(kind, &path),
                    ValidationErrorKind::Enum { options } => format!("one of {options}"),
                    _ => "a string, number or boolean".to_string(),
                };
                unrepresentable(node, file, &at, &expected)
            }
            ValidationErrorKind::AdditionalProperties { unexpected } => {
                for name in unexpected {
                    let child = node.get(name);
                    let span = child
                        .and_then(|c| c.key_span.clone())
                        .unwrap_or_else(|| node.span.clone());
                    unknown_names += 1;
                    // Past the cap the report keeps only a count, so skip the costly suggestion.
                    let diagnostic = if top != "policy" {
                        unknown_document_key(document.schema, &path, name, child)
                    } else if unknown_names > MAX_FINDINGS_PER_KIND {
                        unknown_name_without_help(&path, name, child)
                    } else {
                        unknown_name(&path, name, child)
                    };
                    diagnostics.push(diagnostic.at(file, span));
                }
                continue;
            }
            ValidationErrorKind::Required { property } => {
                missing_key(&path, &at, property.as_str().unwrap_or_default(), top)
            }
            ValidationErrorKind::Type { kind } => {
                let expected = expected_types(kind, &path);
                Diagnostic::new(
                    Code::WrongType,
                    format!(
                        "`{at}` must be {expected}, found {}",
                        node.value.type_name()
                    ),
                )
                .with_help_opt(type_help(node, &expected))
            }
            ValidationErrorKind::Minimum { limit }
            | ValidationErrorKind::ExclusiveMinimum { limit } => Diagnostic::new(
                Code::OutOfRange,
                format!("`{at}` is {}, below the minimum of {limit}", error.instance),
            ),
            ValidationErrorKind::Maximum { limit }
            | ValidationErrorKind::ExclusiveMaximum { limit } => Diagnostic::new(
                Code::OutOfRange,
                format!("`{at}` is {}, above the maximum of {limit}", error.instance),
            ),
            ValidationErrorKind::Enum { options } => invalid_enum(&error.instance, options, &at),
            ValidationErrorKind::Pattern { pattern } => {
                let given = error.instance.as_str().unwrap_or_default();
                pattern_mismatch(given, pattern, &path, &at, top)
            }
            ValidationErrorKind::MinLength { .. } | ValidationErrorKind::MinItems { .. } => {
                Diagnostic::new(Code::InvalidValue, format!("`{at}` must not be empty"))
            }
            _ => Diagnostic::new(Code::InvalidValue, format!("`{at}`: {error}")),
        };
        diagnostics.push(diagnostic.at(file, node.span.clone()));
    }
    diagnostics
}

/// A required table or key that is missing; for the top table, how a file starts.
fn missing_key(path: &[PathSegment], at: &str, name: &str, top: &str) -> Diagnostic {
    let table = if path.is_empty() {
        "the file".to_string()
    } else {
        format!("[{at}]")
    };
    let message = if path.is_empty() {
        format!("missing required table `[{name}]`")
    } else {
        format!("missing required key `{name}` in {table}")
    };
    let help = if path.is_empty() && name == top {
        format!("start the file with:\n[{top}]\nname = \"my-{top}\"")
    } else {
        format!("add `{name} = ...` to {table}")
    };
    Diagnostic::new(Code::MissingKey, message).with_help(help)
}

/// A value that is not one of the choices, with the closest choice.
fn invalid_enum(instance: &Value, options: &Value, at: &str) -> Diagnostic {
    let choices: Vec<String> = options
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    let given = instance
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| instance.to_string());
    let suggestion = closest(&given, choices.iter().map(String::as_str));
    Diagnostic::new(
        Code::InvalidEnum,
        format!("`{given}` is not a valid value for `{at}`"),
    )
    .with_help(match suggestion {
        Some(s) => format!(
            "did you mean `{s}`? expected one of: {}",
            choices.join(", ")
        ),
        None => format!("expected one of: {}", choices.join(", ")),
    })
}

/// A string that does not match its pattern: a byte size, a name, or another pattern.
fn pattern_mismatch(
    given: &str,
    pattern: &str,
    path: &[PathSegment],
    at: &str,
    top: &str,
) -> Diagnostic {
    if is_byte_size(path) {
        Diagnostic::new(Code::InvalidValue, format!("`{given}` is not a byte size")).with_help(
            "write an integer number of bytes or a number with a unit: \"512KiB\", \"64MiB\", \"4GiB\"",
        )
    } else if at == format!("{top}.name") {
        Diagnostic::new(
            Code::InvalidValue,
            format!("`{given}` is not a valid {top} name"),
        )
        .with_help(format!(
            "use lowercase letters, digits and `-`, starting with a letter or digit, e.g. `{}`",
            suggest_name(given, top)
        ))
    } else {
        Diagnostic::new(
            Code::InvalidValue,
            format!("`{given}` does not match `{pattern}`"),
        )
    }
}

fn expected_types(kind: &TypeKind, path: &[PathSegment]) -> String {
    if is_byte_size(path) {
        return "a byte size (an integer or a string such as \"64MiB\")".to_string();
    }
    match kind {
        TypeKind::Single(t) => article(&t.to_string()),
        TypeKind::Multiple(set) => set
            .iter()
            .map(|t| article(&t.to_string()))
            .collect::<Vec<_>>()
            .join(" or "),
    }
}

fn article(type_name: &str) -> String {
    match type_name {
        "integer" => "an integer".into(),
        "object" => "a table".into(),
        "array" => "an array".into(),
        other => format!("a {other}"),
    }
}

fn is_byte_size(path: &[PathSegment]) -> bool {
    let [PathSegment::Key(section), PathSegment::Key(field)] = path else {
        return false;
    };
    SECTIONS.iter().any(|(s, fields)| {
        s == section
            && fields
                .iter()
                .any(|f| f.name == field && f.kind == FieldKind::Bytes)
    })
}

fn type_help(node: &Node, expected: &str) -> Option<String> {
    let text = node.as_str()?;
    if expected.contains("boolean") && (text == "true" || text == "false") {
        return Some(format!("remove the quotes: {text}"));
    }
    if expected.contains("integer") && text.parse::<i64>().is_ok() {
        return Some(format!("remove the quotes: {text}"));
    }
    None
}

fn suggest_name(given: &str, top: &str) -> String {
    let mut name: String = given
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    name = name.trim_matches('-').to_string();
    if name.is_empty() {
        format!("my-{top}")
    } else {
        name
    }
}
