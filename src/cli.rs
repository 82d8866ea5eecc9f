//! The `dfpolicy` command line: argument parsing and output only; the work is in the library.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use crate::compile::{classify, diff};
use crate::policy::options::typed_field_for_key;
use crate::registry::registry;
use crate::secrets::redact;
use crate::session::check_namespace_file;
use crate::validate::schema::{SCHEMA_PATH, schema_text};
use crate::validate::{Policy, render, validate_paths};

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
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Validate policy files and directories (every *.toml below a directory).
    Validate {
        /// Policy files or directories.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        #[arg(long, value_enum, default_value_t = DiagnosticFormat::Human)]
        format: DiagnosticFormat,
        /// Fail on warnings too.
        #[arg(long)]
        strict: bool,
        /// Directory that `extends` parents must live under (default: the working directory).
        #[arg(long)]
        root: Option<PathBuf>,
    },
    /// Print a policy merged with its `extends` parents.
    Resolve {
        file: PathBuf,
        #[arg(long, value_enum, default_value_t = DocumentFormat::Toml)]
        format: DocumentFormat,
        #[arg(long)]
        root: Option<PathBuf>,
    },
    /// Print the JSON schema of policy files, or check the checked-in copy.
    Schema {
        /// Exit 1 if the schema file differs from the generated schema.
        #[arg(long)]
        check: bool,
        /// The checked-in schema, for --check.
        #[arg(long, default_value = SCHEMA_PATH)]
        path: PathBuf,
    },
    /// Compile a policy into its complete environment with hashes.
    Compile {
        file: PathBuf,
        #[arg(long, value_enum, default_value_t = DocumentFormat::Toml)]
        format: DocumentFormat,
        #[arg(long)]
        root: Option<PathBuf>,
    },
    /// Compare the environments of two policies; exit 0 when they are plan-equivalent, 1 when not.
    Diff {
        left: PathBuf,
        right: PathBuf,
        #[arg(long, value_enum, default_value_t = ListFormat::Text)]
        format: ListFormat,
        #[arg(long)]
        root: Option<PathBuf>,
    },
    /// Check SQL files against the policy's namespace rule (`require_qualified_references`): every table
    /// named without catalog and schema is reported with its position; exit 1 when there are any.
    Namespace {
        policy: PathBuf,
        /// SQL files (several statements each are fine).
        #[arg(required = true)]
        queries: Vec<PathBuf>,
        #[arg(long, value_enum, default_value_t = ListFormat::Text)]
        format: ListFormat,
        #[arg(long)]
        root: Option<PathBuf>,
    },
    /// List every DataFusion option with its type, default and the policy field that sets it.
    Settings {
        #[arg(long, value_enum, default_value_t = ListFormat::Text)]
        format: ListFormat,
        /// List the optimizer rules of a default session instead.
        #[arg(long)]
        rules: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiagnosticFormat {
    Human,
    Json,
    Github,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DocumentFormat {
    Toml,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    Text,
    Json,
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
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
        Err(e) => {
            eprintln!("dfpolicy: {e}");
            ExitCode::from(EXIT_USAGE)
        }
    }
}

/// Runs one command, writing its output to `out`; returns the exit code.
pub fn run(command: Command, out: &mut dyn Write) -> std::io::Result<u8> {
    match execute(command, out) {
        Ok(code) => Ok(code),
        Err(Stop::Findings) => Ok(EXIT_FINDINGS),
        Err(Stop::Failed(error)) => Err(error),
    }
}

/// Why a command ended before its output: findings already reported on stderr, or a failure.
enum Stop {
    Findings,
    Failed(std::io::Error),
}

impl From<std::io::Error> for Stop {
    fn from(error: std::io::Error) -> Self {
        Stop::Failed(error)
    }
}

fn failed(error: impl std::fmt::Display) -> Stop {
    Stop::Failed(std::io::Error::other(error.to_string()))
}

fn exit_code(findings: bool) -> u8 {
    if findings { EXIT_FINDINGS } else { EXIT_OK }
}

/// Every output goes through [`redact`] on its way out, whatever the library already redacted: a net
/// under outputs (resolved policies, diffs) that carry values the library renders as they are.
fn execute(command: Command, out: &mut dyn Write) -> Result<u8, Stop> {
    let text = match command {
        Command::Validate {
            paths,
            format,
            strict,
            root,
        } => {
            let report = validate_paths(&paths, root.as_deref());
            let text = match format {
                DiagnosticFormat::Human => render::human_report(&report),
                DiagnosticFormat::Json => render::json(&report.diagnostics),
                DiagnosticFormat::Github => render::github(&report.diagnostics),
            };
            out.write_all(redact(&text).as_bytes())?;
            return Ok(exit_code(report.fails(strict)));
        }
        Command::Compile { file, format, root } => {
            let compiled = load(&file, root)?.compile().map_err(failed)?;
            match format {
                DocumentFormat::Toml => compiled.to_toml(),
                DocumentFormat::Json => compiled.to_json(),
            }
        }
        Command::Diff {
            left,
            right,
            format,
            root,
        } => {
            // Both policies are loaded before either error stops the command, so all findings show.
            let (left, right) = (load(&left, root.clone()), load(&right, root));
            let (left, right) = (
                left?.compile().map_err(failed)?,
                right?.compile().map_err(failed)?,
            );
            let difference = diff(&left, &right);
            let text = match format {
                ListFormat::Text => difference.to_text(),
                ListFormat::Json => pretty_json(&difference),
            };
            out.write_all(redact(&text).as_bytes())?;
            return Ok(exit_code(difference.plan_environment_differs));
        }
        Command::Namespace {
            policy,
            queries,
            format,
            root,
        } => {
            let policy = load(&policy, root)?;
            let compiled = policy.compile().map_err(failed)?;
            let mut findings = Vec::new();
            for query in &queries {
                findings.extend(check_namespace_file(&compiled, query));
            }
            crate::diagnostic::normalize(&mut findings);
            let text = match format {
                ListFormat::Text => findings.iter().map(|d| format!("{d}\n")).collect(),
                ListFormat::Json => render::json(&findings),
            };
            out.write_all(redact(&text).as_bytes())?;
            return Ok(exit_code(!findings.is_empty()));
        }
        Command::Resolve { file, format, root } => {
            let policy = load(&file, root)?;
            match format {
                DocumentFormat::Toml => policy.resolved.to_toml(),
                DocumentFormat::Json => pretty_json(&policy.resolved.options),
            }
        }
        Command::Schema { check, path } => {
            let generated = schema_text();
            if !check {
                generated
            } else if std::fs::read_to_string(&path).unwrap_or_default() == generated {
                format!("{} is up to date\n", path.display())
            } else {
                let path = path.display();
                writeln!(
                    out,
                    "{path} is stale; regenerate it with: dfpolicy schema > {path}"
                )?;
                return Ok(EXIT_FINDINGS);
            }
        }
        Command::Settings { format, rules } => {
            if rules {
                rules_listing(format)
            } else {
                settings_listing(format)
            }
        }
    };
    out.write_all(redact(&text).as_bytes())?;
    Ok(EXIT_OK)
}

/// Pretty JSON with a final newline. Only for values that always serialize (no non-string map keys).
fn pretty_json(value: &impl serde::Serialize) -> String {
    let mut text = serde_json::to_string_pretty(value).expect("the value serializes to JSON");
    text.push('\n');
    text
}

/// Loads a policy for a command, printing its findings to stderr when it does not load.
fn load(file: &std::path::Path, root: Option<PathBuf>) -> Result<Policy, Stop> {
    let loader = match root {
        Some(root) => Policy::loader().root(root),
        None => Policy::loader(),
    };
    loader.load(file).map_err(|error| {
        for d in &error.diagnostics {
            eprintln!("{}\n", render::human(d));
        }
        Stop::Findings
    })
}

#[derive(serde::Serialize)]
struct SettingRow<'a> {
    key: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    default: Option<&'a str>,
    minimum: Option<u64>,
    maximum: Option<u64>,
    machine_dependent: bool,
    policy_field: Option<String>,
    class: &'static str,
    class_reason: &'static str,
    description: &'a str,
}

fn settings_listing(format: ListFormat) -> String {
    let rows: Vec<SettingRow<'_>> = registry()
        .options()
        .map(|o| (o, classify(o)))
        .map(|(o, (class, reason))| SettingRow {
            key: &o.key,
            kind: o.kind.name(),
            default: o.default.as_deref(),
            minimum: o.minimum,
            maximum: o.maximum,
            machine_dependent: o.machine_dependent,
            policy_field: typed_field_for_key(&o.key)
                .map(|(section, f)| format!("{section}.{}", f.name)),
            class: class.as_str(),
            class_reason: reason,
            description: &o.description,
        })
        .collect();
    match format {
        ListFormat::Json => pretty_json(&rows),
        ListFormat::Text => {
            let mut t = String::new();
            for row in &rows {
                let default = if row.machine_dependent {
                    "<CPU count>".to_string()
                } else {
                    row.default.unwrap_or("NULL").to_string()
                };
                let mut kind = row.kind.to_string();
                if let Some(min) = row.minimum {
                    kind.push_str(&format!(", min {min}"));
                }
                if let Some(max) = row.maximum {
                    kind.push_str(&format!(", max {max}"));
                }
                t.push_str(&format!("{}\n  type: {kind}; default: {default}", row.key));
                if let Some(field) = &row.policy_field {
                    t.push_str(&format!("; policy field: {field}"));
                }
                t.push_str(&format!("\n  class: {} ({})", row.class, row.class_reason));
                t.push_str(&format!("\n  {}\n", row.description.replace('\n', " ")));
            }
            t
        }
    }
}

fn rules_listing(format: ListFormat) -> String {
    let rules = registry().rules();
    match format {
        ListFormat::Json => {
            let rows: Vec<serde_json::Value> = rules
                .iter()
                .map(|(stage, name)| serde_json::json!({"stage": stage.name(), "name": name}))
                .collect();
            pretty_json(&rows)
        }
        ListFormat::Text => rules
            .iter()
            .map(|(stage, name)| format!("{:<9} {name}\n", stage.name()))
            .collect(),
    }
}
