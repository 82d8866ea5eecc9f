//! `dfpolicy data tpch [--sf 0.01] [--dir DIR]`, `dfpolicy data snapshot-tpch --sf N --out DIR`

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use clap::Subcommand;

use super::{EXIT_OK, Stop, emit};
use crate::workload::snapshot::ARCHIVE_FILE;
use crate::workload::tpch::data::{DEFAULT_SCALE_FACTOR, TpchData, default_data_root};

#[derive(Debug, Subcommand)]
pub enum Args {
    /// Generate TPC-H data as Parquet and as Delta tables (skipped for a form that exists).
    Tpch(TpchArgs),
    /// Regenerate a built-in production-scale snapshot (`snapshots/tpch-sf<N>/`) without writing the
    /// data: each Parquet file of a lake layout is encoded for real into a sink that keeps its
    /// tail, then every query is planned over the tails under every policy and what planning read is
    /// kept, as an archive (`snapshot.json`, `snapshot.bin.zst`).
    SnapshotTpch(SnapshotTpchArgs),
}

#[derive(Debug, clap::Args)]
pub struct SnapshotTpchArgs {
    /// Scale factor (10 and 100 are built in).
    #[arg(long, value_parser = scale_factor)]
    sf: f64,
    /// The archive folder to write (created if missing; its snapshot files are replaced).
    #[arg(long)]
    out: PathBuf,
    /// The policies whose reads the snapshot keeps: a folder (every `*.toml` below it) or one file.
    #[arg(long, default_value = "policies")]
    policies: PathBuf,
    /// Where the generated tails are kept between runs (default: the data root, as for `data tpch`).
    #[arg(long)]
    dir: Option<PathBuf>,
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
    let args = match args {
        Args::Tpch(args) => args,
        Args::SnapshotTpch(args) => return snapshot_tpch(args, out),
    };
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

fn snapshot_tpch(args: SnapshotTpchArgs, out: &mut dyn Write) -> Result<u8, Stop> {
    let policies = crate::harness::PolicySet::load(&args.policies)?;
    let root = args.dir.unwrap_or_else(default_data_root);
    let data = TpchData::new(&root, args.sf);
    let started = Instant::now();
    let snapshot = super::block_on(crate::harness::snapshot_tpch(&policies, &data))?;
    snapshot.write_archive(&args.out)?;
    let archive = std::fs::metadata(args.out.join(ARCHIVE_FILE))
        .map(|m| m.len())
        .unwrap_or_default();
    emit(
        out,
        &format!(
            "{}archive: {} ({archive} bytes compressed)\n",
            snapshot.summary(),
            crate::report::display_path(&args.out)
        ),
    )?;
    eprintln!("done in {:.1} s", started.elapsed().as_secs_f64());
    Ok(EXIT_OK)
}
