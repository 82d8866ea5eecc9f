//! Source files of every kind dfpolicy reads (policies, queries, workloads): their text and the map from
//! byte offsets to `line:column`.

use std::path::{Path, PathBuf};

/// Byte range in a source file.
pub type Span = std::ops::Range<usize>;

/// A policy file's text with what is needed to turn byte offsets into `line:column`.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The path shown to users: relative to the working directory when possible, `/`-separated.
    pub display_path: String,
    /// The canonical absolute path (used for `extends` and cycle detection).
    pub path: PathBuf,
    /// The file's text.
    pub text: String,
    line_starts: Vec<usize>,
    /// Characters before every [`CHECKPOINT_BYTES`]-th byte, so that a column is found in constant
    /// time even on a line of a megabyte.
    char_checkpoints: Vec<usize>,
}

const CHECKPOINT_BYTES: usize = 256;

impl SourceFile {
    /// A file read from `path`, shown as `display_path`.
    pub fn new(display_path: String, path: PathBuf, text: String) -> Self {
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        let mut char_checkpoints = Vec::with_capacity(text.len() / CHECKPOINT_BYTES + 1);
        let mut chars = 0;
        for block in text.as_bytes().chunks(CHECKPOINT_BYTES) {
            char_checkpoints.push(chars);
            chars += count_chars(block);
        }
        char_checkpoints.push(chars);
        SourceFile {
            display_path,
            path,
            text,
            line_starts,
            char_checkpoints,
        }
    }

    /// Characters before a byte offset (counting the character it falls inside, if any).
    fn chars_before(&self, offset: usize) -> usize {
        let block = offset / CHECKPOINT_BYTES;
        let start = block * CHECKPOINT_BYTES;
        self.char_checkpoints[block] + count_chars(&self.text.as_bytes()[start..offset])
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_column(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = self.line_of(offset);
        let start = self.line_starts[line];
        let column = self.chars_before(offset) - self.chars_before(start);
        (line + 1, column + 1)
    }

    /// The byte offset of a 1-based line and column (in characters), clamped to the text; the
    /// inverse of [`SourceFile::line_column`], for positions other parsers report.
    pub fn offset_of(&self, line: usize, column: usize) -> usize {
        let Some(&start) = self.line_starts.get(line.saturating_sub(1)) else {
            return self.text.len();
        };
        self.text[start..]
            .char_indices()
            .take_while(|(_, c)| *c != '\n')
            .nth(column.saturating_sub(1))
            .map_or_else(
                || {
                    self.line_starts
                        .get(line)
                        .map_or(self.text.len(), |next| next - 1)
                },
                |(i, _)| start + i,
            )
    }

    /// 0-based index of the line holding a byte offset.
    fn line_of(&self, offset: usize) -> usize {
        self.line_starts.partition_point(|&start| start <= offset) - 1
    }

    /// The whole lines covering `span`: their byte range and the 1-based number of the first, for
    /// showing an excerpt instead of the whole file.
    pub fn lines_around(&self, span: &Span) -> (Span, usize) {
        let first = self.line_of(span.start.min(self.text.len()));
        let last = self.line_of(span.end.min(self.text.len()));
        let end = self
            .line_starts
            .get(last + 1)
            .copied()
            .unwrap_or(self.text.len());
        (self.line_starts[first]..end, first + 1)
    }
}

/// Characters in a byte slice of UTF-8 text that may start or end inside a character: the bytes that
/// are not continuation bytes.
fn count_chars(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| (b & 0xC0) != 0x80).count()
}

/// The path shown to users for `path`: relative to the working directory if below it, with `/`.
pub fn display_path(path: &Path) -> String {
    let cwd = std::env::current_dir()
        .ok()
        .and_then(|d| d.canonicalize().ok());
    let shown = match (&cwd, path.canonicalize()) {
        (Some(cwd), Ok(abs)) => abs.strip_prefix(cwd).map(Path::to_path_buf).unwrap_or(abs),
        // A path that does not exist (yet) is shortened as written.
        (Some(cwd), Err(_)) => path
            .strip_prefix(cwd)
            .map(Path::to_path_buf)
            .unwrap_or_else(|_| path.to_path_buf()),
        _ => path.to_path_buf(),
    };
    let text = shown.to_string_lossy().replace('\\', "/");
    match text.strip_prefix("./").unwrap_or(&text) {
        // The working directory itself: an empty name would read as a missing one.
        "" => ".".to_string(),
        text => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_columns_count_characters() {
        let file = SourceFile::new(
            "p.toml".into(),
            "p.toml".into(),
            "a = 1\nbé = \"x\"\n".into(),
        );
        assert_eq!(file.line_column(0), (1, 1));
        assert_eq!(file.line_column(6), (2, 1));
        // byte 12 is just after "bé = " (é is two bytes)
        assert_eq!(file.line_column(12), (2, 6));
    }
}
