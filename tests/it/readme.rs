//! The README and the docs pages stay true: every `$ dfpolicy …` example prints what its page shows,
//! every block that shows a file is the file, every link between pages resolves, every finding code is
//! in the table of codes, and the table of plans by scale is what the baselines count. (Their Rust
//! examples are doctests, see `Docs` in `src/lib.rs`.)

use dfpolicy::Code;

use crate::repo;

/// The README and every page of `docs/`, as (path relative to the repository, text), sorted.
fn pages() -> Vec<(String, String)> {
    let mut pages = vec![("README.md".to_string(), read("README.md"))];
    let mut docs: Vec<String> = std::fs::read_dir(repo().join("docs"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".md"))
        .map(|name| format!("docs/{name}"))
        .collect();
    docs.sort();
    assert!(docs.len() >= 12, "the docs pages were not found: {docs:?}");
    pages.extend(docs.into_iter().map(|path| {
        let text = read(&path);
        (path, text)
    }));
    pages
}

fn read(path: &str) -> String {
    std::fs::read_to_string(repo().join(path)).unwrap()
}

/// The fenced blocks of a page, as (info string, the file the block shows, body). A block shows a
/// file when the line before its fence is `<!-- shows the file PATH -->` (hidden on GitHub).
fn fenced_blocks(text: &str) -> Vec<(String, Option<String>, String)> {
    let mut blocks = Vec::new();
    // The info string, the file shown, the fence's indentation (a block in a list item), the lines.
    let mut open: Option<(String, Option<String>, String, Vec<&str>)> = None;
    let mut previous = "";
    for line in text.lines() {
        let fence = line.trim_start().strip_prefix("```");
        match (&mut open, fence) {
            (None, Some(info)) => {
                let indent = line[..line.len() - line.trim_start().len()].to_string();
                let shown = previous
                    .trim()
                    .strip_prefix("<!-- shows the file ")
                    .and_then(|rest| rest.strip_suffix(" -->"))
                    .map(str::to_string);
                open = Some((info.trim().to_string(), shown, indent, Vec::new()));
            }
            (Some(_), Some("")) => {
                let (info, shown, _, body) = open.take().unwrap();
                blocks.push((info, shown, body.join("\n")));
            }
            (Some((_, _, indent, body)), _) => {
                body.push(line.strip_prefix(indent.as_str()).unwrap_or(line))
            }
            (None, None) => {}
        }
        previous = line;
    }
    blocks
}

/// The fenced `text` blocks whose first line is `$ dfpolicy ARGS`, as (args, expected output).
fn cli_examples(page: &str) -> Vec<(Vec<String>, String)> {
    let mut examples = Vec::new();
    for (info, _, body) in fenced_blocks(page) {
        if info != "text" {
            continue;
        }
        let Some((command, output)) = body.split_once('\n') else {
            continue;
        };
        let Some(args) = command.strip_prefix("$ dfpolicy ") else {
            continue;
        };
        let args = args.split_whitespace().map(str::to_string).collect();
        examples.push((args, format!("{output}\n")));
    }
    examples
}

#[test]
fn every_cli_example_prints_what_its_page_shows() {
    let mut run = 0;
    for (page, text) in pages() {
        for (args, expected) in cli_examples(&text) {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let output = crate::dfpolicy(&args, &repo());
            assert_ne!(
                output.status.code(),
                Some(2),
                "{page}: dfpolicy {args:?} failed"
            );
            let mut printed = String::from_utf8(output.stdout).unwrap();
            if cfg!(feature = "substrait") {
                // The pages show the default build, without the Substrait summary line.
                printed = without_substrait_summary(&printed);
            }
            assert_eq!(printed, expected, "{page}: dfpolicy {}", args.join(" "));
            run += 1;
        }
    }
    assert!(run >= 9, "only {run} `$ dfpolicy` examples were found");
}

/// A block marked `<!-- shows the file policies/selective-scan.toml -->` shows that file whole: the
/// page cannot drift from it.
#[test]
fn every_block_that_shows_a_file_is_the_file() {
    let mut shown = 0;
    for (page, text) in pages() {
        for (_, file, body) in fenced_blocks(&text) {
            let Some(file) = file else { continue };
            let actual = read(&file);
            assert_eq!(
                format!("{body}\n"),
                actual,
                "{page}: the block showing {file} is not the file"
            );
            shown += 1;
        }
    }
    assert!(shown >= 3, "only {shown} blocks show a file");
}

/// Every relative link of every page reaches a file of the repository, and every `#anchor` a
/// heading of the page it names.
#[test]
fn every_link_between_pages_resolves() {
    let anchors = |text: &str| -> Vec<String> {
        let mut fenced = false;
        text.lines()
            .filter(|line| {
                if line.trim_start().starts_with("```") {
                    fenced = !fenced;
                }
                !fenced && line.starts_with('#')
            })
            .map(|line| {
                line.trim_start_matches('#')
                    .trim()
                    .to_lowercase()
                    .chars()
                    .filter(|c| c.is_alphanumeric() || *c == '-' || *c == ' ' || *c == '_')
                    .map(|c| if c == ' ' { '-' } else { c })
                    .collect()
            })
            .collect()
    };
    let mut checked = 0;
    for (page, text) in pages() {
        let folder = std::path::Path::new(&page).parent().unwrap().to_path_buf();
        for link in text.split("](").skip(1) {
            let target = link.split(')').next().unwrap();
            if target.starts_with("http") || target.contains(' ') {
                continue;
            }
            let (file, anchor) = target.split_once('#').unwrap_or((target, ""));
            let path = if file.is_empty() {
                std::path::PathBuf::from(&page)
            } else {
                folder.join(file)
            };
            let full = repo().join(&path);
            assert!(full.exists(), "{page}: the link `{target}` reaches no file");
            if !anchor.is_empty() {
                let target_text = std::fs::read_to_string(&full).unwrap();
                assert!(
                    anchors(&target_text).iter().any(|a| a == anchor),
                    "{page}: the link `{target}` names no heading of {}",
                    path.display()
                );
            }
            checked += 1;
        }
    }
    assert!(checked >= 20, "only {checked} links were found");
}

#[test]
fn every_finding_code_is_in_the_table_of_codes() {
    let page = read("docs/validation.md");
    let table: Vec<&str> = page
        .lines()
        .filter(|line| {
            line.ends_with(" |") && (line.contains("| error |") || line.contains("| warning |"))
        })
        .collect();
    for code in Code::ALL {
        let named = format!("`{code}`");
        let row = table.iter().find(|line| line.contains(&named));
        let row =
            row.unwrap_or_else(|| panic!("{named} is not in docs/validation.md's table of codes"));
        let severity = format!("| {} |", code.severity());
        assert!(
            row.contains(&severity),
            "{named}: docs/validation.md gives another severity"
        );
    }
}

/// The text summary without its Substrait section (a blank line and one `Substrait: …` line).
fn without_substrait_summary(text: &str) -> String {
    text.replace(
        &text
            .lines()
            .find(|line| line.starts_with("Substrait: "))
            .map(|line| format!("\n{line}\n"))
            .unwrap_or_else(|| "\u{0}".to_string()),
        "",
    )
}

/// The README's table of how plans differ between SF 0.01 and SF 100 is counted from the committed
/// baselines: recounted here, row by row.
#[test]
fn the_scale_table_is_counted_from_the_baselines() {
    fn physical_plans(workload: &str) -> std::collections::BTreeMap<String, String> {
        let folder = repo().join("baselines").join(workload).join("bundles");
        let mut plans = std::collections::BTreeMap::new();
        for policy in std::fs::read_dir(&folder).unwrap() {
            let policy = policy.unwrap().path();
            for bundle in std::fs::read_dir(&policy).unwrap() {
                let bundle = bundle.unwrap().path();
                let text = std::fs::read_to_string(&bundle).unwrap();
                let plan = text
                    .split("=== /plans/physical\n")
                    .nth(1)
                    .and_then(|rest| rest.split("\n=== ").next())
                    .unwrap()
                    .to_string();
                let key = format!(
                    "{}/{}",
                    policy.file_name().unwrap().to_string_lossy(),
                    bundle.file_name().unwrap().to_string_lossy()
                );
                plans.insert(key, plan);
            }
        }
        plans
    }
    /// The plan without its file groups (their paths name the scale).
    fn without_file_groups(plan: &str) -> String {
        let mut out = String::new();
        let mut rest = plan;
        while let Some(start) = rest.find("file_groups={") {
            out.push_str(&rest[..start]);
            rest = &rest[start..];
            rest = &rest[rest.find('}').unwrap() + 1..];
        }
        out.push_str(rest);
        out
    }
    fn statistics(workload: &str) -> String {
        let index: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(repo().join("baselines").join(workload).join("index.json"))
                .unwrap(),
        )
        .unwrap();
        let count = |quality: &str| {
            index["cells"]
                .as_object()
                .unwrap()
                .values()
                .filter(|cell| cell["statistics"] == quality)
                .count()
        };
        format!(
            "{} / {} / {}",
            count("exact"),
            count("estimated"),
            count("mixed")
        )
    }
    let small = physical_plans("tpch");
    let large = physical_plans("tpch-sf100");
    assert_eq!(small.len(), 110);
    assert_eq!(
        small.keys().collect::<Vec<_>>(),
        large.keys().collect::<Vec<_>>()
    );
    let differ = small
        .iter()
        .filter(|(key, plan)| without_file_groups(plan) != without_file_groups(&large[*key]))
        .count();
    let count = |plans: &std::collections::BTreeMap<String, String>, needle: &str| {
        plans
            .values()
            .map(|p| p.matches(needle).count())
            .sum::<usize>()
    };
    let groups = |plans: &std::collections::BTreeMap<String, String>| {
        plans
            .values()
            .flat_map(|p| p.match_indices("file_groups={"))
            .count()
            - count(plans, "file_groups={1 group")
    };
    let mut rows = vec![format!(
        "| plans that differ from the other scale's (file groups aside) | {differ} | {differ} |"
    )];
    for (label, needle) in [
        (
            "`HashJoinExec` in mode `CollectLeft`",
            "HashJoinExec: mode=CollectLeft",
        ),
        (
            "`HashJoinExec` in mode `Partitioned`",
            "HashJoinExec: mode=Partitioned",
        ),
        (
            "`SortMergeJoinExec` (`low-memory-smj` prefers them)",
            "SortMergeJoinExec:",
        ),
        (
            "`RepartitionExec` by hash",
            "RepartitionExec: partitioning=Hash",
        ),
        (
            "`RepartitionExec` round-robin",
            "RepartitionExec: partitioning=RoundRobin",
        ),
        ("`CoalescePartitionsExec`", "CoalescePartitionsExec"),
        (
            "`AggregateExec` in mode `FinalPartitioned`",
            "mode=FinalPartitioned",
        ),
        (
            "`AggregateExec` in mode `Single`",
            "AggregateExec: mode=Single",
        ),
    ] {
        rows.push(format!(
            "| {label} | {} | {} |",
            count(&small, needle),
            count(&large, needle)
        ));
    }
    rows.push(format!(
        "| scans split into several file groups | {} | {} |",
        groups(&small),
        groups(&large)
    ));
    rows.push(format!(
        "| bundles with statistics exact / estimated / mixed | {} | {} |",
        statistics("tpch"),
        statistics("tpch-sf100")
    ));
    let page = read("docs/workloads.md");
    let table = page
        .split("<!-- scale-table -->\n")
        .nth(1)
        .and_then(|rest| rest.split("<!-- /scale-table -->").next())
        .unwrap();
    let written: Vec<&str> = table.lines().skip(2).collect();
    assert_eq!(written, rows);
}
