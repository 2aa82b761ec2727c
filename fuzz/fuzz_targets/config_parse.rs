//! Any text through the config parser and validator: a config or a clean
//! error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|text: &str| {
    if let Err(error) = sandbar_runtime::config::Config::parse(text, Path::new("fuzz.toml")) {
        // Rendering the error walks every field: it must not panic either.
        let _ = error.to_string();
    }
});
