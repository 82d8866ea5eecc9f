//! `dfpolicy resolve FILE [--format toml|json] [--root DIR]`

use std::io::Write;
use std::path::PathBuf;

use super::{DocumentFormat, EXIT_OK, Stop, emit, load, pretty_json};

#[derive(Debug, clap::Args)]
pub struct Args {
    file: PathBuf,
    #[arg(long, value_enum, default_value_t = DocumentFormat::Toml)]
    format: DocumentFormat,
    #[arg(long)]
    root: Option<PathBuf>,
}

pub(super) fn run(args: Args, out: &mut dyn Write) -> Result<u8, Stop> {
    let policy = load(&args.file, args.root)?;
    let text = match args.format {
        DocumentFormat::Toml => policy.resolved.to_toml(),
        DocumentFormat::Json => pretty_json(&policy.resolved.options),
    };
    emit(out, &text)?;
    Ok(EXIT_OK)
}
