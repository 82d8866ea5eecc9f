//! The workload file as users write it: the single source of truth for its TOML layout and its JSON
//! schema (doc comments become schema descriptions), checked in at [`SCHEMA_PATH`].

use std::collections::BTreeMap;
use std::sync::OnceLock;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::validate::schema::{document_text, generate_schema};
use crate::validate::shape::DocumentSchema;

/// Where the checked-in workload schema lives, relative to the repository root.
pub const SCHEMA_PATH: &str = "schema/workload.schema.json";

/// Largest workload file read: a page of table declarations, not a data file.
pub const MAX_WORKLOAD_BYTES: usize = 1 << 20;

/// A workload: the tables a set of queries runs over, and the queries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "dfpolicy workload")]
pub struct WorkloadFile {
    /// `[workload]`: what the workload is.
    pub workload: WorkloadSection,
    /// The tables, registered in every session of the workload. A workload may have none when its
    /// query files create their own tables (`CREATE EXTERNAL TABLE`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tables: Vec<TableEntry>,
    /// `[queries]`: which SQL files belong to the workload.
    pub queries: QueriesSection,
    /// Values for the placeholders of parameterized queries (`$1`, `$start`). Each set is planned as
    /// a bundle of its own; a query with placeholders needs at least one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parameters: Vec<ParameterEntry>,
}

/// `[[parameters]]`: one named set of values for one query's placeholders.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ParameterEntry {
    /// The query file, relative to the workload file, as `[queries] paths` matches it
    /// (`queries/by_date.sql`).
    #[schemars(length(min = 1))]
    pub query: String,
    /// The set's name, unique for its query: lowercase letters, digits, `-` and `_`.
    #[schemars(regex(pattern = r"^[a-z0-9][a-z0-9_-]*$"))]
    pub name: String,
    /// A value for every placeholder of the query: all positional (`"$1"`, `"$2"` …) or all named
    /// (`"$start"`). A value is cast to the type DataFusion infers for its placeholder, so a string
    /// can stand for a date (`"1994-01-01"`).
    pub values: std::collections::BTreeMap<String, ParameterValue>,
}

/// A parameter value as written in TOML.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
// The variants stay undocumented: their schema is TOML's types, which say it.
#[allow(missing_docs)]
pub enum ParameterValue {
    Boolean(bool),
    Integer(i64),
    Float(f64),
    Text(String),
}

/// `[workload]`: what the workload is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkloadSection {
    /// The workload's name: lowercase letters, digits and `-`, starting with a letter or digit.
    #[schemars(regex(pattern = r"^[a-z0-9][a-z0-9-]*$"))]
    pub name: String,
    /// What the workload stands for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// `[[tables]]`: one table, registered under its name in every session of the workload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TableEntry {
    /// `table`, `schema.table` or `catalog.schema.table` (lowercase). Parts left out are the policy's
    /// default catalog and schema (`datafusion.catalog.default_catalog` / `default_schema`).
    #[schemars(regex(pattern = r"^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*){0,2}$"))]
    pub name: String,
    /// The table's format: `parquet`, `csv` or `delta`, or another `STORED AS` format of the
    /// session (DataFusion's `json` and `arrow`, or one the engine adds), whose table provider
    /// factory creates the table from `location` and `options` as `CREATE EXTERNAL TABLE` would.
    pub format: TableFormat,
    /// A file or folder, relative to the workload file, or a `file://` URL. For a folder, every file
    /// below it with the format's extension (`.parquet`, `.csv`, `.csv.gz` …) is part of the table; for
    /// `delta`, the table's root folder (the one holding `_delta_log/`).
    #[schemars(length(min = 1))]
    pub location: String,
    /// CSV only: whether the first line of each file names the columns (DataFusion's
    /// `format.has_header`; default: the session's `datafusion.catalog.has_header`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub has_header: Option<bool>,
    /// CSV only: the field delimiter, one character (default `,`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 1))]
    pub delimiter: Option<String>,
    /// CSV only: the quote character (default `"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 1))]
    pub quote: Option<String>,
    /// CSV only: the escape character (default: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 1))]
    pub escape: Option<String>,
    /// CSV only: DataFusion's `format.null_value`. DataFusion 55 applies it only when writing CSV; when
    /// reading, an empty field is NULL for non-text columns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub null_value: Option<String>,
    /// CSV only: how the files are compressed (default `uncompressed`); it also sets the extension
    /// files must have (`.csv.gz` for gzip …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compression: Option<CsvCompression>,
    /// Delta only: the table version to read. Unpinned tables read the latest version, which is
    /// reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u64>,
    /// Object storage only (`s3://`, `az://`, `gs://` locations; the `cloud` feature): options of
    /// the store by `object_store`'s configuration keys (`region`, `endpoint`, `allow_http`,
    /// `account_name` …), applied over what the environment sets. Never credentials: those come
    /// from the environment (`AWS_SECRET_ACCESS_KEY`, `AZURE_STORAGE_ACCOUNT_KEY`,
    /// `GOOGLE_SERVICE_ACCOUNT` …) or the provider's default chain, and one written here is an
    /// error.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub storage_options: BTreeMap<String, String>,
    /// Formats other than `parquet`, `csv` and `delta` only: the options handed to the format's
    /// table provider factory, as `CREATE EXTERNAL TABLE ... OPTIONS ('key' 'value')` hands them
    /// (`"format.has_header" = "true"` for DataFusion's formats; an engine's format reads its own).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub options: BTreeMap<String, String>,
}

/// The format of a table: DataFusion's Parquet and CSV listing tables and delta-rs' Delta tables,
/// each read with what dfpolicy knows of it (CSV options, pinned versions, file counts), or any
/// other `STORED AS` format the session can create tables of: DataFusion's `json` and `arrow`, or
/// one an engine adds ([`crate::Extensions::with_table_factory`]), created by the format's table
/// provider factory as `CREATE EXTERNAL TABLE ... STORED AS` would.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(into = "String", from = "String")]
pub enum TableFormat {
    /// Parquet files, read as a DataFusion listing table.
    Parquet,
    /// CSV files, read as a DataFusion listing table with the table's CSV options.
    Csv,
    /// A Delta table, read with delta-rs at a pinned or the latest version.
    Delta,
    /// Another `STORED AS` format of the session, by its lowercase name.
    Stored(String),
}

impl TableFormat {
    /// The formats dfpolicy reads itself, by name.
    pub const BUILT_IN: [TableFormat; 3] =
        [TableFormat::Parquet, TableFormat::Csv, TableFormat::Delta];

    /// The format's name as a workload file writes it (lowercase).
    pub fn name(&self) -> &str {
        match self {
            TableFormat::Parquet => "parquet",
            TableFormat::Csv => "csv",
            TableFormat::Delta => "delta",
            TableFormat::Stored(name) => name,
        }
    }

    /// The format of a name, any case: a built-in one, else a `STORED AS` format.
    pub fn of_name(name: &str) -> TableFormat {
        let name = name.to_lowercase();
        TableFormat::BUILT_IN
            .into_iter()
            .find(|format| format.name() == name)
            .unwrap_or(TableFormat::Stored(name))
    }

    /// Every format a workload table can have in this process: the built-in ones, then the `STORED
    /// AS` formats of the registry's sessions (DataFusion's and the installed engine's), sorted.
    pub fn known() -> Vec<TableFormat> {
        let mut formats = TableFormat::BUILT_IN.to_vec();
        let mut stored: Vec<TableFormat> = crate::registry::registry()
            .formats()
            .map(TableFormat::of_name)
            .filter(|format| matches!(format, TableFormat::Stored(_)))
            .collect();
        stored.sort();
        formats.extend(stored);
        formats
    }
}

impl std::fmt::Display for TableFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl From<String> for TableFormat {
    fn from(name: String) -> Self {
        TableFormat::of_name(&name)
    }
}

impl From<TableFormat> for String {
    fn from(format: TableFormat) -> Self {
        format.name().to_string()
    }
}

impl JsonSchema for TableFormat {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "TableFormat".into()
    }

    /// A lowercase name; the workload schema lists the formats this process knows
    /// ([`workload_schema`]), which depend on the engine.
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "pattern": "^[a-z][a-z0-9_]*$"
        })
    }
}

named_enum! {
    names = "lowercase";
    // The variants stay undocumented: schemars writes a documented variant as a `oneOf` branch
    // instead of a name in the schema's `enum`, whose findings list the choices.
    #[allow(missing_docs)]
    /// CSV compression, by DataFusion's names.
    pub enum CsvCompression {
        Uncompressed,
        Gzip,
        Bzip2,
        Xz,
        Zstd,
    }
}

impl TableEntry {
    /// The CSV options written for this table, by DataFusion's `CsvOptions` field names, in the
    /// file's order of fields.
    pub fn csv_options(&self) -> Vec<(&'static str, String)> {
        let mut options = Vec::new();
        if let Some(v) = self.has_header {
            options.push(("has_header", v.to_string()));
        }
        for (name, value) in [
            ("delimiter", &self.delimiter),
            ("quote", &self.quote),
            ("escape", &self.escape),
            ("null_value", &self.null_value),
        ] {
            if let Some(v) = value {
                options.push((name, v.clone()));
            }
        }
        if let Some(c) = self.compression {
            options.push(("compression", c.to_string()));
        }
        options
    }
}

/// `[queries]`: which SQL files belong to the workload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct QueriesSection {
    /// Glob patterns relative to the workload file (`queries/*.sql`). Every pattern must match at
    /// least one file; the matches are sorted and each file is one query, named by its file stem.
    #[schemars(length(min = 1))]
    pub paths: Vec<String>,
}

/// The workload schema (JSON Schema draft-07), generated from [`WorkloadFile`].
pub fn workload_schema() -> &'static Value {
    static SCHEMA: OnceLock<Value> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let mut schema = generate_schema::<WorkloadFile>();
        // The formats this process knows (the engine's among them), for editors to complete.
        let format = &mut schema["properties"]["tables"]["items"]["properties"]["format"];
        let names: Vec<Value> = TableFormat::known()
            .iter()
            .map(|format| Value::String(format.name().to_string()))
            .collect();
        format["enum"] = Value::Array(names);
        schema
    })
}

/// The workload schema as the text checked in at [`SCHEMA_PATH`].
pub fn schema_text() -> String {
    document_text(workload_schema())
}

/// The workload schema, compiled for the schema layer of validation.
pub fn workload_document() -> &'static DocumentSchema {
    static DOCUMENT: OnceLock<DocumentSchema> = OnceLock::new();
    DOCUMENT.get_or_init(|| {
        // The formats are listed for editors; the loader checks a table's format itself, so that
        // an engine's format in a plain dfpolicy is one finding among the workload's others and
        // says how an engine adds it.
        let mut checked = workload_schema().clone();
        let format = &mut checked["properties"]["tables"]["items"]["properties"]["format"];
        if let Some(format) = format.as_object_mut() {
            format.remove("enum");
        }
        DocumentSchema::new(Box::leak(Box::new(checked)), "workload")
    })
}
