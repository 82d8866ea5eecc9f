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
