//! `dfpolicy resolve FILE [--format toml|json] [--root DIR]`

use std::io::Write;

use super::{DocumentArgs, DocumentFormat, EXIT_OK, Stop, emit, load, pretty_json};

pub(super) fn run(args: DocumentArgs, out: &mut dyn Write) -> Result<u8, Stop> {
    let policy = load(&args.file, args.root)?;
    let text = match args.format {
        DocumentFormat::Toml => policy.resolved.to_toml(),
        DocumentFormat::Json => pretty_json(&policy.resolved.options),
    };
    emit(out, &text)?;
    Ok(EXIT_OK)
}
