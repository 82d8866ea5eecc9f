//! Validation: TOML syntax, the generated JSON schema, and checks against DataFusion's registry.
//! Every finding is a [`Diagnostic`] with the file, line and column it is about.

pub mod render;
pub mod schema;
pub mod semantic;
pub mod suggest;

use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};

use crate::diagnostic::{Code, Diagnostic, Severity, normalize};
use crate::policy::ResolvedPolicy;
use crate::policy::document::display_path;
use crate::policy::load::{PolicyChain, load_chain};

/// Most policy files one run reads from directories (a guard against pointing at `/`).
pub const MAX_POLICY_FILES: usize = 10_000;
/// Deepest directory level searched for policies.
pub const MAX_DIRECTORY_DEPTH: usize = 32;

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
        let schema_findings = schema::check(&source.file, &source.tree);
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

/// The result of validating some paths.
#[derive(Debug, Default)]
pub struct Report {
    /// The policy files checked, as shown to users, sorted.
    pub files: Vec<String>,
    pub diagnostics: Vec<Diagnostic>,
}

impl Report {
    pub fn errors(&self) -> usize {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .map(Diagnostic::weight)
            .sum()
    }

    pub fn warnings(&self) -> usize {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Warning)
            .map(Diagnostic::weight)
            .sum()
    }

    /// Whether the run fails: any error, or any warning under `strict`.
    pub fn fails(&self, strict: bool) -> bool {
        self.errors() > 0 || (strict && self.warnings() > 0)
    }
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

/// The root `extends` may not leave when validating `path`.
pub fn default_root(path: &Path) -> PathBuf {
    let own = if path.is_dir() {
        path.to_path_buf()
    } else {
        path.parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .to_path_buf()
    };
    let own = own.canonicalize().unwrap_or(own);
    match std::env::current_dir().and_then(|d| d.canonicalize()) {
        Ok(cwd) if own.starts_with(&cwd) => cwd,
        _ => own,
    }
}

/// The policy files a path names: the file itself, or every `*.toml` below a directory, sorted.
/// Symbolic links to directories are not followed, so a link loop cannot hang the walk.
pub fn policy_files(path: &Path) -> (Vec<PathBuf>, Vec<Diagnostic>) {
    let shown = display_path(path);
    match std::fs::metadata(path) {
        Err(e) => (
            Vec::new(),
            vec![
                Diagnostic::new(Code::UnreadableFile, format!("cannot read `{shown}`: {e}"))
                    .with_path(shown),
            ],
        ),
        Ok(m) if m.is_dir() => {
            let mut files = Vec::new();
            let mut problems = Vec::new();
            walk(path, 0, &mut files, &mut problems);
            files.sort();
            (files, problems)
        }
        Ok(_) => (vec![path.to_path_buf()], Vec::new()),
    }
}

fn walk(dir: &Path, depth: usize, files: &mut Vec<PathBuf>, problems: &mut Vec<Diagnostic>) {
    if depth > MAX_DIRECTORY_DEPTH {
        problems.push(
            Diagnostic::new(
                Code::UnreadableFile,
                format!(
                    "directories nested deeper than {MAX_DIRECTORY_DEPTH} levels are not searched"
                ),
            )
            .with_path(display_path(dir)),
        );
        return;
    }
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => {
            problems.push(
                Diagnostic::new(Code::UnreadableFile, format!("cannot list directory: {e}"))
                    .with_path(display_path(dir)),
            );
            return;
        }
    };
    let mut entries: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for entry in entries {
        if files.len() >= MAX_POLICY_FILES {
            problems.push(
                Diagnostic::new(
                    Code::UnreadableFile,
                    format!("more than {MAX_POLICY_FILES} policy files; the rest were not read"),
                )
                .with_path(display_path(dir)),
            );
            return;
        }
        let Ok(metadata) = std::fs::symlink_metadata(&entry) else {
            continue;
        };
        let is_toml = entry.extension().is_some_and(|e| e == "toml");
        if metadata.is_dir() {
            walk(&entry, depth + 1, files, problems);
        } else if is_toml
            && (metadata.is_file() || (metadata.file_type().is_symlink() && entry.is_file()))
        {
            files.push(entry);
        } else if is_toml && metadata.file_type().is_symlink() && !entry.exists() {
            let target = std::fs::read_link(&entry)
                .map(|t| t.display().to_string())
                .unwrap_or_default();
            problems.push(
                Diagnostic::new(
                    Code::UnreadableFile,
                    format!(
                        "`{}` is a symbolic link to `{target}`, which does not exist",
                        display_path(&entry)
                    ),
                )
                .with_path(display_path(&entry)),
            );
        }
    }
}

/// A policy that failed to load, with every finding.
#[derive(Debug, Clone)]
pub struct PolicyError {
    pub diagnostics: Vec<Diagnostic>,
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let errors: Vec<String> = self
            .diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .map(Diagnostic::to_string)
            .collect();
        write!(f, "invalid policy: {}", errors.join("; "))
    }
}

impl std::error::Error for PolicyError {}

/// A policy that was read, merged with its parents and validated.
#[derive(Debug, Clone)]
pub struct Policy {
    pub resolved: ResolvedPolicy,
    /// Warnings found while validating (never errors: a policy with errors does not load).
    pub warnings: Vec<Diagnostic>,
}

/// Loads policies; see [`Policy::load`].
#[derive(Debug, Clone, Default)]
pub struct PolicyLoader {
    root: Option<PathBuf>,
    strict: bool,
}

impl PolicyLoader {
    /// The directory `extends` parents must live under.
    pub fn root(mut self, root: impl Into<PathBuf>) -> Self {
        self.root = Some(root.into());
        self
    }

    /// Treat warnings as errors.
    pub fn strict(mut self, strict: bool) -> Self {
        self.strict = strict;
        self
    }

    pub fn load(&self, path: impl AsRef<Path>) -> Result<Policy, PolicyError> {
        let path = path.as_ref();
        let root = self.root.clone().unwrap_or_else(|| default_root(path));
        let (chain, mut diagnostics) = load_chain(path, &root);
        let Some(chain) = chain else {
            return Err(PolicyError { diagnostics });
        };
        diagnostics.extend(validate_chain(&chain));
        normalize(&mut diagnostics);
        let failed = diagnostics.iter().any(|d| {
            d.severity == Severity::Error || (self.strict && d.severity == Severity::Warning)
        });
        if failed {
            return Err(PolicyError { diagnostics });
        }
        let resolved = ResolvedPolicy::from_chain(&chain).map_err(|message| PolicyError {
            diagnostics: vec![
                Diagnostic::new(Code::InvalidValue, message).with_path(display_path(path)),
            ],
        })?;
        Ok(Policy {
            resolved,
            warnings: diagnostics,
        })
    }
}

impl Policy {
    /// Reads a policy, follows `extends`, validates everything and returns the merged policy.
    pub fn load(path: impl AsRef<Path>) -> Result<Policy, PolicyError> {
        PolicyLoader::default().load(path)
    }

    pub fn loader() -> PolicyLoader {
        PolicyLoader::default()
    }

    pub fn name(&self) -> &str {
        self.resolved.name()
    }
}
