//! `dfpolicy bundle --policy FILE --workload FILE|tpch|tpch-delta --query FILE.sql [--params NAME]
//! [--format json|text|html] [--root DIR] [--deny-warnings]`

use std::io::Write;
use std::path::PathBuf;

use clap::ValueEnum;

use super::{Stop, emit, workload};
use crate::bundle::Bundler;
use crate::report::render;
use crate::session::SessionFactory;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BundleFormat {
    Json,
    Text,
    /// A self-contained HTML page: the physical plan as a tree, the logical plans, the trace.
    Html,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The policy the session is built from.
    #[arg(long)]
    policy: PathBuf,
    /// A workload file, or `tpch` / `tpch-delta` (their data is generated on first use).
    #[arg(long)]
    workload: PathBuf,
    /// A SQL file (any, also one outside the workload's `[queries]` patterns), or a workload query
    /// by name (`q01`) or as the workload shows it (`tpch/q01.sql`).
    #[arg(long)]
    query: PathBuf,
    /// The parameter set to bind, for a query with placeholders.
    #[arg(long = "params")]
    parameters: Option<String>,
    #[arg(long, value_enum, default_value_t = BundleFormat::Json)]
    format: BundleFormat,
    /// Directory that the policy's `extends` parents must live under (default: the working directory).
    #[arg(long)]
    root: Option<PathBuf>,
    /// Exit 1 on advisory warnings too (a join planned over unknown row counts, say); failed
    /// capture steps and findings always give exit 1.
    #[arg(long)]
    deny_warnings: bool,
}

pub(super) fn run(args: Args, out: &mut dyn Write) -> Result<u8, Stop> {
    let policy = super::load(&args.policy, args.root)?;
    let workload = workload::load(&args.workload)?;
    let query = if args.query.is_file() {
        workload.query_file(&args.query).map_err(|report| {
            eprint!("{}", render::render(&report, render::Format::Human));
            Stop::Findings
        })?
    } else {
        let wanted = args.query.to_string_lossy();
        match workload.query(&wanted) {
            Some(query) => query.clone(),
            None => {
                return Err(super::usage(format!(
                    "`{wanted}` is neither a file nor a query of workload `{}`",
                    workload.name
                )));
            }
        }
    };
    let factory = SessionFactory::new(policy.compiled)?;
    let bundle = super::block_on(async {
        let bundler = Bundler::new(&factory, &workload).await?;
        let mut builder = bundler.bundle(&query);
        if let Some(name) = args.parameters {
            builder = builder.parameters(name);
        }
        builder.await
    })?;
    match args.format {
        BundleFormat::Json => emit(out, &bundle.to_json())?,
        BundleFormat::Text => emit(out, &bundle.to_text())?,
        BundleFormat::Html => emit(out, &crate::review::bundle_page(&bundle))?,
    }
    for finding in &bundle.findings {
        eprintln!("finding: {}: {}", finding.code, finding.message);
    }
    for warning in &bundle.warnings {
        eprintln!(
            "warning ({}): {}: {}",
            warning.kind(),
            warning.step,
            warning.message
        );
    }
    Ok(super::exit_code(bundle.fails(args.deny_warnings)))
}
