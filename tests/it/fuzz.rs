//! A generator of policy-shaped documents over every DataFusion option, each given the boundary values
//! of its type (0, the largest integers, negatives, `nan`, `inf`, datetimes, floats for integers,
//! huge and empty strings, and words DataFusion knows for other options), grouped so that options that
//! constrain each other meet.
//!
//! The property: validation never panics or hangs, and a policy it accepts compiles, builds a session,
//! and writes and reads back a Parquet file with that session's options.
//!
//! The suite runs 48 cases; set `DFPOLICY_FUZZ_CASES` for a longer run:
//! `DFPOLICY_FUZZ_CASES=20000 cargo test --release --test it fuzz::`.

use std::sync::mpsc;
use std::time::Duration;

use dfpolicy::registry::{ValueKind, registry};
use dfpolicy::report::render;
use dfpolicy::validate::validate_paths;
use dfpolicy::{Policy, PolicyError, SessionFactory};
use proptest::prelude::*;

/// Values for any option, whatever its kind.
const ANY: &[&str] = &[
    "0",
    "1",
    "-1",
    "18446744073709551615",
    "9223372036854775807",
    "-9223372036854775808",
    "99999999999999999999",
    "4096.0",
    "0.0",
    "0.5",
    "1.5",
    "-0.5",
    "nan",
    "-nan",
    "inf",
    "-inf",
    "1e308",
    "true",
    "false",
    "1979-05-27",
    "1979-05-27T07:32:00Z",
    "07:32:00",
    "\"\"",
    "\" \"",
    "\"0\"",
    "\"true\"",
    "\"NaNG\"",
    "\"99999999999G\"",
    "\"1.5G\"",
    "\"0.1K\"",
    "\"4G\"",
    "\"1m30s\"",
    "\"0s\"",
    "[]",
    "{ a = 1 }",
];

/// Words DataFusion accepts for some option, tried on every text and choice option.
const WORDS: &[&str] = &[
    "plain",
    "plain_dictionary",
    "rle_dictionary",
    "rle",
    "bit_packed",
    "delta_binary_packed",
    "delta_byte_array",
    "byte_stream_split",
    "none",
    "chunk",
    "page",
    "zstd(3)",
    "zstd(0)",
    "gzip(10)",
    "snappy",
    "lz4_raw",
    "uncompressed",
    "lz4_frame",
    "1.0",
    "2.0",
    "ms",
    "ns",
    "UTC",
    "+00:00",
    "Mars/Olympus",
    "generic",
    "postgresql",
    "tree",
    "indent",
    "pgjson",
    "fair",
    "greedy",
    "s3://k:s@b/p",
    "/tmp/dfpolicy-fuzz",
];

fn cases() -> u32 {
    std::env::var("DFPOLICY_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(48)
}

/// The groups options are drawn from: every key, or the keys sharing a prefix (so that options that
/// constrain each other, like content-defined chunking's sizes, are drawn together).
fn groups() -> Vec<Vec<String>> {
    // The spill directory must exist where a session runs, which no check of the policy can know.
    let keys: Vec<String> = registry()
        .options()
        .map(|o| o.key.clone())
        .filter(|k| k != "datafusion.runtime.temp_directory")
        .collect();
    let mut groups = vec![keys.clone()];
    let mut prefixes: Vec<String> = keys
        .iter()
        .filter_map(|k| k.rsplit_once('.').map(|(p, _)| p.to_string()))
        .collect();
    prefixes.sort();
    prefixes.dedup();
    for prefix in prefixes {
        let group: Vec<String> = keys
            .iter()
            .filter(|k| k.starts_with(&format!("{prefix}.")))
            .cloned()
            .collect();
        if group.len() > 1 {
            groups.push(group);
        }
    }
    groups
}

fn value_for(kind: ValueKind, pick: usize) -> String {
    let words = matches!(kind, ValueKind::Text | ValueKind::Choice);
    if words && pick.is_multiple_of(2) {
        return format!("\"{}\"", WORDS[(pick / 2) % WORDS.len()]);
    }
    if pick % 37 == 1 {
        return format!("\"{}\"", "x".repeat(20_000));
    }
    ANY[pick % ANY.len()].to_string()
}

fn document(group: &[String], picks: &[(usize, usize)], typed: &[(usize, usize)]) -> String {
    let mut text = String::from("[policy]\nname = \"fuzz\"\n");
    // Typed fields get boundary values too.
    const TYPED: &[(&str, &str)] = &[
        ("execution", "batch_size"),
        ("execution", "target_partitions"),
        ("execution", "time_zone"),
        ("execution", "spill_compression"),
        ("parquet", "metadata_size_hint"),
        ("parquet", "compression"),
        ("optimizer", "default_filter_selectivity"),
        ("runtime", "memory_limit"),
        ("runtime", "memory_pool"),
        ("policy", "extends"),
    ];
    let mut sections: std::collections::BTreeMap<&str, Vec<String>> = Default::default();
    for (field, pick) in typed {
        let (section, name) = TYPED[field % TYPED.len()];
        sections
            .entry(section)
            .or_default()
            .push(format!("{name} = {}", value_for(ValueKind::Text, *pick)));
    }
    let mut settings = std::collections::BTreeMap::new();
    for (key, pick) in picks {
        let key = &group[key % group.len()];
        let kind = registry().option(key).unwrap().kind;
        settings.insert(key.clone(), value_for(kind, *pick));
    }
    if let Some(lines) = sections.remove("policy") {
        text.push_str(&lines[0]);
        text.push('\n');
    }
    for (section, lines) in sections {
        let mut lines = lines;
        lines.sort();
        lines.dedup_by(|a, b| a.split(" = ").next() == b.split(" = ").next());
        text.push_str(&format!("[{section}]\n{}\n", lines.join("\n")));
    }
    text.push_str("[settings]\n");
    for (key, value) in settings {
        text.push_str(&format!("\"{key}\" = {value}\n"));
    }
    text
}

/// Validates the document and, if it is accepted, uses it: compile, session, Parquet round trip.
fn exercise(text: String) -> Result<(), String> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fuzz.toml");
    std::fs::write(&path, &text).unwrap();
    let report = validate_paths(std::slice::from_ref(&path), Some(dir.path()));
    let _ = render::human_report(&report);
    let _ = render::json(&report.diagnostics);
    let _ = render::github(&report.diagnostics);
    for d in &report.diagnostics {
        let (line, column) = d.line_column();
        if d.location.is_none() || line < 1 || column < 1 {
            return Err(format!("finding without a place: {d}"));
        }
    }
    if report.errors() > 0 {
        return Ok(());
    }
    if std::env::var_os("DFPOLICY_FUZZ_CASES").is_some() {
        // Long runs report how many documents got past validation (`grep -c` the output).
        eprintln!("fuzz: accepted, exercising");
    }
    let compiled = match Policy::loader().root(dir.path()).load(&path) {
        Ok(policy) => policy.compiled,
        Err(PolicyError::Compile(e)) => return Err(format!("validated but does not compile: {e}")),
        Err(e) => return Err(format!("validated but does not load: {e}")),
    };
    let factory =
        SessionFactory::new(compiled).map_err(|e| format!("compiled but no session: {e}"))?;
    let ctx = factory.context().map_err(|e| format!("no context: {e}"))?;
    let out = dir.path().join("out.parquet");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let result = runtime.block_on(async {
        let write = format!(
            "COPY (SELECT * FROM (VALUES (1, 'a', 1.5, true), (2, NULL, NULL, false)) AS t(i, s, f, b)) TO '{}' STORED AS PARQUET",
            out.display()
        );
        ctx.sql(&write)
            .await
            .map_err(|e| format!("write planning failed: {e}"))?
            .collect()
            .await
            .map_err(|e| format!("writing Parquet failed: {e}"))?;
        ctx.register_parquet("written", out.to_str().unwrap(), Default::default())
            .await
            .map_err(|e| format!("reading back failed: {e}"))?;
        let rows = ctx
            .sql("SELECT count(*) FROM written")
            .await
            .map_err(|e| format!("{e}"))?
            .collect()
            .await
            .map_err(|e| format!("reading back failed: {e}"))?;
        if rows[0].num_rows() != 1 {
            return Err("read back nothing".to_string());
        }
        Ok(())
    });
    match result {
        // A small memory limit is a policy's right: the query fails cleanly, as it should.
        Err(e) if e.contains("Resources exhausted") => Ok(()),
        other => other,
    }
}

/// [`exercise`] on another thread: a panic or a hang is a failure with the document shown.
fn exercise_bounded(text: String, seconds: u64) -> Result<(), String> {
    let (tx, rx) = mpsc::channel();
    let shown = text.clone();
    std::thread::spawn(move || {
        let result = std::panic::catch_unwind(|| exercise(text));
        let _ = tx.send(result);
    });
    match rx.recv_timeout(Duration::from_secs(seconds)) {
        Ok(Ok(result)) => result.map_err(|e| format!("{e}\n--- policy ---\n{shown}")),
        Ok(Err(payload)) => {
            let message = payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            Err(format!("panicked: {message}\n--- policy ---\n{shown}"))
        }
        Err(_) => Err(format!("hung for {seconds} s\n--- policy ---\n{shown}")),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn accepted_policies_are_usable_and_nothing_panics(
        group in any::<usize>(),
        picks in proptest::collection::vec((any::<usize>(), any::<usize>()), 1..7),
        typed in proptest::collection::vec((any::<usize>(), any::<usize>()), 0..4),
    ) {
        let groups = groups();
        let group = &groups[group % groups.len()];
        let text = document(group, &picks, &typed);
        if let Err(failure) = exercise_bounded(text, 60) {
            prop_assert!(false, "{}", failure);
        }
    }
}

/// Every integer option at the extremes of its type, and at the largest value dfpolicy accepts for
/// it: validation rejects the value, or a session with it plans, writes and reads. All failures are
/// listed at once. (`DFPOLICY_EXTREME_KEY=<key>` tries one option: a failed allocation aborts the
/// whole test process, so a search for new failures runs one option per process.)
#[test]
fn every_integer_option_at_its_extremes_is_rejected_or_usable() {
    let mut failures = Vec::new();
    for option in registry().options() {
        let values: &[&str] = match option.kind {
            ValueKind::UnsignedInteger => {
                &["18446744073709551615", "9223372036854775807", "4294967296"]
            }
            ValueKind::SignedInteger => &["9223372036854775807", "-9223372036854775808"],
            ValueKind::Capacity => &["\"17179869184G\"", "9223372036854775807"],
            _ => continue,
        };
        if option.key == "datafusion.runtime.temp_directory" {
            continue;
        }
        if std::env::var("DFPOLICY_EXTREME_KEY").is_ok_and(|k| k != option.key) {
            continue;
        }
        let maximum = option.maximum.map(|m| m.to_string());
        for value in values.iter().copied().chain(maximum.as_deref()) {
            let text = format!(
                "[policy]\nname = \"extreme\"\n[settings]\n\"{}\" = {value}\n",
                option.key
            );
            if let Err(failure) = exercise_bounded(text, 15) {
                failures.push(format!(
                    "{} = {value}: {}",
                    option.key,
                    failure.lines().next().unwrap_or_default()
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
