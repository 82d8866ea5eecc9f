//! Reading a workload file: TOML syntax, the schema, then what only the file system can tell (table
//! locations, Delta versions, query globs) and the query files. Every finding is located in the file it
//! is about.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::policy::document::{Node, NodeValue, read_toml};
use crate::report::{Code, Diagnostic, SourceFile, Span, display_path, read_source};
use crate::session::{MAX_QUERY_BYTES, SqlParsing};
use crate::validate::shape::check_document;

use super::file::{MAX_WORKLOAD_BYTES, TableEntry, TableFormat, WorkloadFile, workload_document};
use super::files::{FileSource, ServedSnapshot};
use super::query::{ParameterSet, Query, UnplannedQuery, parse_query_file};
use super::remote::RemoteLocation;
use super::snapshot::{MANIFEST_FILE, Snapshot};
use super::table::{Location, Table};
use super::tpch::BUILTIN;
use crate::object_storage::StoreKind;
use crate::validate::suggest::closest;

/// A workload file read as far as it could be.
pub(crate) struct Loaded {
    /// The file, when it could be read.
    pub file: Option<Arc<SourceFile>>,
    /// The declaration and its tables, when the file itself has no error.
    pub declaration: Option<(WorkloadFile, Vec<Table>)>,
    /// The queries that loaded.
    pub queries: Vec<Query>,
    /// The query files that did not, each with its findings.
    pub unplanned: Vec<UnplannedQuery>,
    /// The query files found, as shown.
    pub query_files: Vec<String>,
    /// Findings about the workload file itself (it is unusable when there is an error among them).
    pub findings: Vec<Diagnostic>,
    /// Findings about query files (each such query is left out; the others load).
    pub query_problems: Vec<Diagnostic>,
    /// Every parameter set, by its query file (canonical), also for queries that did not load.
    pub parameter_sets: Vec<(PathBuf, ParameterSet)>,
    /// Where the tables' files are: on disk, or in the snapshot beside the workload file.
    pub served_from: FileSource,
}

pub(crate) fn load_file(path: &Path) -> Loaded {
    let mut loaded = Loaded {
        file: None,
        declaration: None,
        queries: Vec::new(),
        unplanned: Vec::new(),
        query_files: Vec::new(),
        findings: Vec::new(),
        query_problems: Vec::new(),
        parameter_sets: Vec::new(),
        served_from: FileSource::Disk,
    };
    let (file, tree) = match read_toml(path, "workload", MAX_WORKLOAD_BYTES, 0) {
        Ok(read) => read,
        Err(finding) => {
            loaded
                .findings
                .push(unknown_builtin(path).unwrap_or(*finding));
            return loaded;
        }
    };
    loaded.file = Some(Arc::clone(&file));
    let schema_findings = check_document(workload_document(), &file, &tree);
    if !schema_findings.is_empty() {
        loaded.findings = schema_findings;
        // The schema leaves a table's format to the loader (the engine's formats are known only
        // here): a format the sessions lack is said beside the schema's findings, not after them.
        loaded.findings.extend(unknown_formats_in(&tree, &file));
        return loaded;
    }
    let declaration: WorkloadFile = match toml::from_str(&file.text) {
        Ok(declaration) => declaration,
        Err(error) => {
            // The schema admits only what deserializes; this is a bug if it happens, but say where.
            let span = error.span().unwrap_or(0..0);
            loaded.findings.push(
                Diagnostic::new(Code::InvalidValue, error.message().to_string()).at(&file, span),
            );
            return loaded;
        }
    };
    let base = file
        .path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    loaded.served_from = match snapshot_beside(&base) {
        Ok(served_from) => served_from,
        Err(finding) => {
            loaded.findings.push(finding.at(&file, 0..0));
            return loaded;
        }
    };
    let tables = check_tables(
        &declaration,
        &tree,
        &file,
        &base,
        &loaded.served_from,
        &mut loaded.findings,
    );
    let query_paths = find_queries(&declaration, &tree, &file, &base, &mut loaded.findings);
    let named = name_queries(query_paths, &file, &tree, &mut loaded.findings);
    let mut query_paths = Vec::new();
    for (name, path) in named {
        loaded.query_files.push(display_path(&path));
        let source = match read_source(&path, "query", MAX_QUERY_BYTES) {
            Ok(source) => source,
            Err(finding) => {
                loaded.unplanned.push(UnplannedQuery {
                    name,
                    file: display_path(&path),
                    path: path.clone(),
                    findings: vec![(*finding).clone()],
                });
                loaded.query_problems.push(*finding);
                continue;
            }
        };
        let (query, problems) = parse_query_file(
            &name,
            &source,
            &SqlParsing::default(),
            Some(crate::registry::registry()),
        );
        match query {
            Some(query) => {
                query_paths.push(canonical(&path));
                loaded.queries.push(query);
            }
            None => loaded.unplanned.push(UnplannedQuery {
                name,
                file: source.display_path.clone(),
                path: path.clone(),
                findings: problems.clone(),
            }),
        }
        loaded.query_problems.extend(problems);
    }
    let sets = check_parameters(&declaration, &tree, &file, &base, &mut loaded.findings);
    loaded.parameter_sets = sets
        .iter()
        .map(|(_, path, set)| (path.clone(), set.clone()))
        .collect();
    attach_parameters(&mut loaded, sets, &query_paths, &file, &tree);
    if loaded.findings.is_empty() {
        loaded.declaration = Some((declaration, tables));
    }
    loaded
}

/// A path as compared between `[[parameters]] query` and the query files found.
pub(crate) fn canonical(path: &Path) -> PathBuf {
    path.canonicalize().unwrap_or_else(|_| path.to_path_buf())
}

/// Checks every `[[parameters]]` entry on its own (placeholder names, positional or named, unique
/// names per query) and returns the sets by their query file.
fn check_parameters(
    declaration: &WorkloadFile,
    tree: &Node,
    file: &Arc<SourceFile>,
    base: &Path,
    findings: &mut Vec<Diagnostic>,
) -> Vec<(usize, PathBuf, ParameterSet)> {
    let mut sets: Vec<(usize, PathBuf, ParameterSet)> = Vec::new();
    for (index, entry) in declaration.parameters.iter().enumerate() {
        let node = item(tree, "parameters", index);
        let path = canonical(&base.join(&entry.query));
        if sets
            .iter()
            .any(|(_, other, set)| *other == path && set.name == entry.name)
        {
            findings.push(
                Diagnostic::new(
                    Code::DuplicateParameterSet,
                    format!(
                        "`{}` already has a parameter set `{}`",
                        entry.query, entry.name
                    ),
                )
                .at(file, span_of(node, "name"))
                .with_help("each set of a query needs a name of its own"),
            );
            continue;
        }
        let positional = entry
            .values
            .keys()
            .filter(|key| placeholder_number(key).is_some())
            .count();
        let malformed: Vec<&String> = entry
            .values
            .keys()
            .filter(|key| placeholder_number(key).is_none() && !is_named_placeholder(key))
            .collect();
        if let Some(key) = malformed.first() {
            findings.push(
                Diagnostic::new(
                    Code::ParameterMismatch,
                    format!("`{key}` is not a placeholder"),
                )
                .at(file, key_span_of(node.and_then(|n| n.get("values")), key))
                .with_help("placeholders are written `$1`, `$2` … or `$name`, as in the query"),
            );
            continue;
        }
        if positional != 0 && positional != entry.values.len() {
            findings.push(
                Diagnostic::new(
                    Code::ParameterMismatch,
                    "a parameter set mixes positional (`$1`) and named (`$name`) placeholders",
                )
                .at(file, span_of(node, "values"))
                .with_help("DataFusion binds either a list or a map of values; use one kind"),
            );
            continue;
        }
        sets.push((
            index,
            path,
            ParameterSet {
                name: entry.name.clone(),
                values: entry
                    .values
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            },
        ));
    }
    sets
}

/// `$3` → 3.
pub(crate) fn placeholder_number(key: &str) -> Option<usize> {
    let digits = key.strip_prefix('$')?;
    (!digits.starts_with('0') && digits.bytes().all(|b| b.is_ascii_digit()))
        .then(|| digits.parse().ok())
        .flatten()
}

fn is_named_placeholder(key: &str) -> bool {
    key.strip_prefix('$').is_some_and(|name| {
        name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    })
}

/// A `[[parameters]]` set for a query the workload does not have, with the closest query that has
/// placeholders.
fn unknown_parameter_query(queries: &[Query], written: &str, file: &SourceFile) -> Diagnostic {
    let with_placeholders: Vec<String> = queries
        .iter()
        .filter(|q| !q.placeholders.is_empty())
        .map(|q| display_relative(&q.source.path, &file.path))
        .collect();
    let help = match closest(written, with_placeholders.iter().map(String::as_str)) {
        Some(close) => format!("did you mean `{close}`?"),
        None if with_placeholders.is_empty() => {
            "no query of the workload has placeholders".to_string()
        }
        None => format!(
            "the queries with placeholders are: {}",
            with_placeholders.join(", ")
        ),
    };
    Diagnostic::new(
        Code::UnknownParameterQuery,
        format!("`{written}` is not a query of the workload"),
    )
    .with_help(help)
}

/// A parameter set whose values are not the query's placeholders: which are missing, which extra.
fn parameter_mismatch(query: &Query, set: &ParameterSet, written: &str) -> Option<Diagnostic> {
    let given: Vec<&str> = set.values.iter().map(|(k, _)| k.as_str()).collect();
    let placeholders: Vec<&str> = query.placeholders.iter().map(String::as_str).collect();
    let missing: Vec<&str> = placeholders
        .iter()
        .copied()
        .filter(|p| !given.contains(p))
        .collect();
    let extra: Vec<&str> = given
        .iter()
        .copied()
        .filter(|g| !placeholders.contains(g))
        .collect();
    if missing.is_empty() && extra.is_empty() {
        return None;
    }
    let mut message = format!("parameter set `{}` does not fit `{written}`:", set.name);
    if !missing.is_empty() {
        message.push_str(&format!(" no value for {}", quoted(&missing)));
    }
    if !extra.is_empty() {
        if !missing.is_empty() {
            message.push(';');
        }
        message.push_str(&format!(" the query has no {}", quoted(&extra)));
    }
    let help = if placeholders.is_empty() {
        "the query has no placeholders".to_string()
    } else {
        format!("the query's placeholders are {}", quoted(&placeholders))
    };
    Some(Diagnostic::new(Code::ParameterMismatch, message).with_help(help))
}

/// Gives each query its parameter sets, checking them against its placeholders; a set for no query
/// of the workload, or a query with placeholders and no set, is a finding.
fn attach_parameters(
    loaded: &mut Loaded,
    sets: Vec<(usize, PathBuf, ParameterSet)>,
    query_paths: &[PathBuf],
    file: &Arc<SourceFile>,
    tree: &Node,
) {
    for (index, path, set) in sets {
        let node = item(tree, "parameters", index);
        let written = node
            .and_then(|n| n.get("query"))
            .and_then(|n| n.as_str())
            .unwrap_or_default()
            .to_string();
        let Some(position) = query_paths.iter().position(|p| *p == path) else {
            if loaded
                .query_files
                .iter()
                .any(|shown| canonical(Path::new(shown)) == path)
            {
                // The query file did not load; its own findings say why.
                continue;
            }
            let finding = unknown_parameter_query(&loaded.queries, &written, file);
            loaded
                .findings
                .push(finding.at(file, span_of(node, "query")));
            continue;
        };
        let query = &mut loaded.queries[position];
        match parameter_mismatch(query, &set, &written) {
            Some(finding) => loaded
                .findings
                .push(finding.at(file, span_of(node, "values"))),
            None => query.parameter_sets.push(set),
        }
    }
    let mut kept = Vec::new();
    for query in std::mem::take(&mut loaded.queries) {
        if query.placeholders.is_empty() || !query.parameter_sets.is_empty() {
            kept.push(query);
            continue;
        }
        let start = query
            .source
            .offset_of(query.statement.line, query.statement.column);
        let finding = Diagnostic::new(
                Code::MissingParameters,
                format!(
                    "query `{}` has placeholders ({}) and no parameter set",
                    query.name,
                    quoted(&query.placeholders.iter().map(String::as_str).collect::<Vec<_>>())
                ),
            )
            .at(&query.source, start..start + query.statement.text.len())
            .with_help(format!(
                "declare values in the workload file: [[parameters]] query = \"{}\", name = \"…\", values = {{ … }}",
                display_relative(&query.source.path, &file.path)
            ));
        loaded.unplanned.push(UnplannedQuery {
            name: query.name.clone(),
            file: query.file.clone(),
            path: query.source.path.clone(),
            findings: vec![finding.clone()],
        });
        loaded.query_problems.push(finding);
    }
    loaded.queries = kept;
}

fn quoted(items: &[&str]) -> String {
    items
        .iter()
        .map(|i| format!("`{i}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A query file's path as the workload file would write it.
fn display_relative(query: &Path, workload: &Path) -> String {
    let base = workload.parent().unwrap_or(Path::new(""));
    query
        .strip_prefix(base)
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_else(|_| display_path(query))
}

/// A bare name that is no file (`tpc-h`) was meant as a built-in workload.
fn unknown_builtin(path: &Path) -> Option<Diagnostic> {
    let name = path.to_str()?;
    if path.exists() || path.components().count() != 1 || path.extension().is_some() {
        return None;
    }
    let help = match closest(name, BUILTIN.iter().copied()) {
        Some(builtin) => format!("did you mean the built-in workload `{builtin}`?"),
        None => format!("the built-in workloads are: {}", BUILTIN.join(", ")),
    };
    Some(
        Diagnostic::new(
            Code::UnknownWorkload,
            format!("`{name}` is neither a workload file nor a built-in workload"),
        )
        .with_path(name)
        .with_help(help),
    )
}

fn item<'a>(tree: &'a Node, section: &str, index: usize) -> Option<&'a Node> {
    match &tree.get(section)?.value {
        NodeValue::Array(items) => items.get(index),
        _ => None,
    }
}

fn span_of(node: Option<&Node>, key: &str) -> Span {
    node.and_then(|n| n.get(key))
        .map(|n| n.span.clone())
        .or_else(|| node.map(|n| n.span.clone()))
        .unwrap_or(0..0)
}

fn key_span_of(node: Option<&Node>, key: &str) -> Span {
    node.and_then(|n| n.get(key))
        .and_then(|n| n.key_span.clone())
        .unwrap_or_else(|| span_of(node, key))
}

/// The snapshot a workload file's folder holds (`snapshot.json` beside it), served at that folder; the
/// file system when there is none.
fn snapshot_beside(folder: &Path) -> Result<FileSource, Box<Diagnostic>> {
    if !folder.join(MANIFEST_FILE).is_file() {
        return Ok(FileSource::Disk);
    }
    let root = super::files::absolute(folder);
    let root = root.canonicalize().unwrap_or(root);
    let snapshot = Snapshot::read(folder).map_err(|error| {
        Box::new(
            Diagnostic::new(
                Code::UnreadableSnapshot,
                crate::report::causes::one_line(&error),
            )
            .with_help("take the snapshot again with `dfpolicy workload snapshot`"),
        )
    })?;
    let served = ServedSnapshot::new(&snapshot, root, display_path(folder));
    Ok(FileSource::Snapshot(Arc::new(served)))
}

/// Checks every table and resolves its location (on disk, or in the snapshot `served_from`).
fn check_tables(
    declaration: &WorkloadFile,
    tree: &Node,
    file: &Arc<SourceFile>,
    base: &Path,
    served_from: &FileSource,
    findings: &mut Vec<Diagnostic>,
) -> Vec<Table> {
    let mut first_of: BTreeMap<&str, Span> = BTreeMap::new();
    let mut buckets = Buckets::default();
    let mut tables = Vec::new();
    for (index, entry) in declaration.tables.iter().enumerate() {
        let node = item(tree, "tables", index);
        let name_span = span_of(node, "name");
        if let Some(first) = first_of.get(entry.name.as_str()) {
            findings.push(
                Diagnostic::new(
                    Code::DuplicateTable,
                    format!("table `{}` is declared twice", entry.name),
                )
                .at(file, name_span.clone())
                .with_note(
                    Some(crate::report::Location::new(file, first.clone())),
                    "first declared here",
                )
                .with_help("give each table its own name"),
            );
        } else {
            first_of.insert(&entry.name, name_span.clone());
        }
        check_format_options(entry, node, file, findings);
        if !is_known_format(&entry.format) {
            findings.push(unknown_format(
                &entry.name,
                &entry.format,
                span_of(node, "format"),
                file,
            ));
            continue;
        }
        let location_span = span_of(node, "location");
        let written = match resolve_location(&entry.location, base, served_from) {
            Ok(written) => written,
            Err(error) => {
                findings.push(
                    Diagnostic::new(Code::InvalidValue, error.to_string())
                        .at(file, location_span.clone()),
                );
                continue;
            }
        };
        let location = match written {
            Written::Local(path) => {
                check_local(entry, &path, served_from, node, file, findings);
                if !entry.storage_options.is_empty() {
                    findings.push(
                        Diagnostic::new(
                            Code::OptionNotForFormat,
                            format!(
                                "table `{}`: storage options apply to object-storage locations (`s3://`, `az://`, `gs://`), and `{}` is local",
                                entry.name, entry.location
                            ),
                        )
                        .at(file, key_span_of(node, "storage_options"))
                        .with_help("remove them"),
                    );
                    continue;
                }
                Location::Local(path)
            }
            Written::Remote(kind, url) => {
                match buckets.open(kind, url, entry, node, file, findings) {
                    Some(remote) => Location::Remote(remote),
                    None => continue,
                }
            }
        };
        tables.push(Table {
            name: entry.name.clone(),
            format: entry.format.clone(),
            location,
            csv_options: entry.csv_options(),
            version: entry.version,
            stored_options: entry.options.clone(),
            declared: Some((Arc::clone(file), name_span)),
            served_from: served_from.clone(),
        });
    }
    tables
}

/// The stores of a workload's buckets: one per bucket, shared by its tables (a session reads a
/// bucket through the one store registered for its URL).
#[derive(Default)]
struct Buckets {
    /// By the bucket's URL (`s3://lake/`).
    opened: BTreeMap<String, OpenedBucket>,
}

struct OpenedBucket {
    /// The storage options it was opened with.
    options: BTreeMap<String, String>,
    store: Arc<dyn object_store::ObjectStore>,
    /// The table that opened it.
    first: String,
}

impl Buckets {
    /// A table's remote location: its storage options checked (keys the store knows, never a
    /// credential), its bucket's store opened with them or shared with the tables before it on that
    /// bucket. `None` when a finding was added.
    fn open(
        &mut self,
        kind: StoreKind,
        url: url::Url,
        entry: &TableEntry,
        node: Option<&Node>,
        file: &Arc<SourceFile>,
        findings: &mut Vec<Diagnostic>,
    ) -> Option<RemoteLocation> {
        let options = node.and_then(|n| n.get("storage_options"));
        let before = findings.len();
        for (key, value) in &entry.storage_options {
            if let Err(problem) = crate::object_storage::check_option(kind, key, value) {
                let key_span = options
                    .and_then(|n| n.get(key))
                    .and_then(|n| n.key_span.clone())
                    .unwrap_or_else(|| key_span_of(node, "storage_options"));
                findings.push(
                    Diagnostic::new(
                        Code::InvalidValue,
                        format!("table `{}`: {problem}", entry.name),
                    )
                    .at(file, key_span)
                    .with_help(problem.help()),
                );
            }
        }
        if findings.len() > before {
            return None;
        }
        let bucket = crate::object_storage::store_url(&url).to_string();
        let finding = |message: String| {
            Diagnostic::new(
                Code::InvalidValue,
                format!("table `{}`: {message}", entry.name),
            )
            .at(file, span_of(node, "location"))
        };
        if let Some(opened) = self.opened.get(&bucket) {
            if opened.options != entry.storage_options {
                findings.push(
                    finding(format!(
                        "{bucket} is read with other storage options by table `{}`",
                        opened.first
                    ))
                    .with_help("a session reads a bucket through one store: give every table of the bucket the same storage options"),
                );
                return None;
            }
            let store = Arc::clone(&opened.store);
            return Some(RemoteLocation { url, store });
        }
        match crate::object_storage::open::open_store(&url, &entry.storage_options) {
            Ok(store) => {
                self.opened.insert(
                    bucket,
                    OpenedBucket {
                        options: entry.storage_options.clone(),
                        store: Arc::clone(&store),
                        first: entry.name.clone(),
                    },
                );
                Some(RemoteLocation { url, store })
            }
            Err(error) => {
                findings.push(finding(crate::report::causes::one_line(&error)));
                None
            }
        }
    }
}

/// Whether this process's sessions can create tables of `format`: the built-in formats, and the
/// `STORED AS` formats of the registry (DataFusion's and the installed engine's).
fn is_known_format(format: &TableFormat) -> bool {
    match format {
        TableFormat::Stored(name) => crate::registry::registry().has_format(name),
        _ => true,
    }
}

/// The tables of a file whose other findings stop it before its tables are read: each string
/// `format` the sessions lack.
fn unknown_formats_in(tree: &Node, file: &Arc<SourceFile>) -> Vec<Diagnostic> {
    let Some(NodeValue::Array(tables)) = tree.get("tables").map(|t| &t.value) else {
        return Vec::new();
    };
    tables
        .iter()
        .filter_map(|table| {
            let node = table.get("format")?;
            let format = TableFormat::of_name(node.as_str()?);
            let name = table.get("name").and_then(Node::as_str).unwrap_or("?");
            (!is_known_format(&format))
                .then(|| unknown_format(name, &format, node.span.clone(), file))
        })
        .collect()
}

/// A table format the sessions lack, with the closest one and how an engine adds a format.
fn unknown_format(
    table: &str,
    format: &TableFormat,
    span: Span,
    file: &Arc<SourceFile>,
) -> Diagnostic {
    let known: Vec<String> = TableFormat::known()
        .iter()
        .map(|format| format.name().to_string())
        .collect();
    let given = format.name();
    let suggestion = closest(given, known.iter().map(String::as_str))
        .map(|s| format!("did you mean `{s}`? "))
        .unwrap_or_default();
    Diagnostic::new(
        Code::UnknownFormat,
        format!("table `{table}`: `{given}` is not a format of this engine's sessions"),
    )
    .at(file, span)
    .with_help(format!(
        "{suggestion}the formats are {}; {}",
        known.join(", "),
        super::functions::FORMAT_HELP
    ))
}

/// CSV options on a table of another format, and a version on a table that is not Delta.
fn check_format_options(
    entry: &TableEntry,
    node: Option<&Node>,
    file: &Arc<SourceFile>,
    findings: &mut Vec<Diagnostic>,
) {
    if entry.format != TableFormat::Csv {
        for (option, _) in entry.csv_options() {
            findings.push(
                Diagnostic::new(
                    Code::OptionNotForFormat,
                    format!(
                        "`{option}` is a CSV option, but table `{}` is {}",
                        entry.name, entry.format
                    ),
                )
                .at(file, key_span_of(node, option))
                .with_help("remove it, or set `format = \"csv\"`"),
            );
        }
    }
    if entry.format != TableFormat::Delta && entry.version.is_some() {
        findings.push(
            Diagnostic::new(
                Code::OptionNotForFormat,
                format!(
                    "`version` pins a Delta table version, but table `{}` is {}",
                    entry.name, entry.format
                ),
            )
            .at(file, key_span_of(node, "version"))
            .with_help("remove it, or set `format = \"delta\"`"),
        );
    }
    if !matches!(entry.format, TableFormat::Stored(_)) && !entry.options.is_empty() {
        findings.push(
            Diagnostic::new(
                Code::OptionNotForFormat,
                format!(
                    "`options` go to the table provider factory of a `STORED AS` format, but table `{}` is {}, which dfpolicy reads itself",
                    entry.name, entry.format
                ),
            )
            .at(file, key_span_of(node, "options"))
            .with_help(if entry.format == TableFormat::Csv {
                "remove them; a CSV table takes `has_header`, `delimiter`, `quote`, `escape`, `null_value` and `compression`"
            } else {
                "remove them"
            }),
        );
    }
}

/// A location that cannot be used, in the words of the finding that reports it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
enum LocationError {
    #[error("`{written}` is not a URL: {problem}")]
    NotAUrl {
        written: String,
        problem: url::ParseError,
    },
    #[error("`{0}` is not a local file URL")]
    NotALocalFile(String),
    #[error("`{written}`: `{scheme}://` is not a supported location")]
    UnsupportedScheme { written: String, scheme: String },
    #[error(transparent)]
    Remote(#[from] crate::object_storage::RemoteUrlError),
}

/// A location as resolved: a local path (absolute), or a plain object-storage URL whose store is
/// yet to be opened.
enum Written {
    Local(PathBuf),
    Remote(StoreKind, url::Url),
}

/// A location as written: a path relative to the workload file, an absolute path, or a URL.
fn resolve_location(
    written: &str,
    base: &Path,
    served_from: &FileSource,
) -> Result<Written, LocationError> {
    if let Some((scheme, _)) = written.split_once("://") {
        let url = url::Url::parse(written).map_err(|problem| LocationError::NotAUrl {
            written: written.to_string(),
            problem,
        })?;
        if scheme == "file" {
            let path = url
                .to_file_path()
                .map_err(|()| LocationError::NotALocalFile(written.to_string()))?;
            return Ok(Written::Local(path));
        }
        return match StoreKind::of_scheme(scheme) {
            Some(kind) => {
                crate::object_storage::check_url(&url)?;
                Ok(Written::Remote(kind, url))
            }
            None => Err(LocationError::UnsupportedScheme {
                written: crate::object_storage::shown(&url),
                scheme: scheme.to_string(),
            }),
        };
    }
    let path = Path::new(written);
    let base = match served_from {
        // A snapshot's paths are below its (canonical) folder, whether or not they exist on disk.
        FileSource::Snapshot(served) => served.root.as_path(),
        FileSource::Disk => base,
    };
    let path = if path.is_absolute() {
        path.to_path_buf()
    } else {
        base.join(path)
    };
    Ok(Written::Local(match served_from {
        FileSource::Disk => path.canonicalize().unwrap_or(path),
        FileSource::Snapshot(_) => super::files::absolute(&path),
    }))
}

/// What the local file system says about a table: the location exists, a Delta table has a log, a
/// pinned version is in it.
fn check_local(
    entry: &TableEntry,
    path: &Path,
    served_from: &FileSource,
    node: Option<&Node>,
    file: &Arc<SourceFile>,
    findings: &mut Vec<Diagnostic>,
) {
    let location_span = span_of(node, "location");
    if !served_from.exists(path) {
        findings.push(
            Diagnostic::new(
                Code::LocationNotFound,
                format!(
                    "table `{}`: `{}` does not exist",
                    entry.name, entry.location
                ),
            )
            .at(file, location_span)
            .with_help(format!(
                "locations are relative to the workload file; this one resolves to {}",
                display_path(path)
            )),
        );
        return;
    }
    if entry.format != TableFormat::Delta {
        return;
    }
    let Some(versions) = served_from.delta_versions(path) else {
        findings.push(
            Diagnostic::new(
                Code::NotADeltaTable,
                format!(
                    "table `{}`: `{}` is not a Delta table (it has no `_delta_log` folder)",
                    entry.name, entry.location
                ),
            )
            .at(file, location_span)
            .with_help(
                "point `location` at the table's root folder, the one holding `_delta_log/`",
            ),
        );
        return;
    };
    if let Some(version) = entry.version {
        let has_checkpoint = served_from.is_file(
            &path
                .join("_delta_log")
                .join(format!("{version:020}.checkpoint.parquet")),
        );
        if !versions.contains(&version) && !has_checkpoint {
            let available = match (versions.first(), versions.last()) {
                (Some(first), Some(last)) if first == last => {
                    format!("the log holds version {first}")
                }
                (Some(first), Some(last)) => format!("the log holds versions {first} to {last}"),
                _ => "the log holds no commits".to_string(),
            };
            findings.push(
                Diagnostic::new(
                    Code::DeltaVersionMissing,
                    format!("table `{}` has no version {version}", entry.name),
                )
                .at(file, span_of(node, "version"))
                .with_help(available),
            );
        }
    }
}

/// The query files the globs match, sorted, each once; a pattern that matches nothing is a finding.
fn find_queries(
    declaration: &WorkloadFile,
    tree: &Node,
    file: &Arc<SourceFile>,
    base: &Path,
    findings: &mut Vec<Diagnostic>,
) -> BTreeSet<PathBuf> {
    let mut found = BTreeSet::new();
    let patterns = tree.get("queries").and_then(|q| q.get("paths"));
    for (index, pattern) in declaration.queries.paths.iter().enumerate() {
        let span = patterns
            .and_then(|p| match &p.value {
                NodeValue::Array(items) => items.get(index),
                _ => None,
            })
            .map(|n| n.span.clone())
            .unwrap_or(0..0);
        let full = if Path::new(pattern).is_absolute() {
            pattern.clone()
        } else {
            format!(
                "{}/{pattern}",
                glob::Pattern::escape(&base.to_string_lossy())
            )
        };
        let matches = match glob::glob(&full) {
            Ok(paths) => paths,
            Err(error) => {
                findings.push(
                    Diagnostic::new(
                        Code::InvalidValue,
                        format!("`{pattern}` is not a valid glob: {}", error.msg),
                    )
                    .at(file, span),
                );
                continue;
            }
        };
        let files: Vec<PathBuf> = matches
            .filter_map(Result::ok)
            .filter(|p| p.is_file())
            .collect();
        if files.is_empty() {
            findings.push(
                Diagnostic::new(
                    Code::NoMatchingQueries,
                    format!("`{pattern}` matches no file"),
                )
                .at(file, span)
                .with_help(format!(
                    "patterns are relative to the workload file's folder, {}",
                    display_path(base)
                )),
            );
        }
        found.extend(files);
    }
    found
}

/// Names each query file by its stem; two files with one stem are a finding.
fn name_queries(
    paths: BTreeSet<PathBuf>,
    file: &Arc<SourceFile>,
    tree: &Node,
    findings: &mut Vec<Diagnostic>,
) -> Vec<(String, PathBuf)> {
    let mut by_name: BTreeMap<String, PathBuf> = BTreeMap::new();
    let mut named = Vec::new();
    for path in paths {
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        if let Some(first) = by_name.get(&name) {
            let span = tree
                .get("queries")
                .and_then(|q| q.get("paths"))
                .map(|n| n.span.clone())
                .unwrap_or(0..0);
            findings.push(
                Diagnostic::new(
                    Code::DuplicateQueryName,
                    format!(
                        "{} and {} would both be query `{name}`",
                        display_path(first),
                        display_path(&path)
                    ),
                )
                .at(file, span)
                .with_help("queries are named by their file stem; rename one of the files"),
            );
            continue;
        }
        by_name.insert(name.clone(), path.clone());
        named.push((name, path));
    }
    named
}
