//! A policy file as text and as a tree of values that remember where they were written.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};
use toml::de::{DeTable, DeValue};

/// Byte range in a source file.
pub type Span = Range<usize>;

/// Largest policy file read; a policy is a page of settings, not a data file.
pub const MAX_POLICY_BYTES: usize = 1 << 20;

/// A policy file's text with what is needed to turn byte offsets into `line:column`.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The path shown to users: relative to the working directory when possible, `/`-separated.
    pub display_path: String,
    /// The canonical absolute path (used for `extends` and cycle detection).
    pub path: PathBuf,
    pub text: String,
    line_starts: Vec<usize>,
    /// Characters before every [`CHECKPOINT_BYTES`]-th byte, so that a column is found in constant
    /// time even on a line of a megabyte.
    char_checkpoints: Vec<usize>,
}

const CHECKPOINT_BYTES: usize = 256;

impl SourceFile {
    pub fn new(display_path: String, path: PathBuf, text: String) -> Self {
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        let mut char_checkpoints = Vec::with_capacity(text.len() / CHECKPOINT_BYTES + 1);
        let mut chars = 0;
        for block in text.as_bytes().chunks(CHECKPOINT_BYTES) {
            char_checkpoints.push(chars);
            chars += count_chars(block);
        }
        char_checkpoints.push(chars);
        SourceFile {
            display_path,
            path,
            text,
            line_starts,
            char_checkpoints,
        }
    }

    /// Characters before a byte offset (counting the character it falls inside, if any).
    fn chars_before(&self, offset: usize) -> usize {
        let block = offset / CHECKPOINT_BYTES;
        let start = block * CHECKPOINT_BYTES;
        self.char_checkpoints[block] + count_chars(&self.text.as_bytes()[start..offset])
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_column(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = self.line_of(offset);
        let start = self.line_starts[line];
        let column = self.chars_before(offset) - self.chars_before(start);
        (line + 1, column + 1)
    }

    /// The byte offset of a 1-based line and column (in characters), clamped to the text; the
    /// inverse of [`SourceFile::line_column`], for positions other parsers report.
    pub fn offset_of(&self, line: usize, column: usize) -> usize {
        let Some(&start) = self.line_starts.get(line.saturating_sub(1)) else {
            return self.text.len();
        };
        self.text[start..]
            .char_indices()
            .take_while(|(_, c)| *c != '\n')
            .nth(column.saturating_sub(1))
            .map_or_else(
                || {
                    self.line_starts
                        .get(line)
                        .map_or(self.text.len(), |next| next - 1)
                },
                |(i, _)| start + i,
            )
    }

    /// 0-based index of the line holding a byte offset.
    fn line_of(&self, offset: usize) -> usize {
        self.line_starts.partition_point(|&start| start <= offset) - 1
    }

    /// The whole lines covering `span`: their byte range and the 1-based number of the first, for
    /// showing an excerpt instead of the whole file.
    pub fn lines_around(&self, span: &Span) -> (Span, usize) {
        let first = self.line_of(span.start.min(self.text.len()));
        let last = self.line_of(span.end.min(self.text.len()));
        let end = self
            .line_starts
            .get(last + 1)
            .copied()
            .unwrap_or(self.text.len());
        (self.line_starts[first]..end, first + 1)
    }
}

/// Characters in a byte slice of UTF-8 text that may start or end inside a character: the bytes that
/// are not continuation bytes.
fn count_chars(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| (b & 0xC0) != 0x80).count()
}

/// The path shown to users for `path`: relative to the working directory if below it, with `/`.
pub fn display_path(path: &Path) -> String {
    let cwd = std::env::current_dir()
        .ok()
        .and_then(|d| d.canonicalize().ok());
    let shown = match (&cwd, path.canonicalize()) {
        (Some(cwd), Ok(abs)) => abs.strip_prefix(cwd).map(Path::to_path_buf).unwrap_or(abs),
        _ => path.to_path_buf(),
    };
    let text = shown.to_string_lossy().replace('\\', "/");
    text.strip_prefix("./").map(str::to_string).unwrap_or(text)
}

/// Which loaded file a node came from.
pub type FileId = usize;

/// A TOML value with the place it was written.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: NodeValue,
    /// Span of the value (for a table: its header or inline braces).
    pub span: Span,
    /// Span of the key that names this value, when it has one.
    pub key_span: Option<Span>,
    pub origin: FileId,
}

#[derive(Debug, Clone, PartialEq)]
pub enum NodeValue {
    Table(BTreeMap<String, Node>),
    Array(Vec<Node>),
    String(String),
    Integer(i64),
    Float(f64),
    Boolean(bool),
    Datetime(String),
    /// An integer TOML accepts but that does not fit in 64 bits, as written.
    HugeInteger(String),
}

/// One step of a path into a document.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PathSegment {
    Key(String),
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

    pub fn as_table(&self) -> Option<&BTreeMap<String, Node>> {
        match &self.value {
            NodeValue::Table(t) => Some(t),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            NodeValue::String(s) => Some(s),
            _ => None,
        }
    }

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

    /// A scalar as the string DataFusion's `set` takes; `None` for tables, arrays and datetimes.
    pub fn scalar_text(&self) -> Option<String> {
        match &self.value {
            NodeValue::String(s) => Some(s.clone()),
            NodeValue::Integer(i) => Some(i.to_string()),
            NodeValue::Float(f) if f.is_finite() => Some(f.to_string()),
            NodeValue::Boolean(b) => Some(b.to_string()),
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
    fn line_columns_count_characters() {
        let file = SourceFile::new(
            "p.toml".into(),
            "p.toml".into(),
            "a = 1\nbé = \"x\"\n".into(),
        );
        assert_eq!(file.line_column(0), (1, 1));
        assert_eq!(file.line_column(6), (2, 1));
        // byte 12 is just after "bé = " (é is two bytes)
        assert_eq!(file.line_column(12), (2, 6));
    }

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
