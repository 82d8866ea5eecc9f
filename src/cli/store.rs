//! `dfpolicy store runs|diff|determinism [--store URI]`

use std::io::Write;

use clap::{Subcommand, ValueEnum};

use super::{EXIT_FINDINGS, EXIT_OK, ListFormat, Stop, emit, pretty_json};
use crate::harness::report;
use crate::report::counted;
use crate::store::ArtifactStore;

/// How `store diff` writes its comparison. Not `github`: its annotations point at policy and query
/// lines, and a stored run has neither its policy files nor its workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    Human,
    Json,
}

/// Where the store is when `--store` is not given.
pub const DEFAULT_STORE: &str = ".dfpolicy/store";

#[derive(Debug, Subcommand)]
pub enum Args {
    /// List the runs in the store, oldest first.
    Runs {
        #[arg(long, default_value = DEFAULT_STORE)]
        store: String,
        #[arg(long, value_enum, default_value_t = ListFormat::Text)]
        format: ListFormat,
    },
    /// Compare run B with run A as `check` compares a run with its baseline; exit 1 when plans
    /// changed.
    Diff {
        run_a: String,
        run_b: String,
        #[arg(long, default_value = DEFAULT_STORE)]
        store: String,
        #[arg(long, value_enum, default_value_t = DiffFormat::Human)]
        format: DiffFormat,
    },
    /// List bundles whose inputs were equal but whose plans differed; exit 1 when there are any.
    Determinism {
        #[arg(long, default_value = DEFAULT_STORE)]
        store: String,
        #[arg(long, value_enum, default_value_t = ListFormat::Text)]
        format: ListFormat,
    },
}

pub(super) fn run(args: Args, out: &mut dyn Write) -> Result<u8, Stop> {
    match args {
        Args::Runs { store, format } => {
            let store = ArtifactStore::new(store)?;
            let runs = super::block_on(store.runs())?;
            match format {
                ListFormat::Json => emit(out, &pretty_json(&runs))?,
                ListFormat::Text => {
                    let mut text = String::new();
                    for run in &runs {
                        text.push_str(&format!(
                            "{}  {}  {}  {}  DataFusion {}  {} cells, {} failed\n",
                            run.run_id,
                            run.started,
                            run.git_commit
                                .as_deref()
                                .map_or("-", |c| &c[..c.len().min(12)]),
                            run.workload,
                            run.datafusion_version,
                            run.cells,
                            run.failed
                        ));
                    }
                    text.push_str(&format!("{}\n", counted(runs.len(), "run", "runs")));
                    emit(out, &text)?;
                }
            }
            Ok(EXIT_OK)
        }
        Args::Diff {
            run_a,
            run_b,
            store,
            format,
        } => {
            let store = ArtifactStore::new(store)?;
            let comparison = super::block_on(store.diff(&run_a, &run_b))?;
            let text = match format {
                DiffFormat::Json => report::json(&comparison),
                DiffFormat::Human => report::human(&comparison),
            };
            emit(out, &text)?;
            Ok(if comparison.fails() {
                EXIT_FINDINGS
            } else {
                EXIT_OK
            })
        }
        Args::Determinism { store, format } => {
            let store = ArtifactStore::new(store)?;
            let findings = super::block_on(store.determinism())?;
            match format {
                ListFormat::Json => emit(out, &pretty_json(&findings))?,
                ListFormat::Text => {
                    let mut text = String::new();
                    for finding in &findings {
                        text.push_str(&format!(
                            "{}/{} (DataFusion {}, plan fingerprint {}): {} different plans\n",
                            finding.policy,
                            finding.query,
                            finding.datafusion_version,
                            finding.plan_fingerprint,
                            finding.variants.len()
                        ));
                        for (digest, runs) in &finding.variants {
                            text.push_str(&format!("  {digest}: {}\n", runs.join(", ")));
                        }
                    }
                    text.push_str(&format!(
                        "{}\n",
                        counted(
                            findings.len(),
                            "non-deterministic bundle",
                            "non-deterministic bundles"
                        )
                    ));
                    emit(out, &text)?;
                }
            }
            Ok(if findings.is_empty() {
                EXIT_OK
            } else {
                EXIT_FINDINGS
            })
        }
    }
}
