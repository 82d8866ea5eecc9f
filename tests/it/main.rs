//! The one integration-test binary: each module reads like documentation of one capability.

#[cfg(feature = "ballista")]
mod ballista;
mod ballista_policy;
mod browser;
mod bundle;
mod bundle_analyses;
mod classification;
mod cli;
#[cfg(feature = "cloud")]
mod cloud;
mod compile;
mod fixtures;
mod fuzz;
mod hardening;
mod harness;
mod names;
mod policies;
mod readme;
mod registry_coverage;
mod review;
mod robustness;
mod schema_drift;
mod sensitivity;
mod session;
mod snapshot;
mod store;
mod workload;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The `dfpolicy` binary with `args`, to run in `cwd` as CI runs it (`CI` set: no progress bars).
pub fn dfpolicy_command(args: &[&str], cwd: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_dfpolicy"));
    command.args(args).env("CI", "true").current_dir(cwd);
    command
}

/// `dfpolicy ARGS` run in `cwd`, as CI runs it.
pub fn dfpolicy(args: &[&str], cwd: &Path) -> Output {
    dfpolicy_command(args, cwd)
        .output()
        .expect("the dfpolicy binary runs")
}

/// The repository root (tests run with it as the working directory).
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn fixtures() -> PathBuf {
    repo().join("tests/fixtures")
}

/// Paths in output are relative to the working directory; tests run from the repository root.
pub fn relative(path: &Path) -> PathBuf {
    path.strip_prefix(repo())
        .map(Path::to_path_buf)
        .unwrap_or_else(|_| path.to_path_buf())
}

/// Every file below a folder, by its path relative to the folder, sorted.
pub fn files_below(folder: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![folder.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else {
                found.push(path.strip_prefix(folder).unwrap().to_path_buf());
            }
        }
    }
    found.sort();
    found
}

/// Copies a folder with everything below it.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}
