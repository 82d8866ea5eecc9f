//! Findings as values: what is wrong, where, and how to fix it. Every stage reports with these.

use std::fmt;
use std::sync::Arc;

use super::source::{SourceFile, Span};

named_enum! {
    names = "lowercase";
    pub enum Severity {
        Error,
        Warning,
    }
}

/// Declares every finding code once: its variant (whose kebab-case spelling is the stable name used
/// in output and documentation) and its severity.
macro_rules! codes {
    ($($(#[$doc:meta])* $variant:ident, $severity:ident;)*) => {
        /// Every kind of finding, with a stable name used in output and documentation (the README's table
        /// of codes lists each; a test checks it): `Display` and `&'static str::from` give it.
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, strum::Display,
            strum::IntoStaticStr, strum::VariantArray,
        )]
        #[strum(serialize_all = "kebab-case")]
        pub enum Code {
            $($(#[$doc])* $variant,)*
        }

        impl Code {
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            /// Warnings are findings that do not fail a run unless `--strict`.
            pub fn severity(self) -> Severity {
                match self {
                    $(Code::$variant => Severity::$severity,)*
                }
            }
        }
    };
}

codes! {
    UnreadableFile, Error;
    NotUtf8, Error;
    FileTooLarge, Error;
    TomlSyntax, Error;
    MissingKey, Error;
    WrongType, Error;
    OutOfRange, Error;
    InvalidValue, Error;
    InvalidEnum, Error;
    UnknownSection, Error;
    UnknownKey, Error;
    UnknownSetting, Error;
    ConflictingSetting, Error;
    ForcedSetting, Error;
    BallistaForcedSetting, Error;
    IncompatibleWriterOptions, Error;
    DynamicFilterConflict, Error;
    UnknownRule, Error;
    MemoryPoolWithoutLimit, Error;
    ExtendsMissing, Error;
    ExtendsCycle, Error;
    ExtendsOutsideRoot, Error;
    ExtendsTooDeep, Error;
    InvalidEngineRequirement, Error;
    EngineMismatch, Error;
    UnpinnedMachineSetting, Warning;
    RedundantDefault, Warning;
    DuplicateSetting, Warning;
    UnqualifiedTable, Error;
    InvalidSql, Error;
    OptionNotForFormat, Error;
    DuplicateTable, Error;
    LocationNotFound, Error;
    NotADeltaTable, Error;
    DeltaVersionMissing, Error;
    NoMatchingQueries, Error;
    DuplicateQueryName, Error;
    SettingInQuery, Error;
    NoQueryStatement, Error;
    UnsupportedStatement, Error;
    UnknownFunction, Error;
    UnknownFormat, Error;
    UnknownWorkload, Error;
    UnknownParameterQuery, Error;
    DuplicateParameterSet, Error;
    ParameterMismatch, Error;
    MissingParameters, Error;
    UnreadableSnapshot, Error;
}

/// A place in a source file.
#[derive(Debug, Clone)]
pub struct Location {
    pub file: Arc<SourceFile>,
    pub span: Span,
}

impl Location {
    pub fn new(file: &Arc<SourceFile>, span: Span) -> Self {
        Location {
            file: Arc::clone(file),
            span,
        }
    }

    pub fn line_column(&self) -> (usize, usize) {
        self.file.line_column(self.span.start)
    }
}

/// A secondary place that explains the finding ("first set here").
#[derive(Debug, Clone)]
pub struct Note {
    pub location: Option<Location>,
    pub message: String,
}

#[derive(Debug, Clone)]
pub struct Diagnostic {
    pub code: Code,
    pub severity: Severity,
    pub message: String,
    /// Where the finding is; only findings about a path that cannot be read lack a place in a file.
    pub location: Option<Location>,
    /// A file path to report when there is no location (an unreadable file).
    pub path: Option<String>,
    pub help: Option<String>,
    pub notes: Vec<Note>,
    /// For a closing "… and N more" finding, the N findings of its code in its file that were left
    /// out (see [`MAX_FINDINGS_PER_KIND`]); 0 for an ordinary finding.
    pub omitted: usize,
}

/// Most findings of one code reported per file; the rest are counted in one closing finding, so that
/// a file with 100,000 unknown keys is reported in linear time and in a readable report.
pub const MAX_FINDINGS_PER_KIND: usize = 50;

impl Diagnostic {
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Diagnostic {
            code,
            severity: code.severity(),
            message: message.into(),
            location: None,
            path: None,
            help: None,
            notes: Vec::new(),
            omitted: 0,
        }
    }

    pub fn at(mut self, file: &Arc<SourceFile>, span: Span) -> Self {
        self.location = Some(Location::new(file, span));
        self
    }

    pub fn with_path(mut self, path: impl Into<String>) -> Self {
        self.path = Some(path.into());
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn with_help_opt(mut self, help: Option<String>) -> Self {
        self.help = help;
        self
    }

    pub fn with_note(mut self, location: Option<Location>, message: impl Into<String>) -> Self {
        self.notes.push(Note {
            location,
            message: message.into(),
        });
        self
    }

    /// How many findings this one stands for: itself, or the findings a closing "… and N more"
    /// finding counts.
    pub fn weight(&self) -> usize {
        self.omitted.max(1)
    }

    /// The file the finding is in, as shown to users.
    pub fn file(&self) -> &str {
        self.location
            .as_ref()
            .map(|l| l.file.display_path.as_str())
            .or(self.path.as_deref())
            .unwrap_or("")
    }

    /// 1-based line and column; `(1, 1)` when the finding has no place in the file.
    pub fn line_column(&self) -> (usize, usize) {
        self.location.as_ref().map_or((1, 1), Location::line_column)
    }

    /// Sort key: file, position, code, message — the order findings are reported in.
    pub fn sort_key(&self) -> (String, usize, usize, Code, String) {
        let (line, column) = self.line_column();
        (
            self.file().to_string(),
            line,
            column,
            self.code,
            self.message.clone(),
        )
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (line, column) = self.line_column();
        write!(
            f,
            "{}:{line}:{column}: {}[{}]: {}",
            self.file(),
            self.severity,
            self.code,
            crate::secrets::redact(&self.message)
        )
    }
}

/// Sorts findings into report order, drops exact repeats (a parent policy checked once per child),
/// and keeps at most [`MAX_FINDINGS_PER_KIND`] findings of one code per file: the rest become one
/// finding, "… and N more", at the place of the first one left out.
pub fn normalize(diagnostics: &mut Vec<Diagnostic>) {
    diagnostics.sort_by_cached_key(Diagnostic::sort_key);
    diagnostics.dedup_by(|a, b| {
        a.code == b.code
            && a.message == b.message
            && a.file() == b.file()
            && a.line_column() == b.line_column()
    });
    let mut kept: Vec<Diagnostic> = Vec::with_capacity(diagnostics.len());
    let mut counts: std::collections::HashMap<(String, Code), (usize, Option<usize>)> =
        std::collections::HashMap::new();
    for diagnostic in diagnostics.drain(..) {
        let (seen, summary) = counts
            .entry((diagnostic.file().to_string(), diagnostic.code))
            .or_default();
        *seen += diagnostic.weight();
        if *seen <= MAX_FINDINGS_PER_KIND && diagnostic.omitted == 0 {
            kept.push(diagnostic);
            continue;
        }
        match *summary {
            Some(index) => kept[index].omitted += diagnostic.weight(),
            None => {
                *summary = Some(kept.len());
                let mut more = Diagnostic::new(diagnostic.code, String::new());
                more.location = diagnostic.location.clone();
                more.path = diagnostic.path.clone();
                more.omitted = diagnostic.weight();
                kept.push(more);
            }
        }
    }
    for diagnostic in &mut kept {
        if diagnostic.omitted > 0 {
            diagnostic.message = format!(
                "… and {} in this file",
                counted(
                    diagnostic.omitted,
                    &format!("more `{}` finding", diagnostic.code),
                    &format!("more `{}` findings", diagnostic.code)
                )
            );
        }
    }
    *diagnostics = kept;
}

/// What kind of file a report is about, for its summary line ("3 policies checked").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Noun {
    pub one: &'static str,
    pub many: &'static str,
}

/// `n` and the noun in the number that fits: `counted(1, "run", "runs")` is `1 run`, and `counted(3,
/// "run", "runs")` is `3 runs`. Every count in dfpolicy's output is written by it.
pub fn counted(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

impl Noun {
    pub const POLICY: Noun = Noun {
        one: "policy",
        many: "policies",
    };
    pub const QUERY: Noun = Noun {
        one: "query file",
        many: "query files",
    };
    pub const WORKLOAD: Noun = Noun {
        one: "workload",
        many: "workloads",
    };

    pub fn count(self, n: usize) -> String {
        counted(n, self.one, self.many)
    }
}

impl Default for Noun {
    fn default() -> Self {
        Noun::POLICY
    }
}

/// The findings of a run over some files.
#[derive(Debug, Default)]
pub struct Report {
    /// The files checked, as shown to users, sorted.
    pub files: Vec<String>,
    pub diagnostics: Vec<Diagnostic>,
    pub noun: Noun,
}

impl Report {
    pub fn errors(&self) -> usize {
        self.count(Severity::Error)
    }

    pub fn warnings(&self) -> usize {
        self.count(Severity::Warning)
    }

    fn count(&self, severity: Severity) -> usize {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == severity)
            .map(Diagnostic::weight)
            .sum()
    }

    /// Whether the run fails: any error, or any warning under `strict`.
    pub fn fails(&self, strict: bool) -> bool {
        self.errors() > 0 || (strict && self.warnings() > 0)
    }
}
