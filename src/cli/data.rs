//! `dfpolicy data tpch [--sf 0.01] [--dir DIR]`

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use clap::Subcommand;

use super::{EXIT_OK, Stop, emit};
use crate::workload::tpch::data::{DEFAULT_SCALE_FACTOR, TpchData, default_data_root};

#[derive(Debug, Subcommand)]
pub enum Args {
    /// Generate TPC-H data as Parquet and as Delta tables (skipped for a form that exists).
    Tpch(TpchArgs),
}

#[derive(Debug, clap::Args)]
pub struct TpchArgs {
    /// Scale factor (0.01 is about 10 MB of Parquet; 1 about 1 GB).
    #[arg(long, default_value_t = DEFAULT_SCALE_FACTOR, value_parser = scale_factor)]
    sf: f64,
    /// Data root (default: $DFPOLICY_DATA_DIR, else the platform cache folder + dfpolicy).
    #[arg(long)]
    dir: Option<PathBuf>,
}

/// A `--sf` that is not a scale factor.
#[derive(Debug, thiserror::Error)]
#[error("`{0}` is not a scale factor between 0 and 1000")]
struct ScaleFactorError(String);

fn scale_factor(text: &str) -> Result<f64, ScaleFactorError> {
    match text.parse::<f64>() {
        Ok(sf) if sf.is_finite() && sf > 0.0 && sf <= 1000.0 => Ok(sf),
        _ => Err(ScaleFactorError(text.to_string())),
    }
}

pub(super) fn run(args: Args, out: &mut dyn Write) -> Result<u8, Stop> {
    let Args::Tpch(args) = args;
    let root = args.dir.unwrap_or_else(default_data_root);
    let data = TpchData::new(&root, args.sf);
    let started = Instant::now();
    let parquet = data.ensure_parquet()?;
    emit(out, &format!("parquet: {}\n", parquet.display()))?;
    let delta = super::block_on(data.ensure_delta())?;
    emit(out, &format!("delta:   {}\n", delta.display()))?;
    eprintln!("done in {:.1} s", started.elapsed().as_secs_f64());
    Ok(EXIT_OK)
}
