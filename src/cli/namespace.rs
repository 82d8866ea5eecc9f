//! `dfpolicy namespace POLICY QUERY.sql... [--format human|json|github] [--root DIR]`

use std::io::Write;
use std::path::PathBuf;

use super::{FindingsFormat, Stop, emit, exit_code, load};
use crate::report::render;
use crate::session::check_namespace_files;

#[derive(Debug, clap::Args)]
pub struct Args {
    policy: PathBuf,
    /// SQL files (several statements each are fine).
    #[arg(required = true)]
    queries: Vec<PathBuf>,
    #[arg(long, value_enum, default_value_t = FindingsFormat::Human)]
    format: FindingsFormat,
    #[arg(long)]
    root: Option<PathBuf>,
}

pub(super) fn run(args: Args, out: &mut dyn Write) -> Result<u8, Stop> {
    let policy = load(&args.policy, args.root)?;
    let report = check_namespace_files(&policy.compiled, &args.queries);
    emit(out, &render::render(&report, args.format))?;
    Ok(exit_code(!report.diagnostics.is_empty()))
}
