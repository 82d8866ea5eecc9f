//! Workloads: the tables a set of queries runs over (Parquet, CSV, Delta Lake at pinned versions) and
//! the queries, from a workload file, a metadata snapshot folder, or built in (`tpch`, `tpch-delta`
//! over generated data; `tpch-sf10`, `tpch-sf100` from compiled-in metadata snapshots).
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use dfpolicy::{Policy, SessionFactory, Workload};
//! let policy = Policy::load("policies/baseline.toml")?;
//! let factory = SessionFactory::new(policy.compiled)?;
//! let workload = Workload::load("tpch")?; // or a workload file
//! for query in workload.queries() {
//!     let session = workload.query_session(&factory, query).await?;
//!     let plan = session.state().create_logical_plan(query.sql()).await?;
//!     println!("{}: {}", query.name, plan.display());
//! }
//! # Ok(()) }
//! ```

pub(crate) mod delta;
pub mod file;
pub(crate) mod files;
mod functions;
mod load;
pub(crate) mod query;
mod register;
pub(crate) use register::{Registered, RegisteredTables};
pub(crate) mod remote;
pub mod show;
pub mod snapshot;
pub(crate) mod table;
pub mod tpch;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::common::DataFusionError;
use datafusion::prelude::SessionContext;

use crate::report::{Code, Diagnostic, Noun, Report, SourceFile, display_path, normalize};
use crate::session::{SessionFactory, SqlParsing};

pub use delta::{
    DeltaFacts, DeltaScanFiles, RegisteredDelta, ScanCandidates, ScanOwners, delta_scans,
};
pub use file::ParameterValue;
pub use file::{TableFormat, WorkloadFile};
pub(crate) use files::absolute;
pub use files::{FileSource, ServedSnapshot};
pub use query::{ParameterSet, Query, UnplannedQuery, WrittenStatement};
pub use table::{Location, Table};
use tpch::data::{DataError, TpchData};

/// The finding codes only workloads report (they also report the syntax and schema codes policies
/// share, and `invalid-sql`).
pub const WORKLOAD_CODES: &[Code] = &[
    Code::OptionNotForFormat,
    Code::DuplicateTable,
    Code::LocationNotFound,
    Code::NotADeltaTable,
    Code::DeltaVersionMissing,
    Code::NoMatchingQueries,
    Code::DuplicateQueryName,
    Code::SettingInQuery,
    Code::NoQueryStatement,
    Code::UnsupportedStatement,
    Code::UnknownFunction,
    Code::UnknownFormat,
    Code::UnknownWorkload,
    Code::UnknownParameterQuery,
    Code::DuplicateParameterSet,
    Code::ParameterMismatch,
    Code::MissingParameters,
    Code::UnreadableSnapshot,
];

pub use tpch::BUILTIN;

/// A loaded workload: its tables and the queries that loaded.
#[derive(Debug, Clone)]
pub struct Workload {
    /// The workload's name.
    pub name: String,
    /// What it stands for.
    pub description: Option<String>,
    /// The workload file as shown to users, or the built-in name.
    pub origin: String,
    /// The tables, as declared.
    pub tables: Vec<Table>,
    queries: Vec<Query>,
    /// The query files that did not load: each is a failed cell of every policy.
    unplanned: Vec<UnplannedQuery>,
    /// Findings about query files that did not load; each such query is left out, the others load.
    pub query_problems: Vec<Diagnostic>,
    /// For the built-in workloads: the data generated on first use.
    builtin: Option<Builtin>,
    /// The workload file's folder, absolute (relative locations start there); `None` for built-ins.
    folder: Option<PathBuf>,
    /// Every `[[parameters]]` set by its query file (canonical), for query files named directly.
    parameter_sets: Vec<(PathBuf, ParameterSet)>,
    /// Where the tables' local files are: on disk, or in a metadata snapshot.
    served_from: FileSource,
    /// The workload file as declared; `None` for a built-in workload.
    declaration: Option<WorkloadFile>,
}

#[derive(Debug, Clone)]
struct Builtin {
    data: TpchData,
    delta: bool,
}

/// Why a workload could not be loaded or set up in a session.
#[derive(Debug, thiserror::Error)]
pub enum WorkloadError {
    /// The workload file has errors (syntax, schema, tables, query globs), each located.
    #[error("the workload has {} error(s){}", .0.len(), .0.iter().map(|f| format!("\n  {f}")).collect::<String>())]
    Invalid(Vec<Diagnostic>),
    /// The policy's session could not be made.
    #[error("cannot make the session")]
    Session(#[source] DataFusionError),
    /// A table could not be registered.
    #[error("workload `{workload}`{}: table `{table}`", declared.as_ref().map(|at| format!(" ({at})")).unwrap_or_default())]
    Table {
        /// The workload's name.
        workload: String,
        /// The table's declared name.
        table: String,
        /// `file:line:column` of the table's declaration, when it has one.
        declared: Option<String>,
        /// DataFusion's (or the table factory's) error.
        #[source]
        error: DataFusionError,
    },
    /// A query file's preparatory statement failed in the session.
    #[error("query `{query}` ({at})")]
    Statement {
        /// The query.
        query: String,
        /// `file:line:column` of the statement.
        at: String,
        /// DataFusion's error.
        #[source]
        error: DataFusionError,
    },
    /// The built-in data could not be generated.
    #[error("TPC-H data")]
    Data(#[from] DataError),
}

impl Workload {
    /// Loads a workload file, or a built-in workload by name (`tpch`, `tpch-delta`; a file of that
    /// name is read as `./tpch`). Errors in the workload file are an error; a query file with errors
    /// is left out and its findings are kept in [`Workload::query_problems`].
    ///
    /// ```
    /// let sales = dfpolicy::Workload::load("workloads/sales/sales.toml")?;
    /// assert_eq!(sales.tables.len(), 2);
    /// assert!(sales.query("big_spenders").is_some());
    /// let tpch = dfpolicy::Workload::load("tpch")?; // built in; data generated when first planned
    /// assert_eq!(tpch.queries().len(), 22);
    /// # Ok::<(), dfpolicy::Error>(())
    /// ```
    pub fn load(path: impl AsRef<Path>) -> Result<Workload, WorkloadError> {
        let path = path.as_ref();
        if let Some(builtin) = Workload::builtin(path) {
            return Ok(builtin);
        }
        let loaded = load::load_file(path);
        match loaded.declaration {
            Some((declaration, tables)) => Ok(Workload {
                name: declaration.workload.name.clone(),
                description: declaration.workload.description.clone(),
                declaration: Some(declaration),
                origin: loaded
                    .file
                    .as_ref()
                    .map_or_else(|| display_path(path), |f| f.display_path.clone()),
                tables,
                queries: loaded.queries,
                unplanned: loaded.unplanned,
                query_problems: loaded.query_problems,
                builtin: None,
                folder: loaded
                    .file
                    .as_ref()
                    .and_then(|f| f.path.parent())
                    // Table locations are canonical (see `load`), so is their folder.
                    .map(|folder| {
                        absolute(folder)
                            .canonicalize()
                            .unwrap_or_else(|_| absolute(folder))
                    }),
                parameter_sets: loaded.parameter_sets,
                served_from: loaded.served_from,
            }),
            None => Err(WorkloadError::Invalid(loaded.findings)),
        }
    }

    /// The built-in workload a name stands for (`tpch`, `tpch-delta`), over the default data location.
    pub fn builtin(name: &Path) -> Option<Workload> {
        let name = name.to_str().filter(|n| BUILTIN.contains(n))?;
        if let Some(snapshot) = tpch::scaled::BuiltinSnapshot::named(name) {
            let root = absolute(&tpch::data::default_data_root());
            return Some(Workload::tpch_snapshot(snapshot.served(&root)));
        }
        Some(Workload::tpch(
            TpchData::default_location(),
            name == "tpch-delta",
        ))
    }

    /// The built-in TPC-H workload over `data` (generated on first use): Parquet, or Delta with
    /// `lineitem` partitioned by `l_shipmode` in two versions.
    pub fn tpch(data: TpchData, delta: bool) -> Workload {
        let tables = tpch::TABLES
            .iter()
            .map(|table| Table {
                name: table.to_string(),
                format: if delta {
                    TableFormat::Delta
                } else {
                    TableFormat::Parquet
                },
                location: Location::Local(if delta {
                    data.delta_table(table)
                } else {
                    data.parquet_file(table)
                }),
                csv_options: Vec::new(),
                stored_options: Default::default(),
                version: None,
                declared: None,
                served_from: FileSource::Disk,
            })
            .collect();
        let (queries, query_problems) = tpch_queries();
        let name = if delta { "tpch-delta" } else { "tpch" };
        Workload {
            name: name.to_string(),
            description: Some(format!(
                "TPC-H at scale factor {} ({}), the 22 queries with the specification's validation parameters",
                data.scale_factor,
                if delta { "Delta Lake" } else { "Parquet" }
            )),
            origin: name.to_string(),
            tables,
            queries,
            unplanned: Vec::new(),
            query_problems,
            builtin: Some(Builtin { data, delta }),
            folder: None,
            parameter_sets: Vec::new(),
            served_from: FileSource::Disk,
            declaration: None,
        }
    }

    /// TPC-H over a metadata snapshot of its Parquet files (the built-in `tpch-sf10` and
    /// `tpch-sf100`, see [`tpch::metadata`]): the 22 queries, plans only. Paths are written below
    /// `$TPCH_DATA`, as the built-in workloads write theirs.
    pub fn tpch_snapshot(served: Arc<ServedSnapshot>) -> Workload {
        let served_from = FileSource::Snapshot(Arc::clone(&served));
        let tables = served
            .manifest
            .tables
            .iter()
            .map(|(name, table)| Table {
                name: name.clone(),
                format: table.format.clone(),
                location: Location::Local(absolute(&served.root.join(&table.location))),
                csv_options: Vec::new(),
                stored_options: Default::default(),
                version: None,
                declared: None,
                served_from: served_from.clone(),
            })
            .collect();
        let (queries, query_problems) = tpch_queries();
        Workload {
            name: served.manifest.workload.clone(),
            description: Some(format!(
                "TPC-H Parquet in a lake's layout from the metadata snapshot `{}`: the 22 queries \
                 with the specification's validation parameters, planned without the data",
                served.shown
            )),
            origin: served.manifest.workload.clone(),
            tables,
            queries,
            unplanned: Vec::new(),
            query_problems,
            builtin: None,
            folder: None,
            parameter_sets: Vec::new(),
            served_from,
            declaration: None,
        }
    }

    /// A query by name, or by its file (the path as given, or as the workload shows it).
    pub fn query(&self, name_or_file: &str) -> Option<&Query> {
        self.queries
            .iter()
            .find(|q| q.name == name_or_file || q.file == name_or_file)
    }

    /// A query from any SQL file, also one outside the workload's `[queries]` patterns: a workload
    /// query when the file is one, else the file read on its own, with the parameter sets the
    /// workload file declares for it. Its problems are findings in a report.
    pub fn query_file(&self, path: &Path) -> Result<Query, Report> {
        let wanted = load::canonical(path);
        if let Some(query) = self
            .queries
            .iter()
            .find(|q| load::canonical(&q.source.path) == wanted)
        {
            return Ok(query.clone());
        }
        let problem = |diagnostics| Report {
            noun: Noun::WORKLOAD,
            files: vec![display_path(path)],
            diagnostics,
        };
        let source = crate::report::read_source(path, "query", crate::session::MAX_QUERY_BYTES)
            .map_err(|finding| problem(vec![*finding]))?;
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        // A file outside the workload is planned on its own, on a session the caller may have
        // extended: its functions are left to the planner.
        let (query, problems) =
            query::parse_query_file(&name, &source, &SqlParsing::default(), None);
        let mut query = query.ok_or_else(|| problem(problems))?;
        query.parameter_sets = self
            .parameter_sets
            .iter()
            .filter(|(file, _)| *file == wanted)
            .map(|(_, set)| set.clone())
            .collect();
        Ok(query)
    }

    /// Where the workload's relative paths start, and how to write it in output that must be the same
    /// on every machine: the workload file's folder (written as nothing: paths below it are written
    /// relative to it), or for a built-in workload the data root, written `$TPCH_DATA`.
    pub fn path_anchor(&self) -> PathAnchor {
        if let Some(served) = self.served_from.snapshot()
            && BUILTIN.contains(&served.manifest.source.as_str())
        {
            // A snapshot of a built-in workload writes its paths as the built-in workload does.
            return PathAnchor {
                folder: served.root.clone(),
                written_as: Some(TPCH_DATA),
            };
        }
        match (&self.builtin, &self.folder) {
            (Some(builtin), _) => PathAnchor {
                folder: absolute(builtin.data.root()),
                written_as: Some(TPCH_DATA),
            },
            (None, folder) => PathAnchor {
                folder: folder.clone().unwrap_or_else(|| absolute(Path::new("."))),
                written_as: None,
            },
        }
    }

    /// Where the tables' local files are: on disk, or in the metadata snapshot the workload is.
    pub fn served_from(&self) -> &FileSource {
        &self.served_from
    }

    /// For a snapshot workload, the same workload with its files served through `store`, a store
    /// wrapping the snapshot's own (one that records what planning reads, say); otherwise a copy.
    pub fn served_through(&self, store: Arc<dyn object_store::ObjectStore>) -> Workload {
        let mut workload = self.clone();
        if let FileSource::Snapshot(served) = &self.served_from {
            let through = FileSource::Snapshot(Arc::new(served.through(store)));
            for table in &mut workload.tables {
                table.served_from = through.clone();
            }
            workload.served_from = through;
        }
        workload
    }

    /// The workload file as declared; `None` for a built-in workload.
    pub fn declaration(&self) -> Option<&WorkloadFile> {
        self.declaration.as_ref()
    }

    /// The workload file's folder (absolute); `None` for a built-in workload.
    pub fn folder(&self) -> Option<&Path> {
        self.folder.as_deref()
    }

    /// The queries that loaded, sorted by file.
    pub fn queries(&self) -> &[Query] {
        &self.queries
    }

    /// The query files that did not load, each with its findings: the harness makes each a failed
    /// cell of every policy, a snapshot keeps their files.
    pub fn unplanned_queries(&self) -> &[UnplannedQuery] {
        &self.unplanned
    }

    /// Generates a built-in workload's data if it is missing; nothing for a workload file.
    pub async fn prepare_data(&self) -> Result<(), WorkloadError> {
        if let Some(builtin) = &self.builtin {
            tpch::data::ensure(&builtin.data, builtin.delta).await?;
        }
        Ok(())
    }

    /// A fresh session from `factory` with the workload's tables registered.
    pub async fn session(&self, factory: &SessionFactory) -> Result<SessionContext, WorkloadError> {
        Ok(self.session_with_tables(factory).await?.0)
    }

    /// [`Workload::session`], also returning the Delta tables registered (for [`delta_scans`]).
    pub async fn session_with_tables(
        &self,
        factory: &SessionFactory,
    ) -> Result<(SessionContext, Vec<RegisteredDelta>), WorkloadError> {
        let (ctx, registered) = self.session_with_registered(factory).await?;
        Ok((ctx, registered.deltas))
    }

    /// [`Workload::session`], with what registering the tables learned.
    pub(crate) async fn session_with_registered(
        &self,
        factory: &SessionFactory,
    ) -> Result<(SessionContext, RegisteredTables), WorkloadError> {
        let ctx = factory.context().map_err(WorkloadError::Session)?;
        let registered = self.register(&ctx).await?;
        Ok((ctx, registered))
    }

    /// Registers the workload's tables in any session (generating a built-in workload's data first
    /// if missing), as [`Workload::session`] does; returns the Delta tables registered.
    pub async fn register_tables(
        &self,
        ctx: &SessionContext,
    ) -> Result<Vec<RegisteredDelta>, WorkloadError> {
        Ok(self.register(ctx).await?.deltas)
    }

    async fn register(&self, ctx: &SessionContext) -> Result<RegisteredTables, WorkloadError> {
        self.prepare_data().await?;
        if let FileSource::Snapshot(served) = &self.served_from {
            // Every local file the session reads comes from the snapshot, or is refused by it.
            let file_url = url::Url::parse("file://").expect("a valid URL");
            ctx.register_object_store(&file_url, served.store.clone());
        }
        let mut registered = RegisteredTables::default();
        for table in &self.tables {
            match register::register(ctx, table).await {
                Ok(Registered::Delta(delta)) => registered.deltas.push(delta),
                Ok(Registered::Listing {
                    remote_files: Some(files),
                }) => {
                    registered.remote_files.insert(table.name.clone(), files);
                }
                Ok(Registered::Listing { remote_files: None } | Registered::Stored) => {}
                Err(error) => {
                    return Err(WorkloadError::Table {
                        workload: self.name.clone(),
                        table: table.name.clone(),
                        declared: table.declared.as_ref().map(|(file, span)| {
                            let (line, column) = file.line_column(span.start);
                            format!("{}:{line}:{column}", file.display_path)
                        }),
                        error,
                    });
                }
            }
        }
        Ok(registered)
    }

    /// A fresh session for one query: the tables registered, then the query file's preparatory
    /// statements run in order.
    pub async fn query_session(
        &self,
        factory: &SessionFactory,
        query: &Query,
    ) -> Result<SessionContext, WorkloadError> {
        let ctx = self.session(factory).await?;
        prepare(&ctx, query).await?;
        Ok(ctx)
    }

    /// Every finding of the workload: none for a workload that loaded cleanly, else the query
    /// problems, as a report over the query files.
    pub fn report(&self) -> Report {
        let mut report = Report {
            noun: Noun::WORKLOAD,
            files: vec![self.origin.clone()],
            diagnostics: self.query_problems.clone(),
        };
        normalize(&mut report.diagnostics);
        report
    }
}

/// The 22 built-in TPC-H queries, named as the built-in workloads name them (`tpch/q01.sql`).
fn tpch_queries() -> (Vec<Query>, Vec<Diagnostic>) {
    let mut queries = Vec::new();
    let mut query_problems = Vec::new();
    for query in tpch::QUERIES {
        let shown = format!("tpch/{}.sql", query.name);
        let source = Arc::new(SourceFile::new(
            shown.clone(),
            PathBuf::from(shown),
            query.sql.to_string(),
        ));
        let (parsed, problems) = query::parse_query_file(
            query.name,
            &source,
            &SqlParsing::default(),
            Some(crate::registry::registry()),
        );
        queries.extend(parsed);
        query_problems.extend(problems);
    }
    (queries, query_problems)
}

/// How the data root of the built-in workloads is written in machine-independent output.
pub const TPCH_DATA: &str = "$TPCH_DATA";

/// Where a workload's relative paths start; see [`Workload::path_anchor`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathAnchor {
    /// Absolute.
    pub folder: PathBuf,
    /// `None`: paths below the folder are written relative to it; else the folder is written as this.
    pub written_as: Option<&'static str>,
}

/// Runs a query's preparatory statements in a session.
pub async fn prepare(ctx: &SessionContext, query: &Query) -> Result<(), WorkloadError> {
    for statement in &query.preparation {
        let at = format!("{}:{}:{}", query.file, statement.line, statement.column);
        let failed = |error| WorkloadError::Statement {
            query: query.name.clone(),
            at: at.clone(),
            error,
        };
        ctx.sql(&statement.text)
            .await
            .map_err(failed)?
            .collect()
            .await
            .map_err(failed)?;
    }
    Ok(())
}

/// For a workload file in a snapshot folder, or a built-in snapshot: which snapshot it is (its folder or
/// name) and the workload it was taken of. Only the manifest is read.
pub fn snapshot_of(path: &Path) -> Option<(String, String)> {
    if let Some(snapshot) = path.to_str().and_then(tpch::scaled::BuiltinSnapshot::named) {
        return Some((snapshot.name.to_string(), "tpch".to_string()));
    }
    let folder = path.parent()?;
    let text = std::fs::read_to_string(folder.join(snapshot::MANIFEST_FILE)).ok()?;
    let manifest: snapshot::SnapshotManifest = serde_json::from_str(&text).ok()?;
    Some((display_path(folder), manifest.source))
}

/// Validates workload files (or built-in names): the file itself and every query file, as one report.
pub fn validate_workloads(paths: &[PathBuf]) -> Report {
    let mut report = Report {
        noun: Noun::WORKLOAD,
        ..Report::default()
    };
    for path in paths {
        if let Some(workload) = Workload::builtin(path) {
            report.files.push(workload.origin.clone());
            report.diagnostics.extend(workload.query_problems);
            continue;
        }
        let loaded = load::load_file(path);
        report.files.push(
            loaded
                .file
                .as_ref()
                .map_or_else(|| display_path(path), |f| f.display_path.clone()),
        );
        report.diagnostics.extend(loaded.findings);
        report.diagnostics.extend(loaded.query_problems);
    }
    report.files.sort();
    normalize(&mut report.diagnostics);
    report
}
