//! The pages in Chromium: the live dashboard against a running runtime with
//! 20 strategies (every one listed, a reload by file and a trap as they
//! happen, read-only without a token, a halt clicked with one and audited
//! under its name, the runtime going away), and the backtest and sweep
//! reports (their charts drawn). No console error on any page.

use super::browser::{Browser, launch_or_skip};
use super::*;
use crate::reference::reference_data;
use sandbar_runtime::backtest::{
    self, BacktestOptions, RankBy, SweepOptions, overrides, run_sweep,
};
use serde_json::Value;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

const WAIT: Duration = Duration::from_secs(30);

fn rows_js(cond: &str) -> String {
    format!("[...document.querySelectorAll('#strategies tbody tr')].{cond}")
}

/// The text of cell `col` in `id`'s row.
fn cell_js(id: &str, col: usize) -> String {
    format!(
        "(document.querySelector('#strategies tbody tr[data-id=\"{id}\"]')?.children[{col}]?.textContent || '')"
    )
}

fn assert_no_errors(browser: &mut Browser, page: &str) {
    let errors = browser.errors();
    assert!(
        errors.is_empty(),
        "{page}: errors in the browser: {errors:#?}"
    );
}

#[test]
fn issue_17_the_dashboard_shows_twenty_strategies_a_reload_a_trap_and_a_halt_as_they_happen() {
    let Some(mut browser) = launch_or_skip("the dashboard test") else {
        return;
    };
    // Past the start-up smoke test's bars, so it starts; then it panics.
    let trap_from = 300;
    let mut sandbox = twenty(trap_from);
    sandbox.start().unwrap();
    sandbox.feed(40);
    let server = start_ops(&sandbox, settings(&sandbox, alice()));
    let url = format!("http://{}/", server.local_addr());

    let opened = Instant::now();
    browser.open(&url).unwrap();
    if let Err(e) = browser.wait_for(&rows_js("length === 20"), WAIT) {
        let rows = browser.eval(&rows_js("length")).unwrap();
        let running: Vec<String> = sandbox
            .runtime()
            .status()
            .strategies
            .into_iter()
            .map(|s| s.id)
            .collect();
        panic!(
            "{e}: {rows} rows, {running:?} running; errors: {:#?}",
            browser.errors()
        );
    }
    let shown = opened.elapsed();
    let paint: Value = browser
        .eval(
            "({ first_status_ms: window.sandbarDashboard.firstStatusMs, \
               strategies: window.sandbarDashboard.firstStatusStrategies, \
               fcp_ms: (performance.getEntriesByName('first-contentful-paint')[0] || {}).startTime })",
        )
        .unwrap();
    eprintln!("dashboard, 20 strategies: first paint {paint} (page open to 20 rows: {shown:?})");
    assert_eq!(
        paint["strategies"], 20,
        "the first status push lists every strategy"
    );
    // Again, warm (the browser has started, the page's files are known): the
    // figure a person opening the dashboard sees.
    browser.open(&url).unwrap();
    browser.wait_for(&rows_js("length === 20"), WAIT).unwrap();
    let warm = browser
        .eval("({ first_status_ms: window.sandbarDashboard.firstStatusMs, \
                  fcp_ms: (performance.getEntriesByName('first-contentful-paint')[0] || {}).startTime })")
        .unwrap();
    eprintln!("dashboard, 20 strategies, reopened: first paint {warm}");

    // Every running strategy is listed, in id order.
    let listed: Vec<String> =
        serde_json::from_value(browser.eval(&rows_js("map(r => r.dataset.id)")).unwrap()).unwrap();
    let running: Vec<String> = sandbox
        .runtime()
        .status()
        .strategies
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(listed, running);
    assert_eq!(browser.eval(&cell_js("audit", 1)).unwrap(), "running");

    // Without a token the page is read-only: no button can be pressed.
    assert_eq!(
        browser
            .eval("[...document.querySelectorAll('td.actions button')].every(b => b.disabled)")
            .unwrap(),
        true
    );
    assert_eq!(
        browser
            .eval("document.getElementById('access').textContent")
            .unwrap(),
        "read-only"
    );

    // A reload by writing a file appears in the timeline.
    let new_build = rebuilt(&std::fs::read(sandbox.audit_path()).unwrap(), 17);
    let written = Instant::now();
    deploy(&sandbox.audit_path(), &new_build);
    browser
        .wait_for(
            "[...document.querySelectorAll('#timeline li.swapped')].some(li => \
               li.dataset.strategy === 'audit' && li.textContent.includes('(file)'))",
            WAIT,
        )
        .unwrap();
    eprintln!(
        "file written → reload in the dashboard's timeline: {:?}",
        written.elapsed()
    );
    sandbox.feed(1);
    browser
        .wait_for(&format!("{}.startsWith('v2')", cell_js("audit", 2)), WAIT)
        .unwrap();
    let sha = sha(&new_build);
    assert_eq!(
        browser
            .eval("document.querySelector('#strategies tbody tr[data-id=\"audit\"]').children[3].title")
            .unwrap(),
        sha.as_str()
    );

    // A trap shows in the event log and in the strategy's row.
    sandbox.feed(trap_from - sandbox.fed + 5);
    browser
        .wait_for(
            "[...document.querySelectorAll('#log li.trap')].some(li => li.dataset.strategy === 'hostile')",
            WAIT,
        )
        .unwrap();
    browser
        .wait_for(&format!("Number({}) > 0", cell_js("hostile", 15)), WAIT)
        .unwrap();

    // With the token typed in, a click on halt halts the strategy, and the
    // audit trail names the token's holder.
    browser
        .eval(&format!(
            "document.getElementById('token').value = '{ALICE}'; \
             document.getElementById('token-form').requestSubmit(); true"
        ))
        .unwrap();
    browser
        .wait_for(
            "document.getElementById('access').textContent === 'control as api:alice'",
            WAIT,
        )
        .unwrap();
    browser
        .eval(
            "document.querySelector('button[data-id=\"s05\"][data-action=\"halt\"]').click(); true",
        )
        .unwrap();
    browser
        .wait_for(&format!("{} === 'halted'", cell_js("s05", 1)), WAIT)
        .unwrap();
    assert_eq!(sandbox.status_of("s05").state, "halted");
    let audit = read_jsonl(&sandbox.path("journal/audit.jsonl"));
    let halt = audit
        .iter()
        .find(|r| r["action"] == "halt" && r["strategy"] == "s05")
        .unwrap_or_else(|| panic!("no halt of s05 in the audit trail: {audit:#?}"));
    assert_eq!(halt["actor"], "api:alice");
    browser
        .wait_for(
            "[...document.querySelectorAll('#log li.state')].some(li => \
               li.dataset.strategy === 's05' && li.textContent.includes('by api:alice'))",
            WAIT,
        )
        .unwrap();
    // Buttons follow the state: s05 can be un-halted, not halted again.
    assert_eq!(
        browser
            .eval(
                "[document.querySelector('button[data-id=\"s05\"][data-action=\"unhalt\"]').disabled, \
                  document.querySelector('button[data-id=\"s05\"][data-action=\"halt\"]').disabled]"
            )
            .unwrap(),
        serde_json::json!([false, true])
    );

    // A few more bars so the curves have a shape, then the picture.
    for _ in 0..3 {
        sandbox.feed(30);
        std::thread::sleep(Duration::from_millis(1100));
    }
    browser
        .wait_for("document.querySelectorAll('.uplot').length === 2", WAIT)
        .unwrap();

    // Positions, working orders and the last fills as the loop published
    // them, and each strategy's fuel per bar.
    assert!(sandbox.runtime().handle().journal_barrier());
    let status = sandbox.runtime().status();
    let held: Vec<String> = status
        .strategies
        .iter()
        .flat_map(|s| {
            s.activity
                .positions
                .iter()
                .map(move |p| format!("{}/{}", s.id, p.symbol))
        })
        .collect();
    let fills: usize = status
        .strategies
        .iter()
        .map(|s| s.activity.recent_fills.len())
        .sum();
    assert!(fills > 0, "the examples traded in {} bars", sandbox.fed);
    let journal_fills = read_jsonl(&sandbox.path("journal/fills.jsonl"));
    for s in &status.strategies {
        let last = journal_fills
            .iter()
            .rfind(|f| f["strategy"] == s.id.as_str())
            .map(|f| f["seq"].as_u64().unwrap());
        assert_eq!(
            s.activity.recent_fills.last().map(|f| f.seq),
            last,
            "{}: the newest fill in the status is the journal's",
            s.id
        );
    }
    let shown_positions = "JSON.stringify([...document.querySelectorAll('#positions tbody tr[data-strategy]')]\
        .map(r => r.dataset.strategy + '/' + r.children[1].textContent))";
    browser
        .wait_for(
            &format!(
                "{shown_positions} === {}",
                serde_json::to_string(&serde_json::to_string(&held).unwrap()).unwrap()
            ),
            WAIT,
        )
        .unwrap_or_else(|e| {
            panic!(
                "{e}: the page shows {} for {held:?}",
                browser.eval(shown_positions).unwrap()
            )
        });
    let shown_fills = browser
        .eval("document.querySelectorAll('#fills tbody tr[data-strategy]').length")
        .unwrap();
    assert_eq!(shown_fills, fills.min(50), "every recent fill, at most 50");
    let audit_fuel = status
        .strategies
        .iter()
        .find(|s| s.id == "audit")
        .unwrap()
        .fuel_per_bar;
    assert!(
        audit_fuel.samples > 0 && audit_fuel.p50 > 0 && audit_fuel.max <= audit_fuel.limit,
        "{audit_fuel:?}"
    );
    assert_eq!(
        browser.eval(&cell_js("audit", 14)).unwrap(),
        audit_fuel.p50.to_string()
    );

    browser
        .screenshot(&screenshot_path("dashboard.png"))
        .unwrap();
    assert_no_errors(&mut browser, "dashboard");

    // A page opened now starts its curves with what the server kept.
    browser.open(&url).unwrap();
    browser
        .wait_for("window.sandbarDashboard.historyPoints >= 3", WAIT)
        .unwrap_or_else(|e| {
            panic!(
                "{e}: {} points from the server",
                browser
                    .eval("window.sandbarDashboard.historyPoints")
                    .unwrap()
            )
        });
    browser
        .wait_for("document.querySelectorAll('.uplot').length === 2", WAIT)
        .unwrap();
    assert_no_errors(&mut browser, "dashboard, reopened");

    // The runtime goes away: the page says so.
    server.stop();
    browser
        .wait_for(
            "!document.getElementById('banner').hidden && \
             document.getElementById('banner').textContent.includes('went away')",
            WAIT,
        )
        .unwrap();
    assert_eq!(
        browser
            .eval("document.getElementById('conn').textContent")
            .unwrap(),
        "disconnected"
    );
    sandbox.stop();
}

fn goog() -> (tempfile::TempDir, sandbar_runtime::config::Config) {
    csv_backtest(
        "sma-cross",
        "sma",
        &reference_data("GOOG"),
        "GOOG",
        "",
        "size = 10.0",
    )
}

/// Opens `html` (written to a file) and waits until `ready` is true.
fn open_report(browser: &mut Browser, html: &str, ready: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.html");
    std::fs::write(&path, html).unwrap();
    browser.open(&format!("file://{}", path.display())).unwrap();
    browser
        .wait_for(ready, WAIT)
        .unwrap_or_else(|e| panic!("{e}; errors: {:#?}", browser.errors()));
    dir
}

#[test]
fn issue_17_the_backtest_and_sweep_reports_draw_their_charts_in_a_browser() {
    let Some(mut browser) = launch_or_skip("the report test") else {
        return;
    };
    let (_dir, config) = goog();
    let result = backtest::run(&config, &BacktestOptions::default()).unwrap();
    let bars = backtest::bars_of(&config, &BacktestOptions::default()).unwrap();
    let html = backtest::backtest_report(&result, &bars, &config.feed.symbols).unwrap();
    // Equity, drawdown and the price with its trades.
    let _page = open_report(
        &mut browser,
        &html,
        "document.querySelectorAll('.uplot canvas').length >= 3",
    );
    let drawn = browser
        .eval("document.querySelectorAll('.uplot').length")
        .unwrap();
    eprintln!("backtest report: {drawn} charts");
    browser.screenshot(&screenshot_path("report.png")).unwrap();
    assert_no_errors(&mut browser, "backtest report");

    let sweep = SweepOptions {
        axes: ["sma.fast=5..20:5", "sma.slow=20,40,60"]
            .iter()
            .map(|a| overrides::parse_sweep(a).unwrap())
            .collect(),
        jobs: 2,
        rank_by: RankBy::Sharpe,
        stop: Arc::new(AtomicBool::new(false)),
        progress: None,
    };
    let swept = run_sweep(&config, &BacktestOptions::default(), &sweep).unwrap();
    let html = backtest::sweep_report(&swept, Some((0, 1))).unwrap();
    let _page = open_report(
        &mut browser,
        &html,
        "Number(document.body.dataset.rendered) > 0",
    );
    assert_eq!(
        browser
            .eval("Number(document.body.dataset.rendered)")
            .unwrap(),
        swept.rows.len(),
        "a row per combination"
    );
    // The table sorts on a click of its header: rank ascending, then descending.
    let first_rank = "document.querySelector('#sweep-table tbody tr td').textContent";
    browser
        .eval("document.querySelector('#sweep-table th').click(); true")
        .unwrap();
    assert_eq!(browser.eval(first_rank).unwrap(), "1");
    browser
        .eval("document.querySelector('#sweep-table th').click(); true")
        .unwrap();
    assert_eq!(
        browser.eval(first_rank).unwrap(),
        swept.rows.len().to_string()
    );
    browser
        .screenshot(&screenshot_path("report-sweep.png"))
        .unwrap();
    assert_no_errors(&mut browser, "sweep report");
}
