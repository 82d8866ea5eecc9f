//! `dfpolicy schema [policy|workload|bundle|settings] [--check] [--path FILE]`

use std::io::Write;
use std::path::PathBuf;

use clap::ValueEnum;

use super::{EXIT_FINDINGS, EXIT_OK, Stop, emit};
use crate::validate::schema as policy;
use crate::workload::file as workload;
use crate::{bundle, compile};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Kind {
    Policy,
    Workload,
    Bundle,
    /// The settings reference page (Markdown), not a JSON schema: generated from the registry
    /// like the schemas and checked like them.
    Settings,
}

impl Kind {
    fn generated(self) -> String {
        match self {
            Kind::Policy => policy::schema_text(),
            Kind::Workload => workload::schema_text(),
            Kind::Bundle => bundle::schema_text(),
            Kind::Settings => compile::settings_markdown(&compile::setting_listing()),
        }
    }

    fn checked_in(self) -> &'static str {
        match self {
            Kind::Policy => policy::SCHEMA_PATH,
            Kind::Workload => workload::SCHEMA_PATH,
            Kind::Bundle => bundle::SCHEMA_PATH,
            Kind::Settings => compile::SETTINGS_REFERENCE_PATH,
        }
    }
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Which schema (default: policy; with --check and no kind, all four: the three schemas and
    /// the settings reference page).
    #[arg(value_enum)]
    kind: Option<Kind>,
    /// Exit 1 if the checked-in schema differs from the generated one.
    #[arg(long)]
    check: bool,
    /// The checked-in schema, for --check with one kind (default: schema/<kind>.schema.json).
    #[arg(long, requires = "kind")]
    path: Option<PathBuf>,
}

pub(super) fn run(args: Args, out: &mut dyn Write) -> Result<u8, Stop> {
    if !args.check {
        emit(out, &args.kind.unwrap_or(Kind::Policy).generated())?;
        return Ok(EXIT_OK);
    }
    let kinds = match args.kind {
        Some(kind) => vec![kind],
        None => vec![Kind::Policy, Kind::Workload, Kind::Bundle, Kind::Settings],
    };
    let mut stale = false;
    for kind in kinds {
        let path = args
            .path
            .clone()
            .unwrap_or_else(|| PathBuf::from(kind.checked_in()));
        let shown = path.display();
        if std::fs::read_to_string(&path).unwrap_or_default() == kind.generated() {
            emit(out, &format!("{shown} is up to date\n"))?;
        } else {
            let name = kind.to_possible_value().expect("a named kind");
            emit(
                out,
                &format!(
                    "{shown} is stale; regenerate it with: dfpolicy schema {} > {shown}\n",
                    name.get_name()
                ),
            )?;
            stale = true;
        }
    }
    Ok(if stale { EXIT_FINDINGS } else { EXIT_OK })
}
