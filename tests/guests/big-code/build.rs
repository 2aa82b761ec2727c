//! Generates the kernels of `big-code`: many distinct functions, all
//! reachable through one table, so neither the compiler nor the linker can
//! drop or merge them and the component really carries a megabyte of code.

use std::fmt::Write;

/// Kernels generated; about 500 bytes of Wasm each.
const KERNELS: u64 = 2400;
/// Arithmetic rounds per kernel.
const ROUNDS: u64 = 12;

fn main() {
    let mut out = String::new();
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        // splitmix64: deterministic constants, so builds are reproducible.
        seed = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = seed;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    for k in 0..KERNELS {
        writeln!(
            out,
            "#[inline(never)]\nfn kernel_{k}(x: f64, s: u64) -> f64 {{"
        )
        .unwrap();
        writeln!(
            out,
            "    let mut a = x;\n    let mut h = s ^ {}u64;",
            next()
        )
        .unwrap();
        for _ in 0..ROUNDS {
            let mul = 0.5 + (next() % 1000) as f64 / 1000.0;
            let add = (next() % 10_000) as f64 / 100.0;
            writeln!(
                out,
                "    a = a * {mul:?} + {add:?};\n    h = h.wrapping_mul({}u64).rotate_left({}) ^ {}u64;",
                next() | 1,
                next() % 63 + 1,
                next()
            )
            .unwrap();
        }
        writeln!(out, "    a + (h % 1024) as f64 * 1e-9\n}}").unwrap();
    }
    writeln!(
        out,
        "pub static KERNELS: [fn(f64, u64) -> f64; {KERNELS}] = ["
    )
    .unwrap();
    for k in 0..KERNELS {
        writeln!(out, "    kernel_{k},").unwrap();
    }
    writeln!(out, "];").unwrap();
    let path = std::path::Path::new(&std::env::var("OUT_DIR").unwrap()).join("kernels.rs");
    std::fs::write(path, out).unwrap();
    println!("cargo::rerun-if-changed=build.rs");
}
