//! Reload latency: the pipeline on a new hash (cold compile) next to a known
//! hash (compile cache hit), and a parameter change on a running runtime.
//!
//! `cargo bench --bench reload`.

mod support;

use criterion::{Criterion, criterion_group, criterion_main};
use sandbar_runtime::{Artifact, Limits, LoadSpec, Loader};
use std::hint::black_box;
use std::time::Duration;

fn pipeline(c: &mut Criterion) {
    let built = support::components();
    let bytes = std::fs::read(support::component(&built, "sma-cross")).unwrap();
    let loader = Loader::new().unwrap();
    let symbols = vec!["BTCUSD".to_owned()];
    let limits = Limits::default();
    let spec = LoadSpec {
        strategy_id: "sma",
        expected_sha256: None,
        symbols: &symbols,
        params: &[],
        limits: &limits,
        recent_bars: &[],
    };
    let mut group = c.benchmark_group("reload_pipeline");
    let mut marker = 0u32;
    group.bench_function("cold_compile_small", |b| {
        b.iter(|| {
            marker += 1;
            let artifact = Artifact::from_bytes("sma.wasm", support::with_marker(&bytes, marker));
            black_box(loader.load_artifact(&artifact, spec).result.unwrap().sha256)
        })
    });
    let known = Artifact::from_bytes("sma.wasm", bytes.clone());
    loader.load_artifact(&known, spec).result.unwrap();
    group.bench_function("cache_hit_small", |b| {
        b.iter(|| black_box(loader.load_artifact(&known, spec).result.unwrap().cache_hit))
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(Duration::from_secs(5));
    targets = pipeline
}
criterion_main!(benches);
