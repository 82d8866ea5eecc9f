//! Findings as values: what is wrong, where, and how to fix it. Every stage reports with these.

use std::fmt;
use std::sync::Arc;

use super::source::{SourceFile, Span};

named_enum! {
    names = "lowercase";
    /// How much a finding weighs.
    pub enum Severity {
        /// Fails the run.
        Error,
        /// Fails the run only under `--strict`.
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
            /// Every code, in declaration order.
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
    /// A file that cannot be read.
    UnreadableFile, Error;
    /// A file that is not UTF-8.
    NotUtf8, Error;
    /// A file larger than dfpolicy reads.
    FileTooLarge, Error;
    /// A file that is not TOML.
    TomlSyntax, Error;
    /// A required table or key is missing.
    MissingKey, Error;
    /// A value of the wrong TOML type.
    WrongType, Error;
    /// A number outside the option's bounds.
    OutOfRange, Error;
    /// A value the option cannot take.
    InvalidValue, Error;
    /// A value that is not one of the choices.
    InvalidEnum, Error;
    /// A table the policy language does not have.
    UnknownSection, Error;
    /// A key its table does not have.
    UnknownKey, Error;
    /// A `[settings]` key that no namespace has.
    UnknownSetting, Error;
    /// Two places set one option to different values.
    ConflictingSetting, Error;
    /// A value DataFusion replaces with another.
    ForcedSetting, Error;
    /// A value Ballista replaces with its own.
    BallistaForcedSetting, Error;
    /// Parquet writer options arrow-rs or DataFusion cannot write with.
    IncompatibleWriterOptions, Error;
    /// The dynamic-filter switch and its sub-flags disagree.
    DynamicFilterConflict, Error;
    /// A rule name in `disabled_rules` that no optimizer has.
    UnknownRule, Error;
    /// A memory pool without a memory limit.
    MemoryPoolWithoutLimit, Error;
    /// An `extends` parent that does not exist.
    ExtendsMissing, Error;
    /// `extends` parents that form a cycle.
    ExtendsCycle, Error;
    /// An `extends` parent outside the root folder.
    ExtendsOutsideRoot, Error;
    /// An `extends` chain longer than dfpolicy follows.
    ExtendsTooDeep, Error;
    /// An `engine` requirement that is not a version requirement.
    InvalidEngineRequirement, Error;
    /// A policy for another DataFusion release.
    EngineMismatch, Error;
    /// An option left to follow the machine (the CPU count).
    UnpinnedMachineSetting, Warning;
    /// A value equal to the default.
    RedundantDefault, Warning;
    /// One option set twice to the same value.
    DuplicateSetting, Warning;
    /// A table not named in full where the policy requires it.
    UnqualifiedTable, Error;
    /// SQL DataFusion's parser refuses.
    InvalidSql, Error;
    /// A table option its format does not take.
    OptionNotForFormat, Error;
    /// A workload table declared twice.
    DuplicateTable, Error;
    /// A table location that does not exist.
    LocationNotFound, Error;
    /// A Delta table location without a `_delta_log`.
    NotADeltaTable, Error;
    /// A pinned Delta version the log does not have.
    DeltaVersionMissing, Error;
    /// A query glob that matches no file.
    NoMatchingQueries, Error;
    /// Two query files with one name.
    DuplicateQueryName, Error;
    /// A `SET` in a query file: options belong to the policy.
    SettingInQuery, Error;
    /// A query file without a query.
    NoQueryStatement, Error;
    /// A statement a query file cannot hold.
    UnsupportedStatement, Error;
    /// A function the engine's sessions do not have.
    UnknownFunction, Error;
    /// A `STORED AS` format the engine's sessions do not have.
    UnknownFormat, Error;
    /// A workload name that is no file and no built-in workload.
    UnknownWorkload, Error;
    /// A parameter set for a query the workload does not have.
    UnknownParameterQuery, Error;
    /// Two parameter sets of one name for one query.
    DuplicateParameterSet, Error;
    /// Parameter values that do not match the query's placeholders.
    ParameterMismatch, Error;
    /// A query with placeholders and no parameter set.
    MissingParameters, Error;
    /// A snapshot folder that cannot be read.
    UnreadableSnapshot, Error;
}

/// A place in a source file.
#[derive(Debug, Clone)]
pub struct Location {
    /// The file.
    pub file: Arc<SourceFile>,
    /// Byte offsets in the file's text.
    pub span: Span,
}

impl Location {
    /// The place `span` in `file`.
    pub fn new(file: &Arc<SourceFile>, span: Span) -> Self {
        Location {
            file: Arc::clone(file),
            span,
        }
    }

    /// The 1-based line and column where the place starts.
    pub fn line_column(&self) -> (usize, usize) {
        self.file.line_column(self.span.start)
    }
}

/// A secondary place that explains the finding ("first set here").
#[derive(Debug, Clone)]
pub struct Note {
    /// Where, when the note points at a place.
    pub location: Option<Location>,
    /// What the note says.
    pub message: String,
}

/// One finding: a code, its severity, a message, where it is, and help to fix it.
#[derive(Debug, Clone)]
pub struct Diagnostic {
    /// What kind of finding it is.
    pub code: Code,
    /// The code's severity.
    pub severity: Severity,
    /// What is wrong.
    pub message: String,
    /// Where the finding is; only findings about a path that cannot be read lack a place in a file.
    pub location: Option<Location>,
    /// A file path to report when there is no location (an unreadable file).
    pub path: Option<String>,
    /// How to fix it.
    pub help: Option<String>,
    /// Other places that explain it.
    pub notes: Vec<Note>,
    /// For a closing "… and N more" finding, the N findings of its code in its file that were left
    /// out (see [`MAX_FINDINGS_PER_KIND`]); 0 for an ordinary finding.
    pub omitted: usize,
}

/// Most findings of one code reported per file; the rest are counted in one closing finding, so that
/// a file with 100,000 unknown keys is reported in linear time and in a readable report.
pub const MAX_FINDINGS_PER_KIND: usize = 50;

impl Diagnostic {
    /// A finding of `code` with `message`, nowhere yet.
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

    /// The finding at `span` in `file`.
    pub fn at(mut self, file: &Arc<SourceFile>, span: Span) -> Self {
        self.location = Some(Location::new(file, span));
        self
    }

    /// The finding about a file that has no place to point at (it cannot be read).
    pub fn with_path(mut self, path: impl Into<String>) -> Self {
        self.path = Some(path.into());
        self
    }

    /// The finding with help.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// The finding with help, when there is some.
    pub fn with_help_opt(mut self, help: Option<String>) -> Self {
        self.help = help;
        self
    }

    /// The finding with a note, at a place or not.
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
    /// The noun for one.
    pub one: &'static str,
    /// The noun for several.
    pub many: &'static str,
}

/// `n` and the noun in the number that fits: `counted(1, "run", "runs")` is `1 run`, and `counted(3,
/// "run", "runs")` is `3 runs`. Every count in dfpolicy's output is written by it.
pub fn counted(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

impl Noun {
    /// Policies.
    pub const POLICY: Noun = Noun {
        one: "policy",
        many: "policies",
    };
    /// Query files.
    pub const QUERY: Noun = Noun {
        one: "query file",
        many: "query files",
    };
    /// Workloads.
    pub const WORKLOAD: Noun = Noun {
        one: "workload",
        many: "workloads",
    };

    /// `n` of them (`1 policy`, `3 policies`).
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
    /// Every finding.
    pub diagnostics: Vec<Diagnostic>,
    /// What the files are.
    pub noun: Noun,
}

impl Report {
    /// How many findings are errors.
    pub fn errors(&self) -> usize {
        self.count(Severity::Error)
    }

    /// How many findings are warnings.
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
