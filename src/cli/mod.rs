//! The `dfpolicy` command line: argument parsing only. Each command is one file that maps its
//! arguments to one library call and one renderer.

mod bundle;
mod check;
mod compile;
mod data;
mod diff;
mod harness;
mod matrix;
mod namespace;
mod resolve;
mod schema;
mod sensitivity;
mod settings;
mod store;
mod validate;
mod workload;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use crate::compile::{Policy, PolicyError};
use crate::report::{self, render};
use crate::secrets::redact;

/// Exit code for success.
pub const EXIT_OK: u8 = 0;
/// Exit code when the input has findings (errors, or warnings under `--strict`).
pub const EXIT_FINDINGS: u8 = 1;
/// Exit code for usage errors and internal failures.
pub const EXIT_USAGE: u8 = 2;

#[derive(Debug, Parser)]
#[command(
    name = "dfpolicy",
    version,
    about = "Policy-as-code for Apache DataFusion sessions"
)]
/// The command line, parsed.
pub struct Cli {
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Validate policy files and directories (every *.toml below a directory).
    Validate(validate::Args),
    /// Print a policy merged with its `extends` parents.
    Resolve(DocumentArgs),
    /// Print the JSON schema of policy files, workload files or plan bundles, or check the checked-in copies.
    Schema(schema::Args),
    /// Compile a policy into its complete environment with hashes.
    Compile(DocumentArgs),
    /// Compare the environments of two policies; exit 0 when they are plan-equivalent, 1 when not.
    Diff(diff::Args),
    /// Check SQL files against the policy's namespace rule (`require_qualified_references`): every table
    /// named without catalog and schema is reported with its position; exit 1 when there are any.
    Namespace(namespace::Args),
    /// List every DataFusion option with its type, default and the policy field that sets it.
    Settings(settings::Args),
    /// Which settings move which plans of a workload, and at which values: every key (or those
    /// `--keys` selects) swept through candidate values from its type and the workload's sizes, each
    /// planned (never executed) and compared with the base policy; integer flip points found by
    /// bisection. `--audit` checks the classes of the execution-only, writer and display keys.
    Sensitivity(sensitivity::Args),
    /// Validate workloads and show their tables.
    #[command(subcommand)]
    Workload(workload::Args),
    /// Generate the built-in workloads' data.
    #[command(subcommand)]
    Data(data::Args),
    /// Plan one query of a workload under a policy and print its plan bundle: plans, EXPLAIN
    /// formats, the optimizer trace. Exit 1 when a capture step failed or the policy has findings
    /// (the bundle says which); advisory warnings exit 0 unless `--deny-warnings`.
    Bundle(bundle::Args),
    /// Build the bundle of every policy × every query of a workload, in parallel, and optionally
    /// write them as a baseline folder. Exit 1 when a cell failed or has findings or a failed capture
    /// step; advisory warnings exit 0 unless `--deny-warnings`.
    Harness(harness::Args),
    /// Build every policy × query bundle and compare with the committed baseline, naming the cause of
    /// every plan change. Exit 0 when nothing changed, 1 on changes, failed cells or findings, 2 on
    /// errors.
    Check(check::Args),
    /// The artifact store (a Delta table of every run's bundles): list runs, compare two, find
    /// non-determinism.
    #[command(subcommand)]
    Store(store::Args),
}

/// How findings are written (every command that reports findings takes it).
pub use crate::report::Format as FindingsFormat;

/// How a command that reports findings writes them, and whether warnings fail it.
#[derive(Debug, clap::Args)]
pub struct FindingsArgs {
    #[arg(long, value_enum, default_value_t = FindingsFormat::Human)]
    format: FindingsFormat,
    /// Fail on warnings too.
    #[arg(long)]
    strict: bool,
}

/// How a document (a policy, a compiled environment) is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DocumentFormat {
    /// TOML, as policy files are written.
    Toml,
    /// JSON, for programs.
    Json,
}

/// The arguments of a command that prints one policy as a document (`resolve`, `compile`).
#[derive(Debug, clap::Args)]
pub struct DocumentArgs {
    file: PathBuf,
    #[arg(long, value_enum, default_value_t = DocumentFormat::Toml)]
    format: DocumentFormat,
    /// Directory that `extends` parents must live under (default: the working directory).
    #[arg(long)]
    root: Option<PathBuf>,
}

/// How a listing or a comparison is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    /// Aligned text, for people.
    Text,
    /// JSON, for programs.
    Json,
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    main_with(crate::Extensions::new())
}

/// The whole `dfpolicy` command line over your own engine: every command validates, compiles,
/// plans and checks with `extensions` installed (its functions, formats, catalogs, rules, planner and
/// configuration namespaces). A team's `main.rs` is this call; see `docs/engines.md`.
///
/// ```no_run
/// use std::sync::Arc;
/// use dfpolicy::datafusion::logical_expr::{Volatility, create_udf};
/// use dfpolicy::datafusion::arrow::datatypes::DataType;
///
/// fn main() -> std::process::ExitCode {
///     let mask = create_udf(
///         "mask_pii",
///         vec![DataType::Utf8],
///         DataType::Utf8,
///         Volatility::Immutable,
///         Arc::new(|args| Ok(args[0].clone())),
///     );
///     dfpolicy::cli::main_with(
///         dfpolicy::Extensions::new()
///             .named("acme", env!("CARGO_PKG_VERSION"))
///             .with_scalar_udf(Arc::new(mask)),
///     )
/// }
/// ```
pub fn main_with(extensions: crate::Extensions) -> ExitCode {
    if let Err(error) = extensions.install() {
        eprintln!("{}", report::causes::render(&error));
        return ExitCode::from(EXIT_USAGE);
    }
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { EXIT_USAGE } else { EXIT_OK });
        }
    };
    let mut stdout = std::io::stdout().lock();
    match run(cli.command, &mut stdout) {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            eprintln!("{}", report::causes::render(&error));
            ExitCode::from(EXIT_USAGE)
        }
    }
}

/// Why a command failed. Findings are not failures: they are reported and give exit 1.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// A library call failed; its error keeps its causes (`source()`), which `main` prints.
    #[error(transparent)]
    Library(Box<dyn std::error::Error + Send + Sync>),
    /// The arguments name something that is not there.
    #[error("{0}")]
    Usage(String),
    /// Writing the command's output failed.
    #[error("cannot write the output")]
    Output(#[source] std::io::Error),
    /// Writing a file the arguments name failed.
    #[error("{}: cannot write it", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// Why it could not be written.
        #[source]
        source: std::io::Error,
    },
}

/// Runs one command, writing its output to `out`; returns the exit code.
pub fn run(command: Command, out: &mut dyn Write) -> Result<u8, CommandError> {
    let result = match command {
        Command::Validate(args) => validate::run(args, out),
        Command::Resolve(args) => resolve::run(args, out),
        Command::Schema(args) => schema::run(args, out),
        Command::Compile(args) => compile::run(args, out),
        Command::Diff(args) => diff::run(args, out),
        Command::Namespace(args) => namespace::run(args, out),
        Command::Settings(args) => settings::run(args, out),
        Command::Sensitivity(args) => sensitivity::run(args, out),
        Command::Workload(args) => workload::run(args, out),
        Command::Data(args) => data::run(args, out),
        Command::Bundle(args) => bundle::run(args, out),
        Command::Harness(args) => harness::run(args, out),
        Command::Check(args) => check::run(args, out),
        Command::Store(args) => store::run(args, out),
    };
    match result {
        Ok(code) => Ok(code),
        Err(Stop::Findings) => Ok(EXIT_FINDINGS),
        Err(Stop::Failed(error)) => Err(error),
    }
}

/// Why a command ended before its output: findings already reported on stderr, or a failure.
enum Stop {
    Findings,
    Failed(CommandError),
}

/// A library error ends the command with that error, its causes kept.
impl<E: std::error::Error + Send + Sync + 'static> From<E> for Stop {
    fn from(error: E) -> Self {
        Stop::Failed(CommandError::Library(Box::new(error)))
    }
}

/// The arguments name something that is not there.
fn usage(message: impl Into<String>) -> Stop {
    Stop::Failed(CommandError::Usage(message.into()))
}

/// Writes a command's output. Everything goes through [`redact`] on its way out, whatever the library
/// already redacted: a net under outputs (resolved policies, diffs) that carry values as written.
fn emit(out: &mut dyn Write, text: &str) -> Result<(), Stop> {
    out.write_all(redact(text).as_bytes())
        .map_err(|error| Stop::Failed(CommandError::Output(error)))
}

/// Writes a file the arguments name (a review page), through [`redact`] like every output.
fn write_file(path: &Path, text: &str) -> Result<(), Stop> {
    std::fs::write(path, redact(text).as_bytes()).map_err(|source| {
        Stop::Failed(CommandError::File {
            path: path.to_path_buf(),
            source,
        })
    })
}

fn exit_code(findings: bool) -> u8 {
    if findings { EXIT_FINDINGS } else { EXIT_OK }
}

/// Pretty JSON with a final newline. Only for values that always serialize (no non-string map keys).
fn pretty_json(value: &impl serde::Serialize) -> String {
    let mut text = serde_json::to_string_pretty(value).expect("the value serializes to JSON");
    text.push('\n');
    text
}

/// Runs a library future to completion on a multi-threaded runtime (commands are synchronous).
fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime starts")
        .block_on(future)
}

/// Loads a policy through the front door, printing its findings to stderr when it does not load.
fn load(file: &Path, root: Option<PathBuf>) -> Result<Policy, Stop> {
    let loader = match root {
        Some(root) => Policy::loader().root(root),
        None => Policy::loader(),
    };
    loader.load(file).map_err(|error| match error {
        PolicyError::Invalid(diagnostics) => {
            for d in &diagnostics {
                eprintln!("{}\n", render::human(d));
            }
            Stop::Findings
        }
        PolicyError::Compile(error) => Stop::from(error),
    })
}
