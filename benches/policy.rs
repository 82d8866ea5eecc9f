//! Loading (validating, resolving and compiling) a policy, against DataFusion applying the same settings itself.
//!
//! Both run in the same process and build, so the ratio is meaningful:
//! `cargo bench --bench policy` prints the medians.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use datafusion::config::ConfigOptions;
use datafusion::prelude::SessionContext;
use dfpolicy::report::render;
use dfpolicy::validate::validate_paths;
use dfpolicy::{Policy, SessionFactory};

const POLICY: &str = "policies/low-memory-smj.toml";

fn load_and_validate(c: &mut Criterion) {
    let policy = Policy::load(POLICY).expect("the bundled policy is valid");
    let settings: Vec<(String, String)> = policy
        .resolved
        .options
        .typed_engine_settings()
        .into_iter()
        .filter(|(key, _)| !key.starts_with("datafusion.runtime."))
        .map(|(k, v)| (k.to_string(), v))
        .collect();

    let mut group = c.benchmark_group("policy");
    group.bench_function("dfpolicy_load_and_validate", |b| {
        b.iter(|| black_box(Policy::load(black_box(POLICY)).unwrap()))
    });
    group.bench_function("datafusion_config_set_same_settings", |b| {
        b.iter(|| {
            let mut options = ConfigOptions::new();
            for (key, value) in &settings {
                options.set(key, value).unwrap();
            }
            black_box(options)
        })
    });
    group.finish();
}

fn compile_and_create_sessions(c: &mut Criterion) {
    let policy = Policy::load(POLICY).expect("the bundled policy is valid");
    let compiled = policy.compiled.clone();
    let factory = SessionFactory::new(compiled.clone()).unwrap();
    let config = factory.session_config().clone();

    let mut group = c.benchmark_group("session");
    group.bench_function("dfpolicy_compile", |b| {
        b.iter(|| black_box(dfpolicy::compile(&policy.resolved.options).unwrap()))
    });
    group.bench_function("dfpolicy_session_from_compiled", |b| {
        b.iter(|| black_box(factory.context().unwrap()))
    });
    group.bench_function("datafusion_new_with_config_same_config", |b| {
        b.iter(|| black_box(SessionContext::new_with_config(config.clone())))
    });
    group.finish();
}

/// Worst cases for validation just under the 1 MiB limit: tens of thousands of findings in one file.
/// The baseline is parsing the same text with the `toml` crate, which any validator must do; the goal
/// is a constant factor over it (validation linear in the input), not a quadratic blow-up.
fn validate_worst_cases(c: &mut Criterion) {
    let dir = std::env::temp_dir().join(format!("dfpolicy-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let header = "[policy]\nname = \"worst\"\n[execution]\ntarget_partitions = 2\nplanning_concurrency = 2\n";
    let fill = |line: &dyn Fn(usize) -> String, close: &str| {
        let mut text = header.to_string();
        let mut i = 0;
        while text.len() + close.len() < (1 << 20) - 64 {
            text.push_str(&line(i));
            i += 1;
        }
        text.push_str(close);
        text
    };
    let cases = [
        (
            "unknown_sections",
            fill(&|i| format!("[unknown_{i}]\n"), ""),
        ),
        (
            "unknown_rules_on_one_line",
            fill(
                &|i| match i {
                    0 => "[optimizer]\ndisabled_rules = [\"r0\"".to_string(),
                    _ => format!(", \"r{i}\""),
                },
                "]\n",
            ),
        ),
        (
            "unknown_settings",
            fill(
                &|i| {
                    if i == 0 {
                        "[settings]\n".to_string()
                    } else {
                        format!("\"datafusion.execution.batch_sise_{i}\" = {i}\n")
                    }
                },
                "",
            ),
        ),
    ];
    let mut group = c.benchmark_group("worst_case_1mib");
    group.sample_size(10);
    for (name, text) in cases {
        assert!(text.len() <= 1 << 20, "{name} is {} bytes", text.len());
        let path = dir.join(format!("{name}.toml"));
        std::fs::write(&path, &text).unwrap();
        group.bench_function(format!("dfpolicy_validate_{name}"), |b| {
            b.iter(|| {
                let report = validate_paths(std::slice::from_ref(&path), Some(&dir));
                black_box(render::human_report(&report))
            })
        });
        group.bench_function(format!("toml_parse_{name}"), |b| {
            b.iter(|| black_box(toml::de::DeTable::parse(black_box(&text)).unwrap()))
        });
    }
    group.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(
    benches,
    load_and_validate,
    compile_and_create_sessions,
    validate_worst_cases
);
criterion_main!(benches);
