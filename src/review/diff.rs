//! Two texts side by side, line by line, with the lines that differ marked: the plan diffs of a
//! changed cell. A table, so that it reads without scripts and copies as text.

use sha2::{Digest, Sha256};
use similar::{DiffOp, TextDiff};

use super::markup::{Html, escape};
use super::shared::summary;
use std::fmt::Write as _;

/// Unchanged lines kept around each change; longer unchanged runs fold into one row (the plan tree
/// below the diff holds every line).
const CONTEXT: usize = 3;

/// A side-by-side diff, `left` (the baseline) then `right` (now), as a `<table class="diff">`;
/// rows are `same`, `del` (left only), `ins` (right only) or `chg` (a line replaced), and `fold`
/// for a run of unchanged lines left out. Each side's line numbers start at 1. `DataSourceExec`
/// file groups are written as their count and a digest of the files ([`abbreviate_file_groups`]).
pub fn side_by_side(html: &mut Html, caption: &str, left: &str, right: &str) {
    let (left, right) = (abbreviate_file_groups(left), abbreviate_file_groups(right));
    let diff = TextDiff::from_lines(&left, &right);
    let (old, new) = (diff.old_slices(), diff.new_slices());
    let line = |text: &str| escape(text.trim_end_matches(['\n', '\r']));
    let _ = write!(
        html,
        "<table class=\"diff\"><caption>{}</caption><colgroup><col class=\"n\"><col><col class=\"n\">\
         <col></colgroup><thead><tr><th colspan=\"2\">baseline</th><th colspan=\"2\">now</th></tr>\
         </thead><tbody>",
        escape(caption)
    );
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
                let folded = len - keep_head - keep_tail;
                for i in (0..len).filter(|i| *i < keep_head || *i >= len - keep_tail) {
                    if i == len - keep_tail && folded > 0 {
                        fold(html, folded);
                    }
                    let _ = write!(
                        html,
                        "<tr class=\"same\"><td class=\"n\">{}</td><td>{}</td><td class=\"n\">{}</td><td>{}</td></tr>",
                        old_index + i + 1,
                        line(old[old_index + i]),
                        new_index + i + 1,
                        line(new[new_index + i])
                    );
                }
                if keep_tail == 0 && folded > 0 {
                    fold(html, folded);
                }
            }
            DiffOp::Delete {
                old_index, old_len, ..
            } => rows(
                html,
                &old[old_index..old_index + old_len],
                old_index,
                &[],
                0,
            ),
            DiffOp::Insert {
                new_index, new_len, ..
            } => rows(
                html,
                &[],
                0,
                &new[new_index..new_index + new_len],
                new_index,
            ),
            DiffOp::Replace {
                old_index,
                old_len,
                new_index,
                new_len,
            } => rows(
                html,
                &old[old_index..old_index + old_len],
                old_index,
                &new[new_index..new_index + new_len],
                new_index,
            ),
        }
    }
    html.raw("</tbody></table>");
}

fn fold(html: &mut Html, lines: usize) {
    let _ = write!(
        html,
        "<tr class=\"fold\"><td colspan=\"4\">⋯ {lines} unchanged line{}</td></tr>",
        if lines == 1 { "" } else { "s" }
    );
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

/// Changed lines, paired up: a row with both sides is a replaced line (`chg`), a row with one side
/// a removed (`del`) or added (`ins`) one.
fn rows(html: &mut Html, old: &[&str], old_start: usize, new: &[&str], new_start: usize) {
    let line = |text: &str| escape(text.trim_end_matches(['\n', '\r']));
    for i in 0..old.len().max(new.len()) {
        let (left, right) = (old.get(i), new.get(i));
        let class = match (left, right) {
            (Some(_), Some(_)) => "chg",
            (Some(_), None) => "del",
            _ => "ins",
        };
        let side = |text: Option<&&str>, start: usize| match text {
            Some(text) => format!(
                "<td class=\"n\">{}</td><td class=\"x\">{}</td>",
                start + i + 1,
                line(text)
            ),
            None => "<td class=\"n\"></td><td class=\"gap\"></td>".to_string(),
        };
        let _ = write!(
            html,
            "<tr class=\"{class}\">{}{}</tr>",
            side(left, old_start),
            side(right, new_start)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_replaced_added_and_removed_lines() {
        let mut html = Html::default();
        side_by_side(&mut html, "plan", "a\nb\nc\n", "a\nB\nc\nd\n");
        let text = html.into_string();
        assert_eq!(text.matches("<tr class=\"same\">").count(), 2, "{text}");
        assert_eq!(text.matches("<tr class=\"chg\">").count(), 1, "{text}");
        assert_eq!(text.matches("<tr class=\"ins\">").count(), 1, "{text}");
        assert!(text.contains("<td class=\"x\">B</td>"), "{text}");
    }

    #[test]
    fn folds_long_unchanged_runs_keeping_three_lines_of_context() {
        let left: String = (0..20).map(|i| format!("line {i}\n")).collect();
        let right = left.replace("line 10\n", "line ten\n");
        let mut html = Html::default();
        side_by_side(&mut html, "plan", &left, &right);
        let text = html.into_string();
        assert_eq!(text.matches("<tr class=\"same\">").count(), 6, "{text}");
        assert!(text.contains("⋯ 7 unchanged lines"), "{text}");
        assert!(text.contains("⋯ 6 unchanged lines"), "{text}");
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
