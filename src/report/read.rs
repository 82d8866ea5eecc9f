//! Reading source files without blocking and within a size limit; every failure is a finding.

use std::path::Path;
use std::sync::Arc;

use super::diagnostic::{Code, Diagnostic};
use super::source::{SourceFile, display_path};

/// Reads a UTF-8 text file of the kind `what` (`"policy"`, `"query"`) with [`read_bounded`]: every
/// failure is a finding located in the file or naming it.
pub fn read_source(
    path: &Path,
    what: &str,
    limit: usize,
) -> Result<Arc<SourceFile>, Box<Diagnostic>> {
    let shown = display_path(path);
    let bytes = read_bounded(path, limit)
        .map_err(|problem| Box::new(problem.finding(what, limit, &shown)))?;
    let absolute = path.canonicalize().map_err(|e| {
        Box::new(
            Diagnostic::new(
                Code::UnreadableFile,
                format!("cannot read {what} file: {e}"),
            )
            .with_path(&shown),
        )
    })?;
    match String::from_utf8(bytes) {
        Ok(text) => Ok(Arc::new(SourceFile::new(shown, absolute, text))),
        Err(error) => {
            let valid_up_to = error.utf8_error().valid_up_to();
            let bytes = error.into_bytes();
            let prefix = String::from_utf8_lossy(&bytes[..valid_up_to]).into_owned();
            let file = Arc::new(SourceFile::new(shown, absolute, prefix));
            Err(Box::new(
                Diagnostic::new(
                    Code::NotUtf8,
                    format!("{what} files must be UTF-8; byte {valid_up_to} is not valid UTF-8"),
                )
                .at(&file, valid_up_to..valid_up_to)
                .with_help("save the file as UTF-8"),
            ))
        }
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
    /// The file system's error.
    Io(std::io::Error),
    /// A directory, FIFO, socket or device, named.
    NotAFile(&'static str),
    /// Larger than the limit.
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
