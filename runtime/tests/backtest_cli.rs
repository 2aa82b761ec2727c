//! `runtime backtest` flags that cannot work together, or cannot work at
//! all, are refused before anything runs, with the flag named and the fix;
//! a walk-forward that could not choose exits non-zero.

use sandbar_test_support::Components;
use std::path::Path;
use std::process::{Command, Output};

static COMPONENTS: Components = Components::new("test-components/backtest-cli", &[]);

/// A backtest dir: sma-cross as `sma` over 1,000 synthetic daily bars.
fn setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("dist")).unwrap();
    std::fs::copy(
        COMPONENTS.path("sma-cross"),
        dir.path().join("dist/sma.wasm"),
    )
    .unwrap();
    // 1,000 daily bars of a price that swings: enough to trade and for
    // two walk-forward windows of 500 + 250.
    // Times in epoch seconds: 2020-01-01 on, a day apart.
    let mut csv = String::from("timestamp,open,high,low,close,volume\n");
    for i in 0..1000i64 {
        let close = 100.0 + 20.0 * (i as f64 / 15.0).sin();
        let time = 1_577_836_800 + i * 86_400;
        csv.push_str(&format!(
            "{time},{close},{:.4},{:.4},{close},1000\n",
            close + 1.0,
            close - 1.0
        ));
    }
    let data = dir.path().join("bars.csv");
    std::fs::write(&data, csv).unwrap();
    std::fs::write(
        dir.path().join("bt.toml"),
        format!(
            "[runtime]\nstrategies_dir = \"dist\"\n[hot_reload]\nskip_hash_verification = true\n\
             [feed]\nkind = \"csv\"\nsymbols = [\"GOOG\"]\npath = {data:?}\n\
             [[strategy]]\nid = \"sma\"\nwasm = \"sma.wasm\"\n[strategy.params]\nsize = 10.0\n"
        ),
    )
    .unwrap();
    dir
}

fn backtest(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_runtime"))
        .arg("backtest")
        .arg("--config")
        .arg(dir.join("bt.toml"))
        .arg("--out")
        .arg(dir.join("out"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("XDG_CACHE_HOME", env!("CARGO_TARGET_TMPDIR"))
        .output()
        .expect("running the runtime binary")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn regression_33_impossible_flag_combinations_are_refused_before_the_run() {
    let dir = setup();
    let sweep = ["--sweep", "sma.fast=2,3", "--sweep", "sma.slow=20,30"];
    let cases: [(&[&str], &str); 6] = [
        (
            &["--jobs", "1000000"],
            "--jobs 1000000: at most 1024 threads",
        ),
        (&["--json"], "drop --json"),
        (&["--strategy", "other"], "--strategy other with --sweep"),
        (
            &["--walk-forward", "train=500,test=250", "--report", "r.html"],
            "not a walk-forward",
        ),
        (&["--heatmap", "fast,slow"], "add --report FILE.html"),
        (
            &["--report", "r.html", "--heatmap", "fast,nope"],
            "`nope` is not a swept parameter",
        ),
    ];
    for (extra, expect) in cases {
        let args: Vec<&str> = sweep.iter().chain(extra).copied().collect();
        let out = backtest(dir.path(), &args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(err.contains(expect), "{args:?}: {err}");
        assert!(
            !dir.path().join("out/sweep.csv").exists(),
            "{args:?}: refused before any combination ran"
        );
    }
    // A report path that is a directory, with or without a sweep.
    std::fs::create_dir(dir.path().join("reports")).unwrap();
    for args in [
        &["--report", "reports"][..],
        &[sweep[0], sweep[1], "--report", "reports"],
    ] {
        let out = backtest(dir.path(), args);
        let err = stderr(&out);
        assert!(
            err.contains("--report reports: is a directory") && err.contains("reports/report.html"),
            "{args:?}: {err}"
        );
        assert!(!dir.path().join("out").exists(), "{args:?}: nothing ran");
    }
    // Without a sweep, --heatmap has nothing to draw.
    let out = backtest(dir.path(), &["--heatmap", "fast,slow"]);
    assert!(stderr(&out).contains("--heatmap picks two swept parameters"));
}

#[test]
fn regression_33_a_walk_forward_that_chooses_nothing_fails_and_says_why() {
    let dir = setup();
    let out = backtest(
        dir.path(),
        &[
            "--sweep",
            "sma.fast=50,60",
            "--sweep",
            "sma.slow=20,30",
            "--walk-forward",
            "train=500,test=250",
        ],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}{}", stderr(&out));
    assert!(
        text.contains("window 0: every combination failed"),
        "{text}"
    );
    assert!(text.contains("no window ran out of sample"), "{text}");
}

#[test]
fn regression_33_file_errors_of_the_data_get_no_row_hint() {
    let dir = setup();
    let out = backtest(dir.path(), &["--data", "missing.csv"]);
    let err = stderr(&out);
    assert!(
        err.contains("missing.csv: cannot open the CSV file"),
        "{err}"
    );
    assert!(
        !err.contains("on_bad_row"),
        "skipping rows cannot help: {err}"
    );
    std::fs::write(
        dir.path().join("bad.csv"),
        "date,open,high,low,close\n2024-01-01,1,2,x,1\n",
    )
    .unwrap();
    let err = stderr(&backtest(dir.path(), &["--data", "bad.csv"]));
    assert!(
        err.contains("bad.csv:2:") && err.contains("on_bad_row = \"skip\""),
        "{err}"
    );
}
