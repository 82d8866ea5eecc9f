//! Validation: TOML syntax, the generated JSON schema, and checks against DataFusion's registry.
//! Every finding is a [`Diagnostic`] with the file, line and column it is about.

pub mod schema;
pub(crate) mod semantic;
pub(crate) mod shape;
pub(crate) mod suggest;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::policy::discover::{default_root, policy_files};
use crate::policy::load::{PolicyChain, load_chain};
use crate::report::{Diagnostic, Report, display_path, normalize};

/// All findings for a policy chain: syntax, schema and registry checks of every file in it, and the
/// checks of the merged result.
///
/// A value the schema rejects is not checked again against the registry, so each mistake is reported
/// once. When `extends` could not be followed to the end (`chain.complete` is false), the checks of the
/// merged policy are skipped: a missing parent may pin what the merge lacks.
pub fn validate_chain(chain: &PolicyChain) -> Vec<Diagnostic> {
    let per_source: Vec<semantic::Settings<'_>> = chain
        .sources
        .iter()
        .map(|s| semantic::explicit_settings(&s.tree))
        .collect();
    let mut out = Vec::new();
    for (index, source) in chain.sources.iter().enumerate() {
        let schema_findings = shape::check(&source.file, &source.tree);
        let rejected: BTreeSet<usize> = schema_findings
            .iter()
            .filter_map(|d| d.location.as_ref().map(|l| l.span.start))
            .collect();
        out.extend(schema_findings);
        out.extend(
            semantic::check_source(chain, index, &per_source)
                .into_iter()
                .filter(|d| {
                    d.location.as_ref().is_none_or(|l| {
                        l.file.path != source.file.path || !rejected.contains(&l.span.start)
                    })
                }),
        );
    }
    if chain.complete {
        out.extend(semantic::check_resolved(chain, &per_source));
    }
    normalize(&mut out);
    out
}

/// Validates files and directories (every `*.toml` below a directory). `root` bounds where `extends`
/// parents may live; by default it is the working directory for paths below it, else the argument's
/// own directory.
pub fn validate_paths(paths: &[PathBuf], root: Option<&Path>) -> Report {
    let mut report = Report::default();
    let mut seen = BTreeSet::new();
    for path in paths {
        let (files, mut problems) = policy_files(path);
        report.diagnostics.append(&mut problems);
        let root = root
            .map(Path::to_path_buf)
            .unwrap_or_else(|| default_root(path));
        for file in files {
            let canonical = file.canonicalize().unwrap_or_else(|_| file.clone());
            if !seen.insert(canonical) {
                continue;
            }
            report.files.push(display_path(&file));
            let (chain, mut load_problems) = load_chain(&file, &root);
            report.diagnostics.append(&mut load_problems);
            if let Some(chain) = chain {
                report.diagnostics.extend(validate_chain(&chain));
            }
        }
    }
    report.files.sort();
    normalize(&mut report.diagnostics);
    report
}
