//! `dfpolicy validate PATH... [--strict] [--format human|json|github] [--root DIR]`

use std::io::Write;
use std::path::PathBuf;

use super::{FindingsArgs, Stop, emit, exit_code};
use crate::report::render;
use crate::validate::validate_paths;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Policy files or directories.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    #[command(flatten)]
    findings: FindingsArgs,
    /// Directory that `extends` parents must live under (default: the working directory).
    #[arg(long)]
    root: Option<PathBuf>,
}

pub(super) fn run(args: Args, out: &mut dyn Write) -> Result<u8, Stop> {
    let report = validate_paths(&args.paths, args.root.as_deref());
    emit(out, &render::render(&report, args.findings.format))?;
    Ok(exit_code(report.fails(args.findings.strict)))
}
