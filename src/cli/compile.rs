//! `dfpolicy compile FILE [--format toml|json] [--root DIR]`

use std::io::Write;

use super::{DocumentArgs, DocumentFormat, EXIT_OK, Stop, emit, load};

pub(super) fn run(args: DocumentArgs, out: &mut dyn Write) -> Result<u8, Stop> {
    let compiled = load(&args.file, args.root)?.compiled;
    let text = match args.format {
        DocumentFormat::Toml => compiled.to_toml(),
        DocumentFormat::Json => compiled.to_json(),
    };
    emit(out, &text)?;
    Ok(EXIT_OK)
}
