//! Reporting shared by every stage: source files and spans, findings ([`Diagnostic`] with a [`Code`]),
//! and their renderings for people, tools and GitHub workflows. It depends on nothing but
//! [`crate::secrets`], so every stage can use it.

pub mod causes;
pub(crate) mod diagnostic;
pub(crate) mod read;
pub mod render;
pub(crate) mod source;

pub use diagnostic::{
    Code, Diagnostic, Location, MAX_FINDINGS_PER_KIND, Note, Noun, Report, Severity, counted,
    normalize,
};
pub use read::{ReadProblem, read_bounded, read_source};
pub use render::Format;
pub use source::{SourceFile, Span, display_path};
