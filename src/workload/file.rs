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
    pub workload: WorkloadSection,
    /// The tables, registered in every session of the workload. A workload may have none when its
    /// query files create their own tables (`CREATE EXTERNAL TABLE`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tables: Vec<TableEntry>,
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
    /// The table's format.
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
}

named_enum! {
    names = "lowercase";
    /// The formats a table can have.
    pub enum TableFormat {
        Parquet,
        Csv,
        Delta,
    }
}

named_enum! {
    names = "lowercase";
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
    SCHEMA.get_or_init(generate_schema::<WorkloadFile>)
}

/// The workload schema as the text checked in at [`SCHEMA_PATH`].
pub fn schema_text() -> String {
    document_text(workload_schema())
}

/// The workload schema, compiled for the schema layer of validation.
pub fn workload_document() -> &'static DocumentSchema {
    static DOCUMENT: OnceLock<DocumentSchema> = OnceLock::new();
    DOCUMENT.get_or_init(|| DocumentSchema::new(workload_schema(), "workload"))
}
