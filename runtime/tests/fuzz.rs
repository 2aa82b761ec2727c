//! Property-based fuzzing of the two parsers that take untrusted input: the
//! config parser and the component loader. Whatever the input, they answer
//! with a value or a clean error, never a panic.
//!
//! The suite runs a short budget. For a longer run:
//!
//! ```sh
//! PROPTEST_CASES=20000 cargo test -p sandbar-runtime --test fuzz --release
//! ```
//!
//! A failing input is shrunk and saved by proptest under
//! `runtime/tests/fuzz.proptest-regressions`; keep that file, it replays the
//! case on every run (a regression test named for the bug).

use proptest::prelude::*;
use sandbar_runtime::config::{Config, EMBEDDED_DEFAULT_TOML};
use sandbar_runtime::{Artifact, Limits, LoadSpec, Loader};
use std::path::Path;
use std::sync::OnceLock;

/// One edit of a byte string.
#[derive(Debug, Clone)]
enum Edit {
    Flip(usize, u8),
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
    Truncate(usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(at, b)| Edit::Flip(at, b)),
        (
            any::<usize>(),
            proptest::collection::vec(any::<u8>(), 1..16)
        )
            .prop_map(|(at, b)| Edit::Insert(at, b)),
        (any::<usize>(), 1usize..64).prop_map(|(at, n)| Edit::Delete(at, n)),
        any::<usize>().prop_map(Edit::Truncate),
    ]
}

fn apply(mut bytes: Vec<u8>, edits: &[Edit]) -> Vec<u8> {
    for e in edits {
        let len = bytes.len().max(1);
        match e {
            Edit::Flip(at, b) => {
                if !bytes.is_empty() {
                    let i = at % bytes.len();
                    bytes[i] ^= b | 1;
                }
            }
            Edit::Insert(at, b) => {
                let i = at % len.min(bytes.len() + 1);
                bytes.splice(i..i, b.iter().copied());
            }
            Edit::Delete(at, n) => {
                if !bytes.is_empty() {
                    let i = at % bytes.len();
                    let end = (i + n).min(bytes.len());
                    bytes.drain(i..end);
                }
            }
            Edit::Truncate(at) => bytes.truncate(at % len),
        }
    }
    bytes
}

fn loader() -> &'static Loader {
    static LOADER: OnceLock<Loader> = OnceLock::new();
    LOADER.get_or_init(|| Loader::new().expect("a loader"))
}

/// A real component to mutate: the smallest valid strategy we can make
/// without a guest build, a WAT component exporting the contract by name.
fn seed_component() -> &'static [u8] {
    static SEED: OnceLock<Vec<u8>> = OnceLock::new();
    SEED.get_or_init(|| {
        let path =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/wrong_signature.wat");
        wat::parse_file(path).expect("the fixture parses")
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn the_config_parser_never_panics_on_edited_configs(edits in proptest::collection::vec(edit(), 1..8)) {
        let text = apply(EMBEDDED_DEFAULT_TOML.as_bytes().to_vec(), &edits);
        let text = String::from_utf8_lossy(&text);
        if let Err(error) = Config::parse(&text, Path::new("fuzz.toml")) {
            let shown = error.to_string();
            prop_assert!(shown.starts_with("fuzz.toml"), "errors name the file: {shown}");
        }
    }

    #[test]
    fn the_config_parser_never_panics_on_arbitrary_text(text in "\\PC{0,400}") {
        let _ = Config::parse(&text, Path::new("fuzz.toml"));
    }
}

/// The whole pipeline on `bytes`, as the runtime would load a file.
fn load(bytes: Vec<u8>) -> sandbar_runtime::LoadOutcome {
    let symbols = vec!["X".to_owned()];
    let limits = Limits::default();
    loader().load_artifact(
        &Artifact::from_bytes("fuzz.wasm", bytes),
        LoadSpec {
            strategy_id: "fuzz",
            expected_sha256: None,
            symbols: &symbols,
            params: &[],
            limits: &limits,
            recent_bars: &[],
            smoke: sandbar_runtime::SmokeSetup::default(),
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn the_loader_never_panics_on_mutated_components(edits in proptest::collection::vec(edit(), 1..6)) {
        let outcome = load(apply(seed_component().to_vec(), &edits));
        // The seed is not a working strategy, so every mutation is refused:
        // with a stage, a message and a hint.
        let error = outcome.result.err().expect("refused");
        prop_assert!(!error.message.is_empty());
        prop_assert!(error.hint.is_some(), "{error}");
    }

    #[test]
    fn the_loader_never_panics_on_random_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let outcome = load(bytes);
        prop_assert!(outcome.result.is_err());
    }
}
