//! `dfpolicy diff A B [--format text|json] [--root DIR]`

use std::io::Write;
use std::path::PathBuf;

use super::{ListFormat, Stop, emit, exit_code, load, pretty_json};
use crate::compile::diff;

#[derive(Debug, clap::Args)]
pub struct Args {
    left: PathBuf,
    right: PathBuf,
    #[arg(long, value_enum, default_value_t = ListFormat::Text)]
    format: ListFormat,
    #[arg(long)]
    root: Option<PathBuf>,
}

pub(super) fn run(args: Args, out: &mut dyn Write) -> Result<u8, Stop> {
    // Both policies are loaded before either error stops the command, so all findings show.
    let (left, right) = (
        load(&args.left, args.root.clone()),
        load(&args.right, args.root),
    );
    let difference = diff(&left?.compiled, &right?.compiled);
    let text = match args.format {
        ListFormat::Text => difference.to_text(),
        ListFormat::Json => pretty_json(&difference),
    };
    emit(out, &text)?;
    Ok(exit_code(difference.plan_environment_differs))
}
