//! A physical plan as a tree of foldable operators (`<details>`, which folds without scripts),
//! parsed from DataFusion's indented `EXPLAIN` text: each operator with its attributes, the
//! `DataSourceExec` file groups folded away, and per scan the statistics quality the planner had
//! and the filters pushed into it.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::markup::{Html, escape};
use super::shared::{Shared, summary};
use crate::bundle::{PlanBundle, PushedConjunct, ScanStatistics};

/// One operator line of the plan.
#[derive(Debug, PartialEq)]
struct Operator<'a> {
    name: &'a str,
    /// `key=value` attributes, and bare ones (`[revenue@1 DESC]`) with an empty key.
    attributes: Vec<(&'a str, &'a str)>,
    children: Vec<Operator<'a>>,
}

/// Parses the indented plan (two spaces a level). Lines that are not deeper than their parent by
/// exactly one level are attached to the nearest shallower operator.
fn parse(plan: &str) -> Vec<Operator<'_>> {
    let mut roots: Vec<Operator<'_>> = Vec::new();
    // The path from a root to the operator last added, as (depth, indices).
    let mut path: Vec<usize> = Vec::new();
    for line in plan.lines().filter(|l| !l.trim().is_empty()) {
        let depth = (line.len() - line.trim_start().len()) / 2;
        let text = line.trim();
        let (name, rest) = text.split_once(": ").unwrap_or((text, ""));
        let operator = Operator {
            name,
            attributes: attributes(rest),
            children: Vec::new(),
        };
        path.truncate(depth);
        let mut siblings = &mut roots;
        for &index in &path {
            siblings = &mut siblings[index].children;
        }
        siblings.push(operator);
        path.push(siblings.len() - 1);
    }
    roots
}

/// Splits `a=b, c=[d, e], f` at the commas outside brackets.
fn attributes(text: &str) -> Vec<(&str, &str)> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0i32, 0);
    let bytes = text.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth -= 1,
            b',' if depth == 0 && bytes.get(i + 1) == Some(&b' ') => {
                parts.push(&text[start..i]);
                start = i + 2;
            }
            _ => {}
        }
    }
    if start < text.len() {
        parts.push(&text[start..]);
    }
    parts
        .into_iter()
        .map(|part| match part.split_once('=') {
            Some((key, value))
                if !key.is_empty()
                    && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') =>
            {
                (key, value)
            }
            _ => ("", part),
        })
        .collect()
}

/// What the bundle knows of the scans, in the order the plan lists its leaves.
struct ScanNotes<'a> {
    statistics: &'a [ScanStatistics],
    next: usize,
    pushed: BTreeMap<&'a str, &'a [PushedConjunct]>,
}

/// Writes the bundle's physical plan as a tree; nothing when it has none. File groups go to the
/// page's list of files ([`Shared::file_groups`]), the tree links to them.
pub fn physical_tree(html: &mut Html, bundle: &PlanBundle, shared: &mut Shared) {
    let Some(plan) = bundle.plans.physical.as_deref() else {
        html.raw("<p class=\"none\">No physical plan.</p>");
        return;
    };
    let mut notes = ScanNotes {
        statistics: bundle.statistics.as_ref().map_or(&[][..], |s| &s.scans[..]),
        next: 0,
        pushed: bundle
            .pushdown
            .iter()
            .flat_map(|p| &p.scans)
            .map(|scan| (scan.table.as_str(), &scan.conjuncts[..]))
            .collect(),
    };
    html.raw("<ul class=\"tree\">");
    for root in parse(plan) {
        node(html, &root, &mut notes, shared);
    }
    html.raw("</ul>");
}

fn node(html: &mut Html, operator: &Operator<'_>, notes: &mut ScanNotes<'_>, shared: &mut Shared) {
    let leaf = operator.children.is_empty();
    html.raw(if leaf {
        "<li>"
    } else {
        "<li><details open><summary>"
    });
    let _ = write!(html, "<b class=\"op\">{}</b>", escape(operator.name));
    let mut files = None;
    for (key, value) in &operator.attributes {
        if *key == "file_groups" {
            files = Some(*value);
            continue;
        }
        if key.is_empty() {
            let _ = write!(html, " <i>{}</i>", escape(value));
        } else if matches!(*key, "mode" | "partitioning" | "join_type" | "file_type") {
            let _ = write!(html, " <em>{}={}</em>", escape(key), escape(value));
        } else {
            let _ = write!(html, " <i><b>{}</b>={}</i>", escape(key), escape(value));
        }
    }
    if !leaf {
        html.raw("</summary>");
    }
    if leaf {
        scan_notes(html, operator, notes);
    }
    if let Some(value) = files {
        // The count in the tree, the files once in the page's list.
        let _ = write!(
            html,
            " <a class=\"files\" href=\"#files-{}\">file_groups: {}</a>",
            shared.file_groups(value),
            escape(&summary(value))
        );
    }
    if !leaf {
        html.raw("<ul>");
        for child in &operator.children {
            node(html, child, notes, shared);
        }
        html.raw("</ul></details>");
    }
    html.raw("</li>");
}

/// The statistics quality of a scan (the bundle lists scans, the plan's leaves, depth first) and
/// the filter conjuncts pushed into its table.
fn scan_notes(html: &mut Html, operator: &Operator<'_>, notes: &mut ScanNotes<'_>) {
    let Some(scan) = notes.statistics.get(notes.next) else {
        return;
    };
    if scan.operator != operator.name {
        return;
    }
    notes.next += 1;
    let rows = scan
        .row_count
        .map_or_else(|| "unknown".to_string(), |r| r.to_string());
    let _ = write!(
        html,
        "<div class=\"scan\">table <b>{}</b>: rows {} ({}), bytes {}, columns {}",
        escape(scan.table.as_deref().unwrap_or("?")),
        escape(&rows),
        scan.quality.rows,
        scan.quality.bytes,
        scan.quality.columns
    );
    if let Some(reason) = &scan.reason {
        let _ = write!(html, "; {}", escape(reason));
    }
    let pushed = scan
        .table
        .as_deref()
        .and_then(|table| notes.pushed.get(table));
    if let Some(conjuncts) = pushed.filter(|c| !c.is_empty()) {
        html.raw("<ul class=\"pushed\">");
        for conjunct in conjuncts.iter() {
            let _ = write!(
                html,
                "<li><span class=\"push-{0}\">{0}</span> <code>{1}</code></li>",
                conjunct.class,
                escape(&conjunct.predicate)
            );
        }
        html.raw("</ul>");
    }
    html.raw("</div>");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_indented_plan_into_operators() {
        let plan = "SortExec: TopK(fetch=10), expr=[a@0 DESC], preserve_partitioning=[true]\n  \
                    HashJoinExec: mode=Partitioned, on=[(a@0, b@0)]\n    DataSourceExec: \
                    file_groups={2 groups: [[x:0..1], [y]]}, file_type=parquet\n    \
                    EmptyExec\n";
        let roots = parse(plan);
        assert_eq!(roots.len(), 1);
        assert_eq!(
            roots[0].attributes,
            vec![
                ("", "TopK(fetch=10)"),
                ("expr", "[a@0 DESC]"),
                ("preserve_partitioning", "[true]")
            ]
        );
        let join = &roots[0].children[0];
        assert_eq!(join.name, "HashJoinExec");
        assert_eq!(
            join.children.iter().map(|c| c.name).collect::<Vec<_>>(),
            ["DataSourceExec", "EmptyExec"]
        );
        assert_eq!(
            join.children[0].attributes[0],
            ("file_groups", "{2 groups: [[x:0..1], [y]]}")
        );
    }
}
