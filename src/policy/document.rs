//! A policy file as text and as a tree of values that remember where they were written.

use std::collections::BTreeMap;

use serde_json::{Map, Value};
use toml::de::{DeTable, DeValue};

use crate::report::Span;

/// Largest policy file read; a policy is a page of settings, not a data file.
pub const MAX_POLICY_BYTES: usize = 1 << 20;

/// Reads a TOML file of the kind `what` (`"policy"`, `"workload"`) within `limit` bytes and parses it
/// into a tree. Every failure is a finding pointing at the file (`toml-syntax` where TOML stopped).
pub fn read_toml(
    path: &std::path::Path,
    what: &str,
    limit: usize,
    origin: FileId,
) -> Result<(std::sync::Arc<crate::report::SourceFile>, Node), Box<crate::report::Diagnostic>> {
    use crate::report::{Code, Diagnostic, read_source};
    let file = read_source(path, what, limit)?;
    match Node::parse(&file.text, origin) {
        Ok(tree) => Ok((file, tree)),
        Err((message, span)) => {
            let first = message
                .lines()
                .next()
                .unwrap_or(&message)
                .trim()
                .to_string();
            Err(Box::new(
                Diagnostic::new(Code::TomlSyntax, first).at(&file, span.unwrap_or(0..0)),
            ))
        }
    }
}

/// Which loaded file a node came from.
pub type FileId = usize;

/// A TOML value with the place it was written.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// The value.
    pub value: NodeValue,
    /// Span of the value (for a table: its header or inline braces).
    pub span: Span,
    /// Span of the key that names this value, when it has one.
    pub key_span: Option<Span>,
    /// The file of the `extends` chain the value was written in.
    pub origin: FileId,
}

/// A TOML value, its children with their places.
#[derive(Debug, Clone, PartialEq)]
pub enum NodeValue {
    /// A table, by key.
    Table(BTreeMap<String, Node>),
    /// An array.
    Array(Vec<Node>),
    /// A string.
    String(String),
    /// An integer that fits in 64 bits.
    Integer(i64),
    /// A float.
    Float(f64),
    /// A boolean.
    Boolean(bool),
    /// A datetime, as written.
    Datetime(String),
    /// An integer TOML accepts but that does not fit in 64 bits, as written.
    HugeInteger(String),
}

/// One step of a path into a document.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PathSegment {
    /// A table's key.
    Key(String),
    /// An array's index.
    Index(usize),
}

impl NodeValue {
    /// The TOML name of the value's type, as users read it in a message.
    pub fn type_name(&self) -> &'static str {
        match self {
            NodeValue::Table(_) => "a table",
            NodeValue::Array(_) => "an array",
            NodeValue::String(_) => "a string",
            NodeValue::Integer(_) => "an integer",
            NodeValue::Float(_) => "a float",
            NodeValue::Boolean(_) => "a boolean",
            NodeValue::Datetime(_) => "a datetime",
            NodeValue::HugeInteger(_) => "an integer",
        }
    }
}

impl Node {
    /// Parses TOML text into a tree; the error carries TOML's message and span.
    pub fn parse(text: &str, origin: FileId) -> Result<Node, (String, Option<Span>)> {
        let table = DeTable::parse(text).map_err(|e| (e.message().to_string(), e.span()))?;
        let span = table.span();
        Ok(Node {
            value: NodeValue::Table(convert_table(table.into_inner(), origin)),
            span: span.start..span.start,
            key_span: None,
            origin,
        })
    }

    /// The table, when the value is one.
    pub fn as_table(&self) -> Option<&BTreeMap<String, Node>> {
        match &self.value {
            NodeValue::Table(t) => Some(t),
            _ => None,
        }
    }

    /// The string, when the value is one.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            NodeValue::String(s) => Some(s),
            _ => None,
        }
    }

    /// The value at `key`, when the value is a table that has it.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_table().and_then(|t| t.get(key))
    }

    /// The node at `path`, if every step exists.
    pub fn at(&self, path: &[PathSegment]) -> Option<&Node> {
        let mut node = self;
        for segment in path {
            node = match (segment, &node.value) {
                (PathSegment::Key(k), NodeValue::Table(t)) => t.get(k)?,
                (PathSegment::Index(i), NodeValue::Array(a)) => a.get(*i)?,
                _ => return None,
            };
        }
        Some(node)
    }

    /// The deepest existing node along `path` (where a diagnostic about a missing child points).
    pub fn deepest(&self, path: &[PathSegment]) -> &Node {
        let mut node = self;
        for segment in path {
            let next = match (segment, &node.value) {
                (PathSegment::Key(k), NodeValue::Table(t)) => t.get(k),
                (PathSegment::Index(i), NodeValue::Array(a)) => a.get(*i),
                _ => None,
            };
            match next {
                Some(n) => node = n,
                None => break,
            }
        }
        node
    }

    /// The value as JSON, for deserializing a validated tree. Datetimes and integers beyond 64 bits
    /// become strings, non-finite floats too (JSON has no spelling for them); validation rejects all
    /// three wherever they appear, so a validated tree has none.
    pub fn to_json(&self) -> Value {
        match &self.value {
            NodeValue::Table(t) => Value::Object(
                t.iter()
                    .map(|(k, v)| (k.clone(), v.to_json()))
                    .collect::<Map<_, _>>(),
            ),
            NodeValue::Array(a) => Value::Array(a.iter().map(Node::to_json).collect()),
            NodeValue::String(s) | NodeValue::Datetime(s) | NodeValue::HugeInteger(s) => {
                Value::String(s.clone())
            }
            NodeValue::Integer(i) => Value::from(*i),
            NodeValue::Float(f) => serde_json::Number::from_f64(*f)
                .map(Value::Number)
                .unwrap_or_else(|| Value::String(f.to_string())),
            NodeValue::Boolean(b) => Value::Bool(*b),
        }
    }

    /// A scalar as the string DataFusion's `set` takes; `None` for tables, arrays, datetimes, integers
    /// beyond 64 bits and non-finite floats.
    pub fn scalar_text(&self) -> Option<String> {
        use super::options::FieldValue;
        match &self.value {
            NodeValue::String(s) => Some(s.engine_text()),
            NodeValue::Integer(i) => Some(i.engine_text()),
            NodeValue::Float(f) if f.is_finite() => Some(f.engine_text()),
            NodeValue::Boolean(b) => Some(b.engine_text()),
            _ => None,
        }
    }

    /// The value as written, for messages: `1979-05-27`, `nan`, `4096.0`, `"text"`.
    pub fn written(&self, text: &str) -> String {
        let shown = text.get(self.span.clone()).unwrap_or_default();
        if shown.is_empty() || shown.len() > 60 {
            return self.value.type_name().to_string();
        }
        shown.to_string()
    }
}

fn convert_table(table: DeTable<'_>, origin: FileId) -> BTreeMap<String, Node> {
    let mut out = BTreeMap::new();
    for (key, value) in table {
        let key_span = key.span();
        let name = key.into_inner().into_owned();
        let mut node = convert_value(value.span(), value.into_inner(), origin);
        node.key_span = Some(key_span);
        out.insert(name, node);
    }
    out
}

fn convert_value(span: Span, value: DeValue<'_>, origin: FileId) -> Node {
    let value = match value {
        DeValue::String(s) => NodeValue::String(s.into_owned()),
        DeValue::Integer(i) => match i64::from_str_radix(i.as_str(), i.radix()) {
            Ok(n) => NodeValue::Integer(n),
            // Out of i64 range: keep the digits so that validation can say so.
            Err(_) => NodeValue::HugeInteger(i.to_string()),
        },
        DeValue::Float(f) => NodeValue::Float(f.as_str().parse().unwrap_or(f64::NAN)),
        DeValue::Boolean(b) => NodeValue::Boolean(b),
        DeValue::Datetime(d) => NodeValue::Datetime(d.to_string()),
        DeValue::Array(items) => NodeValue::Array(
            items
                .into_iter()
                .map(|item| {
                    let span = item.span();
                    convert_value(span, item.into_inner(), origin)
                })
                .collect(),
        ),
        DeValue::Table(t) => NodeValue::Table(convert_table(t, origin)),
    };
    Node {
        value,
        span,
        key_span: None,
        origin,
    }
}

/// Parses a JSON pointer (`/a/0/b`) into path segments, unescaping `~1` and `~0`.
pub fn pointer_to_path(pointer: &str, root: &Node) -> Vec<PathSegment> {
    let mut path = Vec::new();
    let mut node = Some(root);
    for raw in pointer.split('/').skip(1) {
        let key = raw.replace("~1", "/").replace("~0", "~");
        let segment = match (node.map(|n| &n.value), key.parse::<usize>()) {
            (Some(NodeValue::Array(_)), Ok(i)) => PathSegment::Index(i),
            _ => PathSegment::Key(key),
        };
        node = node.and_then(|n| n.at(std::slice::from_ref(&segment)));
        path.push(segment);
    }
    path
}

/// `execution.batch_size`, `optimizer.disabled_rules[2]`, `settings."datafusion.x"` — a path as users write it.
pub fn path_text(path: &[PathSegment]) -> String {
    let mut out = String::new();
    for segment in path {
        match segment {
            PathSegment::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                if k.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
                    && !k.is_empty()
                {
                    out.push_str(k);
                } else {
                    out.push_str(&format!("{k:?}"));
                }
            }
            PathSegment::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nodes_keep_spans() {
        let text = "[execution]\nbatch_size = 0\n";
        let root = Node::parse(text, 0).unwrap();
        let node = root
            .at(&[
                PathSegment::Key("execution".into()),
                PathSegment::Key("batch_size".into()),
            ])
            .unwrap();
        assert_eq!(&text[node.span.clone()], "0");
        assert_eq!(&text[node.key_span.clone().unwrap()], "batch_size");
    }
}
