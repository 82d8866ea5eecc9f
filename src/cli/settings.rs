//! `dfpolicy settings [--format text|json] [--rules] [--evidence DIR]`

use std::io::Write;
use std::path::PathBuf;

use super::{EXIT_OK, ListFormat, Stop, emit, pretty_json};
use crate::compile::{rule_listing, rules_text, setting_listing, settings_text};
use crate::sensitivity::Sensitivity;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[arg(long, value_enum, default_value_t = ListFormat::Text)]
    format: ListFormat,
    /// List the optimizer rules of a default session instead.
    #[arg(long)]
    rules: bool,
    /// Where the sensitivity sweeps are that back each key's class with a measurement: every
    /// `*/sensitivity.json` below this folder (`check --bless` writes one per baseline).
    #[arg(long, default_value = "baselines")]
    evidence: PathBuf,
}

pub(super) fn run(args: Args, out: &mut dyn Write) -> Result<u8, Stop> {
    let mut listing = setting_listing();
    if !args.rules {
        let sweeps = sweeps_below(&args.evidence);
        for row in &mut listing {
            row.evidence = sweeps
                .iter()
                .filter_map(|sweep| {
                    let key = sweep.key(row.key)?;
                    let moved = key.moved().len();
                    let values = key.values.len();
                    Some(if values == 0 {
                        format!("not swept over {} (no candidate values)", sweep.workload)
                    } else if moved == 0 {
                        format!(
                            "moves none of the {} plans of {} ({values} value(s) tried)",
                            sweep.cells, sweep.workload
                        )
                    } else {
                        format!(
                            "moves {moved} of the {} plans of {} ({values} value(s) tried)",
                            sweep.cells, sweep.workload
                        )
                    })
                })
                .collect();
        }
    }
    let text = match (args.rules, args.format) {
        (false, ListFormat::Text) => settings_text(&listing),
        (false, ListFormat::Json) => pretty_json(&listing),
        (true, ListFormat::Text) => rules_text(&rule_listing()),
        (true, ListFormat::Json) => pretty_json(&rule_listing()),
    };
    emit(out, &text)?;
    Ok(EXIT_OK)
}

/// Every sweep kept below `folder` (`<folder>/<baseline>/sensitivity.json`), by folder name.
fn sweeps_below(folder: &std::path::Path) -> Vec<Sensitivity> {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return Vec::new();
    };
    let mut folders: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    folders.sort();
    folders
        .iter()
        .filter_map(|folder| crate::sensitivity::read_beside(folder))
        .collect()
}
