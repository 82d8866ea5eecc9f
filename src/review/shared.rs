//! What a page writes once and refers to from everywhere else it appears: a plan tree or a diff
//! that several cells share (policies that plan a query alike), and `DataSourceExec` file groups
//! (the same scans recur in most cells). Keeps a 110-cell page small without scripts.

use std::collections::HashMap;
use std::fmt::Write as _;

use super::markup::{Html, escape};

#[derive(Default)]
pub struct Shared {
    /// Markup already written, to the id and name of the cell that holds it.
    blocks: HashMap<String, (String, String)>,
    /// File group texts, in the order they were first met.
    files: Vec<String>,
    file_numbers: HashMap<String, usize>,
}

impl Shared {
    /// Writes `markup` (a rendered tree or diff) unless the page holds the same already; then a
    /// line that links to the cell where it is.
    pub fn once(&mut self, html: &mut Html, what: &str, markup: String, id: &str, name: &str) {
        match self.blocks.get(&markup) {
            Some((first_id, first_name)) => {
                let _ = write!(
                    html,
                    "<p class=\"same-as\">{} identical to that of <a href=\"#{first_id}\">{}</a>.</p>",
                    escape(what),
                    escape(first_name)
                );
            }
            None => {
                html.raw(&markup);
                self.blocks
                    .insert(markup, (id.to_string(), name.to_string()));
            }
        }
    }

    /// The number of a file group text in the page's list of files.
    pub fn file_groups(&mut self, text: &str) -> usize {
        if let Some(&number) = self.file_numbers.get(text) {
            return number;
        }
        self.files.push(text.to_string());
        self.file_numbers
            .insert(text.to_string(), self.files.len() - 1);
        self.files.len() - 1
    }

    /// The list of file groups the trees link to.
    pub fn write_files(&self, html: &mut Html) {
        if self.files.is_empty() {
            return;
        }
        html.raw(
            "<section class=\"files\"><h2>Scanned files</h2><p>The file groups of the plans' \
             scans, each listed once (paths as the bundles normalize them).</p>",
        );
        for (number, text) in self.files.iter().enumerate() {
            let _ = write!(
                html,
                "<details class=\"files\" id=\"files-{number}\"><summary>{}</summary><code>{}</code></details>",
                escape(&summary(text)),
                escape(text)
            );
        }
        html.raw("</section>");
    }
}

/// `{4 groups: [[a, b:0..9], [b:9..20]]}` → `4 groups, 3 file ranges` (a file split between groups
/// is one range in each; `...` in DataFusion's list stands for ranges it left out: `3+`).
pub fn summary(text: &str) -> String {
    let body = text.trim_start_matches('{').trim_end_matches('}');
    let groups = body.split(':').next().unwrap_or("").trim();
    let listed = body
        .split(", ")
        .filter(|part| !part.trim_matches(['[', ']']).is_empty() && !part.contains("..."))
        .count();
    let more = if body.contains("...]") { "+" } else { "" };
    format!("{groups}, {listed}{more} file ranges")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summarizes_file_groups() {
        assert_eq!(
            summary("{2 groups: [[a.parquet:0..5, b.parquet], [c.parquet]]}"),
            "2 groups, 3 file ranges"
        );
        assert_eq!(
            summary("{1 group: [[a, b, ...]]}"),
            "1 group, 2+ file ranges"
        );
    }

    #[test]
    fn writes_a_block_once_then_links_to_it() {
        let (mut shared, mut html) = (Shared::default(), Html::default());
        shared.once(&mut html, "Plan", "<ul>x</ul>".into(), "c0-1", "q01 × a");
        shared.once(&mut html, "Plan", "<ul>x</ul>".into(), "c0-2", "q01 × b");
        let text = html.into_string();
        assert_eq!(text.matches("<ul>x</ul>").count(), 1);
        assert!(text.contains("<a href=\"#c0-1\">q01 × a</a>"), "{text}");
    }
}
