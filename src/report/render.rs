//! Findings as text for people (rustc style), JSON for tools, and GitHub workflow annotations.

use annotate_snippets::{
    Annotation, AnnotationKind, Element, Group, Level, Origin, Renderer, Snippet,
};
use serde::Serialize;

use super::diagnostic::{Diagnostic, Location, Note, Report, Severity, counted};
use super::source::Span;
use crate::secrets::{mask, redact};

/// How findings are written: for people, for tools, or as GitHub workflow annotations. The CLI's
/// `--format` of every command that reports findings takes these names.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Default,
    clap::ValueEnum,
    strum::Display,
    strum::IntoStaticStr,
)]
#[strum(serialize_all = "lowercase")]
pub enum Format {
    /// rustc-style text with the offending line, notes, help and a summary line.
    #[default]
    Human,
    /// An array of `{file, line, column, severity, code, message, help}`.
    Json,
    /// `::error file=…,line=…,col=…,title=code::message`.
    Github,
}

/// A whole report in one format. Every stage's findings are written with this.
pub fn render(report: &Report, format: Format) -> String {
    match format {
        Format::Human => human_report(report),
        Format::Json => json(&report.diagnostics),
        Format::Github => github(&report.diagnostics),
    }
}

/// One finding in `--format json`.
#[derive(Debug, Serialize)]
pub struct JsonDiagnostic<'a> {
    /// The file, as shown.
    pub file: &'a str,
    /// 1-based line; 0 without a place.
    pub line: usize,
    /// 1-based column; 0 without a place.
    pub column: usize,
    /// `error` or `warning`.
    pub severity: Severity,
    /// The code's name (`unknown-setting`).
    pub code: &'static str,
    /// What is wrong.
    pub message: &'a str,
    /// How to fix it.
    pub help: Option<&'a str>,
}

/// rustc-style text: the message, the line with a caret under the offending key or value, notes, help.
pub fn human(diagnostic: &Diagnostic) -> String {
    let level = match diagnostic.severity {
        Severity::Error => Level::ERROR,
        Severity::Warning => Level::WARNING,
    };
    let title = level
        .primary_title(diagnostic.message.as_str())
        .id(<&str>::from(diagnostic.code));
    let mut elements: Vec<Element<'_>> = Vec::new();
    match &diagnostic.location {
        Some(location) => {
            let same_file: Vec<&Note> = diagnostic
                .notes
                .iter()
                .filter(|n| {
                    n.location
                        .as_ref()
                        .is_some_and(|o| o.file.path == location.file.path)
                })
                .collect();
            let covered = same_file
                .iter()
                .filter_map(|n| n.location.as_ref())
                .fold(location.span.clone(), |all, o| {
                    all.start.min(o.span.start)..all.end.max(o.span.end)
                });
            let (excerpt, snippet) = excerpt(location, &covered);
            let mut snippet =
                snippet.annotation(AnnotationKind::Primary.span(shift(&location.span, &excerpt)));
            for note in same_file {
                let other = note.location.as_ref().expect("filtered on a location");
                snippet = snippet.annotation(
                    AnnotationKind::Context
                        .span(shift(&other.span, &excerpt))
                        .label(note.message.as_str()),
                );
            }
            elements.push(snippet.into());
        }
        None => elements.push(Origin::path(diagnostic.file()).into()),
    }
    for note in &diagnostic.notes {
        match &note.location {
            Some(other)
                if diagnostic
                    .location
                    .as_ref()
                    .is_some_and(|l| l.file.path == other.file.path) => {}
            Some(other) => {
                let (excerpt, snippet) = excerpt(other, &other.span);
                elements.push(
                    snippet
                        .annotation(
                            AnnotationKind::Context
                                .span(shift(&other.span, &excerpt))
                                .label(note.message.as_str()),
                        )
                        .into(),
                )
            }
            None => elements.push(Level::NOTE.message(note.message.as_str()).into()),
        }
    }
    if let Some(help) = &diagnostic.help {
        elements.push(Level::HELP.message(help.as_str()).into());
    }
    let report = [Group::with_title(title).elements(elements)];
    redact(&Renderer::plain().render(&report).to_string()).into_owned()
}

/// The lines of `location`'s file that cover `span`, as a snippet numbered as in the file: rendering
/// costs the size of the excerpt, not of the file, so a report stays linear in the number of findings.
fn excerpt<'a>(location: &'a Location, span: &Span) -> (Span, Snippet<'a, Annotation<'a>>) {
    let (lines, first_line) = location.file.lines_around(span);
    let text = location.file.text.get(lines.clone()).unwrap_or_default();
    // Masked rather than redacted, so that carets still point at the right columns.
    let snippet = Snippet::source(mask(text))
        .line_start(first_line)
        .path(location.file.display_path.as_str())
        .fold(true);
    (lines, snippet)
}

/// A span of the file as a span of an excerpt starting at `excerpt.start`, kept inside the excerpt.
fn shift(span: &Span, excerpt: &Span) -> Span {
    let start = span.start.clamp(excerpt.start, excerpt.end) - excerpt.start;
    let end = span.end.clamp(excerpt.start, excerpt.end) - excerpt.start;
    start..end.max(start)
}

/// The whole report for people, with a closing summary line.
pub fn human_report(report: &Report) -> String {
    let mut out = String::new();
    for diagnostic in &report.diagnostics {
        out.push_str(&human(diagnostic));
        out.push_str("\n\n");
    }
    out.push_str(&format!(
        "{} checked: {}, {}\n",
        report.noun.count(report.files.len()),
        counted(report.errors(), "error", "errors"),
        counted(report.warnings(), "warning", "warnings"),
    ));
    out
}

/// `[{file, line, column, severity, code, message, help}]`, in report order.
pub fn json(diagnostics: &[Diagnostic]) -> String {
    let rows: Vec<JsonDiagnostic<'_>> = diagnostics
        .iter()
        .map(|d| {
            let (line, column) = d.line_column();
            JsonDiagnostic {
                file: d.file(),
                line,
                column,
                severity: d.severity,
                code: d.code.into(),
                message: &d.message,
                help: d.help.as_deref(),
            }
        })
        .collect();
    let mut text = serde_json::to_string_pretty(&rows).expect("diagnostics serialize");
    text.push('\n');
    redact(&text).into_owned()
}

/// GitHub Actions workflow commands (`::error file=…,line=…,col=…,title=…::message`).
pub fn github(diagnostics: &[Diagnostic]) -> String {
    let mut out = String::new();
    for d in diagnostics {
        let (line, column) = d.line_column();
        let command = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let mut message = d.message.clone();
        if let Some(help) = &d.help {
            message.push_str("\nhelp: ");
            message.push_str(help);
        }
        out.push_str(&format!(
            "::{command} file={},line={line},col={column},title={}::{}\n",
            escape_property(d.file()),
            escape_property(d.code.into()),
            escape_data(&redact(&message))
        ));
    }
    out
}

pub(crate) fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

pub(crate) fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}
