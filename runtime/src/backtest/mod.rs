//! `runtime backtest`: the config's strategies over a CSV file with the same
//! load pipeline, broker, risk rules and fill model as `runtime live`, as
//! fast as one thread can call the guests, with deterministic outputs.

mod engine;
mod html;
pub mod overrides;
mod report;
mod stats;
mod sweep;
mod walk_forward;

pub use engine::{
    BACKTEST_DEADLINE, BacktestOptions, BacktestResult, StrategyRun, bars_of, run, run_with_loader,
};
pub use html::{MAX_POINTS, backtest_report, sweep_report};
pub use report::{
    EQUITY_FILE, SUMMARY_FILE, TRADES_FILE, render_table, summary_json, write_outputs, write_sweep,
    write_walk_forward,
};
pub use stats::{RunFigures, Stats};
pub use sweep::{
    RankBy, SWEEP_FILE, SweepFigures, SweepOptions, SweepResult, SweepRow, render_sweep, run_sweep,
    sweep_csv,
};
pub use walk_forward::{
    WalkForwardResult, WalkForwardSpec, Window, render_walk_forward, run_walk_forward,
    walk_forward_csv,
};
