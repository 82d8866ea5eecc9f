//! Loading and validating a policy, against DataFusion applying the same settings itself.
//!
//! Both run in the same process and build, so the ratio is meaningful:
//! `cargo bench --bench policy` prints the medians.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use datafusion::config::ConfigOptions;
use datafusion::prelude::SessionContext;
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
    let compiled = policy.compile().expect("the bundled policy compiles");
    let factory = SessionFactory::new(compiled.clone()).unwrap();
    let config = factory.session_config().clone();

    let mut group = c.benchmark_group("session");
    group.bench_function("dfpolicy_compile", |b| {
        b.iter(|| black_box(policy.compile().unwrap()))
    });
    group.bench_function("dfpolicy_session_from_compiled", |b| {
        b.iter(|| black_box(factory.context().unwrap()))
    });
    group.bench_function("datafusion_new_with_config_same_config", |b| {
        b.iter(|| black_box(SessionContext::new_with_config(config.clone())))
    });
    group.finish();
}

criterion_group!(benches, load_and_validate, compile_and_create_sessions);
criterion_main!(benches);
