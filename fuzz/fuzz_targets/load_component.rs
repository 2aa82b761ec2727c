//! Any bytes through the whole load pipeline (classify, validate, compile,
//! type-check, instantiate, smoke-test): a candidate or a clean error with a
//! stage and a hint, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sandbar_runtime::{Artifact, Limits, LoadSpec, Loader};
use std::sync::OnceLock;

fn loader() -> &'static Loader {
    static LOADER: OnceLock<Loader> = OnceLock::new();
    LOADER.get_or_init(|| Loader::with_cache_entries(4).expect("a loader"))
}

fuzz_target!(|bytes: &[u8]| {
    let symbols = vec!["X".to_owned()];
    let limits = Limits {
        fuel_per_call: 100_000,
        ..Limits::default()
    };
    let outcome = loader().load_artifact(
        &Artifact::from_bytes("fuzz.wasm", bytes.to_vec()),
        LoadSpec {
            strategy_id: "fuzz",
            expected_sha256: None,
            symbols: &symbols,
            params: &[],
            limits: &limits,
            recent_bars: &[],
            smoke: sandbar_runtime::SmokeSetup::default(),
        },
    );
    if let Err(error) = outcome.result {
        assert!(!error.message.is_empty());
        let _ = error.to_string();
    }
});
