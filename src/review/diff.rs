//! Two texts side by side, line by line, with the lines that differ marked: the plan diffs of a
//! changed cell. A table, so that it reads without scripts and copies as text.

use sha2::{Digest, Sha256};
use similar::{DiffOp, TextDiff};

use super::markup::{Html, escape};
use super::shared::summary;
use std::fmt::Write as _;

/// Unchanged lines kept around each change; longer unchanged runs fold into one row (the plan tree
/// below the diff holds every line).
const CONTEXT: usize = 2;

/// How much of a diff a table shows.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Extent {
    /// Every change, with [`CONTEXT`] unchanged lines around each.
    Whole,
    /// The first run of changed lines (at most [`FIRST_CHANGE_ROWS`] rows) with its context: where
    /// two plannings part ways.
    FirstChange,
}

/// Rows of changed lines [`Extent::FirstChange`] shows.
const FIRST_CHANGE_ROWS: usize = 8;

/// One row of a side-by-side diff: line numbers (from 0) and texts.
enum Row<'a> {
    Same(usize, &'a str, usize, &'a str),
    Changed(Option<(usize, &'a str)>, Option<(usize, &'a str)>),
    Folded(String),
}

/// A side-by-side diff, `left` (the baseline) then `right` (now), as a `<table class="diff">`;
/// rows are `same`, `del` (left only), `ins` (right only) or `chg` (a line replaced), and `fold`
/// for lines left out. Each side's line numbers (`<th>` cells: markup is most of a page's bytes)
/// start at 1. `DataSourceExec` file groups are
/// written as their count and a digest of the files ([`abbreviate_file_groups`]).
pub fn side_by_side(html: &mut Html, caption: &str, left: &str, right: &str, extent: Extent) {
    let (left, right) = (abbreviate_file_groups(left), abbreviate_file_groups(right));
    let diff = TextDiff::from_lines(&left, &right);
    let (old, new) = (diff.old_slices(), diff.new_slices());
    let mut table = Vec::new();
    let ops = diff.ops();
    for (position, op) in ops.iter().enumerate() {
        match *op {
            DiffOp::Equal {
                old_index,
                new_index,
                len,
            } => {
                let (first, last) = (position == 0, position + 1 == ops.len());
                let keep_head = if first { 0 } else { CONTEXT.min(len) };
                let keep_tail = if last {
                    0
                } else {
                    CONTEXT.min(len - keep_head)
                };
                // A fold of one line would take as much room as the line.
                let (keep_head, folded) = match len - keep_head - keep_tail {
                    1 => (keep_head + 1, 0),
                    folded => (keep_head, folded),
                };
                for i in 0..len {
                    if i == keep_head && folded > 0 {
                        table.push(Row::Folded(unchanged(folded)));
                    }
                    if i < keep_head || i >= len - keep_tail {
                        table.push(Row::Same(
                            old_index + i,
                            old[old_index + i],
                            new_index + i,
                            new[new_index + i],
                        ));
                    }
                }
            }
            DiffOp::Delete {
                old_index, old_len, ..
            } => pair(
                &mut table,
                old_index,
                &old[old_index..old_index + old_len],
                0,
                &[],
            ),
            DiffOp::Insert {
                new_index, new_len, ..
            } => pair(
                &mut table,
                0,
                &[],
                new_index,
                &new[new_index..new_index + new_len],
            ),
            DiffOp::Replace {
                old_index,
                old_len,
                new_index,
                new_len,
            } => pair(
                &mut table,
                old_index,
                &old[old_index..old_index + old_len],
                new_index,
                &new[new_index..new_index + new_len],
            ),
        }
    }
    if extent == Extent::FirstChange {
        first_change_only(&mut table);
    }
    let _ = write!(
        html,
        "<table class=\"diff\"><caption>{}</caption><colgroup><col class=\"n\"><col><col class=\"n\">\
         <col></colgroup><thead><tr><th colspan=\"2\">baseline</th><th colspan=\"2\">now</th></tr>\
         </thead><tbody>",
        escape(caption)
    );
    let line = |text: &str| escape(text.trim_end_matches(['\n', '\r']));
    let side = |text: Option<(usize, &str)>| match text {
        Some((number, text)) => format!("<th>{}</th><td>{}</td>", number + 1, line(text)),
        None => "<th></th><td class=\"gap\"></td>".to_string(),
    };
    for row in table {
        let _ = match row {
            Row::Same(old_number, old_text, new_number, new_text) => write!(
                html,
                "<tr class=\"same\"><th>{}</th><td>{}</td><th>{}</th><td>{}</td></tr>",
                old_number + 1,
                line(old_text),
                new_number + 1,
                line(new_text)
            ),
            Row::Changed(left, right) => {
                let class = match (left, right) {
                    (Some(_), Some(_)) => "chg",
                    (Some(_), None) => "del",
                    _ => "ins",
                };
                write!(
                    html,
                    "<tr class=\"{class}\">{}{}</tr>",
                    side(left),
                    side(right)
                )
            }
            Row::Folded(text) => write!(
                html,
                "<tr class=\"fold\"><td colspan=\"4\">{}</td></tr>",
                escape(&text)
            ),
        };
    }
    html.raw("</tbody></table>");
}

fn unchanged(lines: usize) -> String {
    format!(
        "⋯ {}",
        crate::report::counted(lines, "unchanged line", "unchanged lines")
    )
}

/// Changed lines, paired up: a row with both sides is a replaced line (`chg`), a row with one side
/// a removed (`del`) or added (`ins`) one.
fn pair<'a>(
    table: &mut Vec<Row<'a>>,
    old_start: usize,
    old: &[&'a str],
    new_start: usize,
    new: &[&'a str],
) {
    for i in 0..old.len().max(new.len()) {
        table.push(Row::Changed(
            old.get(i).map(|text| (old_start + i, *text)),
            new.get(i).map(|text| (new_start + i, *text)),
        ));
    }
}

/// Keeps the rows up to the first run of changes (at most [`FIRST_CHANGE_ROWS`] of them) and the
/// context after it; the rest becomes one folded row.
fn first_change_only(table: &mut Vec<Row<'_>>) {
    let Some(start) = table.iter().position(|r| matches!(r, Row::Changed(..))) else {
        return;
    };
    let run = table[start..]
        .iter()
        .take_while(|r| matches!(r, Row::Changed(..)))
        .count();
    let mut end = start + run.min(FIRST_CHANGE_ROWS);
    if run <= FIRST_CHANGE_ROWS {
        end += table[end..]
            .iter()
            .take(CONTEXT)
            .take_while(|r| matches!(r, Row::Same(..)))
            .count();
    }
    if end < table.len() {
        let rest = table.len() - end;
        table.truncate(end);
        table.push(Row::Folded(format!(
            "⋯ {} (the whole plans are diffed below)",
            crate::report::counted(rest, "more row", "more rows")
        )));
    }
}

/// `file_groups={4 groups: [[a:0..9, b], …]}` as `file_groups={4 groups, 7 file ranges,
/// #1a2b3c4d}`:
/// a diff line stays short, and any change of the groups still shows as a changed digest.
pub fn abbreviate_file_groups(plan: &str) -> String {
    const START: &str = "file_groups={";
    let mut out = String::with_capacity(plan.len());
    let mut rest = plan;
    while let Some(at) = rest.find(START) {
        let body_start = at + START.len();
        let mut depth = 1;
        let end = rest[body_start..].char_indices().find_map(|(i, c)| {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                _ => {}
            }
            (depth == 0).then_some(body_start + i)
        });
        let Some(end) = end else { break };
        let body = &rest[body_start..end];
        let digest = Sha256::digest(body.as_bytes());
        out.push_str(&rest[..body_start]);
        out.push_str(&format!(
            "{}, #{:02x}{:02x}{:02x}{:02x}}}",
            summary(body),
            digest[0],
            digest[1],
            digest[2],
            digest[3]
        ));
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_replaced_added_and_removed_lines() {
        let mut html = Html::default();
        side_by_side(
            &mut html,
            "plan",
            "a\nb\nc\n",
            "a\nB\nc\nd\n",
            Extent::Whole,
        );
        let text = html.into_string();
        assert_eq!(text.matches("<tr class=\"same\">").count(), 2, "{text}");
        assert_eq!(text.matches("<tr class=\"chg\">").count(), 1, "{text}");
        assert_eq!(text.matches("<tr class=\"ins\">").count(), 1, "{text}");
        assert!(text.contains("<th>2</th><td>B</td>"), "{text}");
    }

    #[test]
    fn folds_long_unchanged_runs_keeping_two_lines_of_context() {
        let left: String = (0..20).map(|i| format!("line {i}\n")).collect();
        let right = left.replace("line 10\n", "line ten\n");
        let mut html = Html::default();
        side_by_side(&mut html, "plan", &left, &right, Extent::Whole);
        let text = html.into_string();
        assert_eq!(text.matches("<tr class=\"same\">").count(), 4, "{text}");
        assert!(text.contains("⋯ 8 unchanged lines"), "{text}");
        assert!(text.contains("⋯ 7 unchanged lines"), "{text}");
    }

    #[test]
    fn the_first_change_alone_keeps_its_context_and_folds_the_rest() {
        let left: String = (0..30).map(|i| format!("line {i}\n")).collect();
        let right = left
            .replace("line 10\n", "line ten\n")
            .replace("line 20\n", "line twenty\n");
        let mut html = Html::default();
        side_by_side(&mut html, "plan", &left, &right, Extent::FirstChange);
        let text = html.into_string();
        assert_eq!(text.matches("<tr class=\"chg\">").count(), 1, "{text}");
        assert!(text.contains("line ten"), "{text}");
        assert!(!text.contains("line twenty"), "{text}");
        assert!(text.contains("⋯ 8 unchanged lines"), "{text}");
        assert!(
            text.contains("more rows (the whole plans are diffed below)"),
            "{text}"
        );
    }

    #[test]
    fn file_groups_become_a_count_and_a_digest() {
        let plan = "DataSourceExec: file_groups={2 groups: [[a.parquet:0..5, b.parquet], [c.parquet]]}, file_type=parquet";
        let short = abbreviate_file_groups(plan);
        assert!(
            short.starts_with("DataSourceExec: file_groups={2 groups, 3 file ranges, #"),
            "{short}"
        );
        assert!(short.ends_with("}, file_type=parquet"), "{short}");
        let other = abbreviate_file_groups(&plan.replace("0..5", "0..6"));
        assert_ne!(short, other);
    }
}
