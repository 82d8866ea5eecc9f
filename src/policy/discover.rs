//! Finding policy files: the files and directories a user names, walked in a fixed order with limits,
//! and the directory tree `extends` may not leave.

use std::path::{Path, PathBuf};

use crate::report::{Code, Diagnostic, display_path};

/// Most policy files one run reads from directories (a guard against pointing at `/`).
pub const MAX_POLICY_FILES: usize = 10_000;
/// Deepest directory level searched for policies.
pub const MAX_DIRECTORY_DEPTH: usize = 32;

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
