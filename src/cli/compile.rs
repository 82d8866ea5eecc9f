//! `dfpolicy compile FILE [--format toml|json] [--root DIR]`

use std::io::Write;
use std::path::PathBuf;

use super::{DocumentFormat, EXIT_OK, Stop, emit, load};

#[derive(Debug, clap::Args)]
pub struct Args {
    file: PathBuf,
    #[arg(long, value_enum, default_value_t = DocumentFormat::Toml)]
    format: DocumentFormat,
    #[arg(long)]
    root: Option<PathBuf>,
}

pub(super) fn run(args: Args, out: &mut dyn Write) -> Result<u8, Stop> {
    let compiled = load(&args.file, args.root)?.compiled;
    let text = match args.format {
        DocumentFormat::Toml => compiled.to_toml(),
        DocumentFormat::Json => compiled.to_json(),
    };
    emit(out, &text)?;
    Ok(EXIT_OK)
}
