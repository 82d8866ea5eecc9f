//! Reading policy files and following `extends` into one merged document.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::document::{
    FileId, MAX_POLICY_BYTES, Node, NodeValue, PathSegment, SourceFile, display_path,
};
use crate::diagnostic::{Code, Diagnostic, Location};

/// Longest `extends` chain followed before giving up (a chain this long is a mistake, not a design).
pub const MAX_EXTENDS_DEPTH: usize = 32;

/// One parsed policy file.
#[derive(Debug, Clone)]
pub struct PolicySource {
    pub file: Arc<SourceFile>,
    pub tree: Node,
}

/// A policy and its ancestors, the policy first.
#[derive(Debug, Clone)]
pub struct PolicyChain {
    pub sources: Vec<PolicySource>,
    /// Every `extends` was followed to a readable parent.
    pub complete: bool,
}

impl PolicyChain {
    pub fn leaf(&self) -> &PolicySource {
        &self.sources[0]
    }

    /// The source a node came from.
    pub fn source(&self, origin: FileId) -> &PolicySource {
        &self.sources[origin]
    }

    /// The chain merged into one tree: each child over its parent. Scalars and arrays are replaced,
    /// tables merge key by key, and `optimizer.disabled_rules` is the union of both lists. The
    /// merged tree has no `policy.extends`: it is resolved.
    pub fn merged(&self) -> Node {
        let mut sources = self.sources.iter().rev();
        let mut merged = sources.next().expect("a chain has a leaf").tree.clone();
        for child in sources {
            merge_into(&mut merged, &child.tree, &mut Vec::new());
        }
        if let NodeValue::Table(root) = &mut merged.value
            && let Some(NodeValue::Table(policy)) = root.get_mut("policy").map(|n| &mut n.value)
        {
            policy.remove("extends");
            // A description describes one file: the child's, or none.
            match self
                .leaf()
                .tree
                .get("policy")
                .and_then(|p| p.get("description"))
            {
                Some(own) => {
                    policy.insert("description".to_string(), own.clone());
                }
                None => {
                    policy.remove("description");
                }
            }
        }
        merged
    }

    /// `a.toml → b.toml → c.toml`, for messages.
    pub fn describe(&self) -> String {
        self.sources
            .iter()
            .map(|s| s.file.display_path.as_str())
            .collect::<Vec<_>>()
            .join(" → ")
    }
}

fn merge_into(base: &mut Node, over: &Node, path: &mut Vec<String>) {
    let union = path.len() == 1 && path[0] == "optimizer";
    match (&mut base.value, &over.value) {
        (NodeValue::Table(base_table), NodeValue::Table(over_table)) => {
            for (key, child) in over_table {
                match base_table.get_mut(key) {
                    Some(existing) => {
                        path.push(key.clone());
                        if union
                            && key == "disabled_rules"
                            && let (NodeValue::Array(items), NodeValue::Array(extra)) =
                                (&mut existing.value, &child.value)
                        {
                            for item in extra {
                                if !items.iter().any(|i| i.value == item.value) {
                                    items.push(item.clone());
                                }
                            }
                            existing.origin = child.origin;
                            existing.key_span = child.key_span.clone();
                            existing.span = child.span.clone();
                        } else {
                            merge_into(existing, child, path);
                        }
                        path.pop();
                    }
                    None => {
                        base_table.insert(key.clone(), child.clone());
                    }
                }
            }
        }
        _ => *base = over.clone(),
    }
}

/// Reads at most `limit + 1` bytes of a regular file, without blocking on FIFOs or devices and without
/// trusting the size the file system reports (`/proc` files report 0 and then read gigabytes).
pub fn read_bounded(path: &Path, limit: usize) -> Result<Vec<u8>, ReadProblem> {
    use std::io::Read;
    // Checked before opening: opening a FIFO for reading waits for a writer.
    let metadata = std::fs::metadata(path).map_err(ReadProblem::Io)?;
    if !metadata.is_file() {
        return Err(ReadProblem::NotAFile(file_kind(&metadata)));
    }
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // If the path was swapped for a FIFO since the check, opening must still not wait.
        options.custom_flags(libc::O_NONBLOCK);
    }
    let mut file = options.open(path).map_err(ReadProblem::Io)?;
    let opened = file.metadata().map_err(ReadProblem::Io)?;
    if !opened.is_file() {
        return Err(ReadProblem::NotAFile(file_kind(&opened)));
    }
    // Fixed, aligned chunks: some kernel files (`/proc/self/pagemap`) refuse reads of odd sizes.
    let mut bytes = Vec::new();
    let mut chunk = vec![0u8; 64 * 1024];
    while bytes.len() <= limit {
        let read = match file.read(&mut chunk) {
            Ok(0) => break,
            Ok(read) => read,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(ReadProblem::Io(e)),
        };
        bytes.extend_from_slice(&chunk[..read]);
    }
    if bytes.len() > limit {
        return Err(ReadProblem::TooLarge);
    }
    Ok(bytes)
}

/// Why [`read_bounded`] read nothing.
#[derive(Debug)]
pub enum ReadProblem {
    Io(std::io::Error),
    /// A directory, FIFO, socket or device, named.
    NotAFile(&'static str),
    TooLarge,
}

impl ReadProblem {
    /// The finding for a `what` file (`"policy"`, `"query"`) that [`read_bounded`] refused, shown as
    /// `shown`, read with `limit`.
    pub fn finding(self, what: &str, limit: usize, shown: &str) -> Diagnostic {
        let (code, message) = match self {
            ReadProblem::Io(e) => (
                Code::UnreadableFile,
                format!("cannot read {what} file: {e}"),
            ),
            ReadProblem::NotAFile(kind) => (
                Code::UnreadableFile,
                format!("cannot read {what} file: it is {kind}"),
            ),
            ReadProblem::TooLarge => (
                Code::FileTooLarge,
                format!("{what} file is larger than {limit} bytes, the largest accepted"),
            ),
        };
        Diagnostic::new(code, message).with_path(shown)
    }
}

fn file_kind(metadata: &std::fs::Metadata) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let kind = metadata.file_type();
        if kind.is_fifo() {
            return "a FIFO";
        }
        if kind.is_socket() {
            return "a socket";
        }
        if kind.is_char_device() || kind.is_block_device() {
            return "a device";
        }
    }
    if metadata.is_dir() {
        "a directory"
    } else {
        "not a regular file"
    }
}

/// Reads and parses one policy file. Every failure is a diagnostic pointing at the file.
pub fn read_policy(path: &Path, origin: FileId) -> Result<PolicySource, Box<Diagnostic>> {
    let shown = display_path(path);
    let bytes = read_bounded(path, MAX_POLICY_BYTES)
        .map_err(|problem| Box::new(problem.finding("policy", MAX_POLICY_BYTES, &shown)))?;
    let unreadable = |e: std::io::Error| {
        Diagnostic::new(
            Code::UnreadableFile,
            format!("cannot read policy file: {e}"),
        )
        .with_path(&shown)
    };
    let absolute = path.canonicalize().map_err(unreadable)?;
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(error) => {
            let valid_up_to = error.utf8_error().valid_up_to();
            let bytes = error.into_bytes();
            let prefix = String::from_utf8_lossy(&bytes[..valid_up_to]).into_owned();
            let file = Arc::new(SourceFile::new(shown, absolute, prefix));
            return Err(Box::new(
                Diagnostic::new(
                    Code::NotUtf8,
                    format!("policy files must be UTF-8; byte {valid_up_to} is not valid UTF-8"),
                )
                .at(&file, valid_up_to..valid_up_to)
                .with_help("save the file as UTF-8"),
            ));
        }
    };
    let file = Arc::new(SourceFile::new(shown, absolute, text));
    match Node::parse(&file.text, origin) {
        Ok(tree) => Ok(PolicySource { file, tree }),
        Err((message, span)) => {
            let span = span.unwrap_or(0..0);
            Err(Box::new(
                Diagnostic::new(Code::TomlSyntax, first_line(&message)).at(&file, span),
            ))
        }
    }
}

fn first_line(message: &str) -> String {
    message.lines().next().unwrap_or(message).trim().to_string()
}

/// Loads a policy and its `extends` ancestors. `root` bounds where parents may live.
///
/// Returns the chain as far as it could be read plus every finding about reading it. The chain is
/// `None` when the policy file itself cannot be read.
pub fn load_chain(path: &Path, root: &Path) -> (Option<PolicyChain>, Vec<Diagnostic>) {
    let mut diagnostics = Vec::new();
    let leaf = match read_policy(path, 0) {
        Ok(leaf) => leaf,
        Err(d) => return (None, vec![*d]),
    };
    let root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    let mut sources = vec![leaf];
    let mut incomplete = false;
    loop {
        let current = sources.last().expect("chain is never empty");
        let Some(extends) = current.tree.at(&[
            PathSegment::Key("policy".into()),
            PathSegment::Key("extends".into()),
        ]) else {
            break;
        };
        let Some(relative) = extends.as_str() else {
            // The schema reports the wrong type; the chain stops here, so it is not complete.
            incomplete = true;
            break;
        };
        let here = Location::new(&current.file, extends.span.clone());
        let chain_text = |extra: &str| {
            let mut names: Vec<&str> = sources
                .iter()
                .map(|s| s.file.display_path.as_str())
                .collect();
            names.push(extra);
            names.join(" → ")
        };
        if sources.len() > MAX_EXTENDS_DEPTH {
            diagnostics.push(
                Diagnostic::new(
                    Code::ExtendsTooDeep,
                    format!("`extends` chain is longer than {MAX_EXTENDS_DEPTH} policies"),
                )
                .at(&here.file, here.span.clone())
                .with_note(None, format!("chain: {}", chain_text(relative))),
            );
            break;
        }
        let base = current.file.path.parent().unwrap_or(Path::new("/"));
        let target: PathBuf = base.join(relative);
        let Ok(canonical) = target.canonicalize() else {
            diagnostics.push(
                Diagnostic::new(
                    Code::ExtendsMissing,
                    format!("parent policy `{relative}` does not exist"),
                )
                .at(&here.file, here.span.clone())
                .with_note(None, format!("chain: {}", chain_text(relative)))
                .with_help(format!(
                    "`extends` is relative to the directory of {}",
                    current.file.display_path
                )),
            );
            break;
        };
        if let Some(position) = sources.iter().position(|s| s.file.path == canonical) {
            let cycle: Vec<&str> = sources[position..]
                .iter()
                .map(|s| s.file.display_path.as_str())
                .chain(std::iter::once(
                    sources[position].file.display_path.as_str(),
                ))
                .collect();
            diagnostics.push(
                Diagnostic::new(
                    Code::ExtendsCycle,
                    format!("`extends` forms a cycle: {}", cycle.join(" → ")),
                )
                .at(&here.file, here.span.clone())
                .with_help("remove `extends` from one policy of the cycle"),
            );
            break;
        }
        if !canonical.starts_with(&root) {
            diagnostics.push(
                Diagnostic::new(
                    Code::ExtendsOutsideRoot,
                    format!(
                        "parent policy `{relative}` is outside the policy tree `{}`",
                        display_path(&root)
                    ),
                )
                .at(&here.file, here.span.clone())
                .with_note(None, format!("chain: {}", chain_text(relative)))
                .with_help(
                    "keep parents in the directory tree being validated, or widen it with `--root`",
                ),
            );
            break;
        }
        match read_policy(&canonical, sources.len()) {
            Ok(parent) => sources.push(parent),
            Err(d) if d.location.is_none() => {
                // The parent cannot be read at all: say so where it is named.
                diagnostics.push(
                    Diagnostic::new(
                        d.code,
                        format!("parent policy `{relative}` cannot be used: {}", d.message),
                    )
                    .at(&here.file, here.span.clone())
                    .with_note(None, format!("chain: {}", chain_text(relative)))
                    .with_help("`extends` names a policy file, relative to this file's directory"),
                );
                break;
            }
            Err(d) => {
                diagnostics.push(*d);
                break;
            }
        }
    }
    let complete = diagnostics.is_empty() && !incomplete;
    (Some(PolicyChain { sources, complete }), diagnostics)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(texts: &[&str]) -> PolicyChain {
        PolicyChain {
            sources: texts
                .iter()
                .enumerate()
                .map(|(i, t)| PolicySource {
                    file: Arc::new(SourceFile::new(
                        format!("{i}.toml"),
                        format!("/{i}.toml").into(),
                        t.to_string(),
                    )),
                    tree: Node::parse(t, i).unwrap(),
                })
                .collect(),
            complete: true,
        }
    }

    #[test]
    fn child_overrides_scalars_merges_tables_and_unions_disabled_rules() {
        let c = chain(&[
            "[policy]\nname='child'\nextends='p.toml'\n[execution]\nbatch_size=10\n[optimizer]\ndisabled_rules=['b','c']\n",
            "[policy]\nname='parent'\n[execution]\nbatch_size=5\ntarget_partitions=4\n[optimizer]\ndisabled_rules=['a','b']\n",
        ]);
        let merged = c.merged().to_json();
        assert_eq!(merged["policy"], serde_json::json!({"name": "child"}));
        assert_eq!(
            merged["execution"],
            serde_json::json!({"batch_size": 10, "target_partitions": 4})
        );
        assert_eq!(
            merged["optimizer"]["disabled_rules"],
            serde_json::json!(["a", "b", "c"])
        );
    }
}
