//! `dfpolicy schema [--check] [--path schema/policy.schema.json]`

use std::io::Write;
use std::path::PathBuf;

use super::{EXIT_FINDINGS, EXIT_OK, Stop, emit};
use crate::validate::schema::{SCHEMA_PATH, schema_text};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Exit 1 if the schema file differs from the generated schema.
    #[arg(long)]
    check: bool,
    /// The checked-in schema, for --check.
    #[arg(long, default_value = SCHEMA_PATH)]
    path: PathBuf,
}

pub(super) fn run(args: Args, out: &mut dyn Write) -> Result<u8, Stop> {
    let generated = schema_text();
    if !args.check {
        emit(out, &generated)?;
        return Ok(EXIT_OK);
    }
    let path = args.path.display();
    if std::fs::read_to_string(&args.path).unwrap_or_default() == generated {
        emit(out, &format!("{path} is up to date\n"))?;
        Ok(EXIT_OK)
    } else {
        emit(
            out,
            &format!("{path} is stale; regenerate it with: dfpolicy schema > {path}\n"),
        )?;
        Ok(EXIT_FINDINGS)
    }
}
