//! The review page (`check --html`, `bundle --format html`): one self-contained file, every name
//! and plan text escaped, and — in a real headless Chromium — a matrix of policies × queries whose
//! changed cells open onto their causes and diffs, and a filter that hides unchanged cells.

use std::path::{Path, PathBuf};
use std::process::Output;

use dfpolicy::harness::{CellStatus, Harness, PolicySet, Progress, compare};
use dfpolicy::{Workload, review};

use crate::browser::Browser;
use crate::cli::dfpolicy;
use crate::repo;

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// The bundled policies with `prefer_hash_join` flipped in `baseline.toml` (every policy that
/// extends it follows), checked against a `tpch-sf100` baseline of the bundled policies with the
/// committed sensitivity sweep beside it: the README's report. The baseline is made by this build
/// (with `--features substrait` every bundle carries Substrait, unlike the committed one).
fn flipped_report(dir: &Path) -> PathBuf {
    let before = dir.join("baseline");
    let output = dfpolicy(&[
        "harness",
        "--quiet",
        "--workload",
        "tpch-sf100",
        "--out",
        before.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    std::fs::copy(
        repo().join("baselines/tpch-sf100/sensitivity.json"),
        before.join("sensitivity.json"),
    )
    .unwrap();
    let policies = dir.join("policies");
    std::fs::create_dir_all(&policies).unwrap();
    for entry in std::fs::read_dir(repo().join("policies")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), policies.join(entry.file_name())).unwrap();
    }
    let baseline = policies.join("baseline.toml");
    let mut policy = std::fs::read_to_string(&baseline).unwrap();
    assert!(!policy.contains("[joins]"));
    policy.push_str("\n[joins]\nprefer_hash_join = false\n");
    std::fs::write(&baseline, policy).unwrap();
    let page = dir.join("review.html");
    let output = dfpolicy(&[
        "check",
        "--quiet",
        "--policies",
        policies.to_str().unwrap(),
        "--workload",
        "tpch-sf100",
        "--baseline",
        before.to_str().unwrap(),
        "--html",
        page.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    page
}

#[test]
fn a_flipped_setting_reads_in_a_real_browser() {
    let dir = tempfile::tempdir().unwrap();
    let page = flipped_report(dir.path());
    let html = std::fs::read_to_string(&page).unwrap();
    // Self-contained: nothing is fetched.
    for external in ["<link", "src=\"http", "src=\"//", "@import", "url("] {
        assert!(!html.contains(external), "the page loads {external}");
    }
    assert!(html.len() < 2_000_000, "{} bytes for 110 cells", html.len());
    // The traced policy's cells show the plan where planning parted ways: the physical planner's
    // plan, before any physical rule (the join choice is the planner's).
    assert!(html.contains("<caption>the physical plan before the physical optimizer</caption>"));

    let Some(mut browser) = Browser::start(1400, 1000) else {
        return;
    };
    browser.open(&page);
    // Policies × queries: 5 × 22 cells, each linking to its detail.
    assert_eq!(
        browser.eval("document.querySelectorAll('table.matrix td.cell[data-status]').length"),
        110
    );
    assert_eq!(
        browser.eval("document.querySelectorAll('table.matrix td.cell a[href^=\"#c\"]').length"),
        110
    );
    let cell = "table.matrix td.cell[data-policy='baseline'][data-query='q03']";
    assert_eq!(
        browser.eval(&format!(
            "document.querySelector(\"{cell}\").dataset.status"
        )),
        "changed"
    );
    let detail_id = browser.eval(&format!(
        "document.querySelector(\"{cell} a\").hash.slice(1)"
    ));
    let detail = format!("document.getElementById('{}')", detail_id.as_str().unwrap());
    assert_eq!(browser.eval(&format!("{detail}.open")), false);
    assert_eq!(
        browser.eval(&format!(
            "{detail}.querySelector('ul.causes').checkVisibility() === false"
        )),
        true,
        "a closed detail shows nothing"
    );

    // Following the matrix link opens the cell: its causes show, and its diff, which it shares
    // with `analytics-namespace` (that policy extends `baseline`), is one link away.
    browser.click(&format!("{cell} a"));
    assert_eq!(browser.eval(&format!("{detail}.open")), true);
    let causes = browser.eval(&format!("{detail}.querySelector('ul.causes').innerText"));
    let causes = causes.as_str().unwrap();
    assert!(
        causes.contains("datafusion.optimizer.prefer_hash_join: true → false"),
        "{causes}"
    );
    let same = browser.eval(&format!("{detail}.querySelector('p.same-as').innerText"));
    assert_eq!(
        same,
        "The plan diffs are identical to that of q03 × analytics-namespace."
    );
    browser.click(&format!("#{} p.same-as a", detail_id.as_str().unwrap()));
    let shared = browser.eval(
        "document.querySelector(\"table.matrix td.cell[data-policy='analytics-namespace'][data-query='q03'] a\").hash.slice(1)",
    );
    let detail = format!("document.getElementById('{}')", shared.as_str().unwrap());
    assert_eq!(browser.eval(&format!("{detail}.open")), true);
    assert_eq!(
        browser.eval(&format!(
            "{detail}.querySelector('table.diff').checkVisibility()"
        )),
        true
    );
    let changed_rows = browser.eval(&format!(
        "{detail}.querySelectorAll('table.diff tr.chg, table.diff tr.ins, table.diff tr.del').length"
    ));
    assert!(changed_rows.as_u64().unwrap() > 0);
    let diff_text = browser.eval(&format!("{detail}.querySelector('table.diff').innerText"));
    assert!(
        diff_text.as_str().unwrap().contains("SortMergeJoinExec"),
        "{diff_text}"
    );
    // The physical plan is a tree of foldable operators.
    assert_eq!(
        browser.eval(&format!(
            "{detail}.querySelector('ul.tree details > summary b.op') !== null"
        )),
        true
    );
    if let Some(path) = std::env::var_os("DFPOLICY_README_SCREENSHOT") {
        // `DFPOLICY_README_SCREENSHOT=docs/review.png cargo test --release review` renews the
        // README's picture: the opened cell, its causes and its diff.
        browser.eval(&format!("{detail}.scrollIntoView()"));
        std::fs::write(repo().join(path), browser.screenshot()).unwrap();
    }
    assert!(browser.screenshot().starts_with(b"\x89PNG"));

    // The filter: untick `unchanged` and no unchanged cell is visible, changed ones still are.
    let visible = |browser: &mut Browser, status: &str| {
        browser
            .eval(&format!(
                "Array.from(document.querySelectorAll('table.matrix td.cell[data-status=\"{status}\"]'))\
                 .filter(c => getComputedStyle(c).visibility !== 'hidden').length"
            ))
            .as_u64()
            .unwrap()
    };
    assert_eq!(visible(&mut browser, "unchanged"), 22);
    browser.click("form.filter input[value='unchanged']");
    assert_eq!(visible(&mut browser, "unchanged"), 0);
    assert_eq!(visible(&mut browser, "changed"), 80);
    assert_eq!(
        browser.eval(
            "Array.from(document.querySelectorAll('details.cell-detail[data-status=\"unchanged\"]'))\
             .every(d => d.checkVisibility() === false)"
        ),
        true
    );
    assert_eq!(browser.errors(), Vec::<String>::new());
}

/// Names and texts from every source a page takes: a policy name (files must use kebab-case
/// names, but a library user hands the harness any), a query file's name and a literal in the
/// query that ends up in the plans.
const POLICY_NAME: &str = "<script>window.pwned = 2</script> \"q\" & 'x'";

#[test]
fn names_queries_and_plans_are_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("sales");
    crate::copy_dir(&repo().join("workloads/sales"), &folder);
    std::fs::write(
        folder.join("queries/<b>&\"it's\".sql"),
        "select c.name from customers c join orders o on o.customer_id = c.id \
         where c.name = '<script>window.pwned = 1</script> & \"q\"'\n",
    )
    .unwrap();
    let policy_file = dir.path().join("lenient.toml");
    std::fs::write(
        &policy_file,
        "[policy]\nname = \"lenient\"\n[execution]\ntarget_partitions = 2\n\
         planning_concurrency = 2\ntime_zone = \"+00:00\"\n",
    )
    .unwrap();
    let mut policy = dfpolicy::Policy::loader()
        .root(dir.path())
        .load(&policy_file)
        .unwrap();
    policy.compiled.policy = POLICY_NAME.to_string();
    let policies = PolicySet::from_policies([(policy_file, policy)]);
    let workload = Workload::load(folder.join("sales.toml")).unwrap();
    let run = Harness::new(&policies, &workload)
        .progress(Progress::Hidden)
        .run()
        .unwrap();
    assert!(run.cells.keys().any(|key| key.query == "<b>&\"it's\""));
    // Without a baseline (a key with `/` in its policy name does not round-trip through one).
    let comparison = compare(None, &run);
    // Joins over CSV tables are advisory warnings, and nothing else is wrong.
    assert!(
        comparison
            .cells
            .iter()
            .all(|c| c.status == CellStatus::Added
                && c.findings.is_empty()
                && c.warnings.iter().all(|w| w.advisory))
    );
    assert!(comparison.cells.iter().any(|c| !c.warnings.is_empty()));
    let html = review::check_page(&[review::WorkloadReview {
        comparison: &comparison,
        run: &run,
        baseline: None,
        baseline_folder: None,
        sensitivity: None,
    }]);
    let page = dir.path().join("review.html");
    std::fs::write(&page, &html).unwrap();
    assert!(
        !html.contains("<script>window.pwned"),
        "raw markup in the page"
    );
    assert!(!html.contains("<b>&\"it"), "raw markup in the page");
    assert!(
        html.contains(
            "&lt;script&gt;window.pwned = 2&lt;/script&gt; &quot;q&quot; &amp; &#39;x&#39;"
        )
    );
    assert!(html.contains("&lt;b&gt;&amp;&quot;it&#39;s&quot;"));
    assert!(html.contains("&lt;script&gt;window.pwned = 1&lt;/script&gt; &amp; &quot;q&quot;"));
    assert_eq!(
        html.matches("<script>").count(),
        1,
        "only the page's own script"
    );
    assert!(
        html.contains("advisory warning"),
        "the warnings are on the page"
    );

    let Some(mut browser) = Browser::start(1200, 900) else {
        return;
    };
    browser.open(&page);
    assert_eq!(browser.eval("typeof window.pwned"), "undefined");
    let header =
        browser.eval("document.querySelector('table.matrix thead th:nth-child(2)').textContent");
    assert_eq!(header, POLICY_NAME);
    let query = browser.eval("document.querySelector('table.matrix tbody th').textContent");
    assert_eq!(query, "<b>&\"it's\"");
    assert_eq!(browser.errors(), Vec::<String>::new());
}

#[test]
fn a_bundle_page_shows_the_plan_tree_and_the_trace() {
    let output = dfpolicy(&[
        "bundle",
        "--policy",
        "policies/deterministic-trace.toml",
        "--workload",
        "tpch",
        "--query",
        "q03",
        "--format",
        "html",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let html = String::from_utf8(output.stdout).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("<ul class=\"tree\">"));
    assert!(html.contains("<b class=\"op\">HashJoinExec</b>"));
    assert!(html.contains("<h2>Optimizer trace</h2>"));
    assert!(html.contains("file_groups: "), "scans link to their files");
    assert!(html.contains("<section class=\"files\">"));
}
