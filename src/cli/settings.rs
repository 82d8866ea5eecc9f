//! `dfpolicy settings [--format text|json] [--rules]`

use std::io::Write;

use super::{EXIT_OK, ListFormat, Stop, emit, pretty_json};
use crate::compile::{rule_listing, rules_text, setting_listing, settings_text};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[arg(long, value_enum, default_value_t = ListFormat::Text)]
    format: ListFormat,
    /// List the optimizer rules of a default session instead.
    #[arg(long)]
    rules: bool,
}

pub(super) fn run(args: Args, out: &mut dyn Write) -> Result<u8, Stop> {
    let text = match (args.rules, args.format) {
        (false, ListFormat::Text) => settings_text(&setting_listing()),
        (false, ListFormat::Json) => pretty_json(&setting_listing()),
        (true, ListFormat::Text) => rules_text(&rule_listing()),
        (true, ListFormat::Json) => pretty_json(&rule_listing()),
    };
    emit(out, &text)?;
    Ok(EXIT_OK)
}
