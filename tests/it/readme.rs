//! The README stays true: every `$ dfpolicy …` example prints what the README shows, and every finding
//! code is in its table of codes. (Its Rust examples are doctests, see `ReadmeDoctests` in `src/lib.rs`.)

use std::process::Command;

use dfpolicy::Code;

use crate::repo;

fn readme() -> String {
    std::fs::read_to_string(repo().join("README.md")).unwrap()
}

/// The fenced `text` blocks whose first line is `$ dfpolicy ARGS`, as (args, expected output).
fn cli_examples(readme: &str) -> Vec<(Vec<String>, String)> {
    let mut examples = Vec::new();
    for block in readme.split("```text\n").skip(1) {
        let body = block.split("\n```").next().unwrap();
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
fn every_cli_example_prints_what_the_readme_shows() {
    let examples = cli_examples(&readme());
    assert!(
        examples.len() >= 2,
        "the README's `$ dfpolicy` examples were not found"
    );
    for (args, expected) in examples {
        let output = Command::new(env!("CARGO_BIN_EXE_dfpolicy"))
            .args(&args)
            .current_dir(repo())
            .output()
            .unwrap();
        assert_ne!(output.status.code(), Some(2), "dfpolicy {args:?} failed");
        let mut printed = String::from_utf8(output.stdout).unwrap();
        if cfg!(feature = "substrait") {
            // The README shows the default build, without the Substrait summary line.
            printed = without_substrait_summary(&printed);
        }
        assert_eq!(printed, expected, "dfpolicy {}", args.join(" "));
    }
}

#[test]
fn every_finding_code_is_in_the_readme_table_of_codes() {
    let readme = readme();
    let table: Vec<&str> = readme
        .lines()
        .filter(|line| {
            line.ends_with(" |") && (line.contains("| error |") || line.contains("| warning |"))
        })
        .collect();
    for code in Code::ALL {
        let named = format!("`{code}`");
        let row = table.iter().find(|line| line.contains(&named));
        let row = row.unwrap_or_else(|| panic!("{named} is not in the README's table of codes"));
        let severity = format!("| {} |", code.severity());
        assert!(
            row.contains(&severity),
            "{named}: the README gives another severity"
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
    let readme = readme();
    let table = readme
        .split("<!-- scale-table -->\n")
        .nth(1)
        .and_then(|rest| rest.split("<!-- /scale-table -->").next())
        .unwrap();
    let written: Vec<&str> = table.lines().skip(2).collect();
    assert_eq!(written, rows);
}
