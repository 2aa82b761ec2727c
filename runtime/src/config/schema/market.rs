//! Where bars come from and how orders fill: `[feed]`, `[broker]`, `[risk]`
//! and its per-symbol tables.

use crate::config::defaults as d;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// `[feed]`: where bars come from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FeedSection {
    /// The feed implementation. Default `"synthetic"`.
    pub kind: FeedKind,
    /// Symbols the feed produces; strategies trade a subset. Default `["BTCUSD", "ETHUSD"]`.
    pub symbols: Vec<String>,
    /// Synthetic feed: time between bars, in ms. Default 1000.
    pub interval_ms: u64,
    /// Synthetic feed: seed of the price paths; the same seed gives the same bars. Default 42.
    pub seed: u64,
    /// CSV feed: the file to replay, relative to the config file. Required for `kind = "csv"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<PathBuf>,
    /// CSV feed: what a malformed row does: `"stop"` the feed (default) or `"skip"` it with a warning.
    pub on_bad_row: BadRowPolicy,
    /// CSV feed: pacing as a multiple of real time (60 = a minute of bars per
    /// second); 0 replays as fast as the loop takes them. Default 0.
    pub speed: f64,
    /// TCP feed: the loopback address to listen on for JSON lines. Default `"127.0.0.1:9100"`.
    pub listen: String,
}

impl Default for FeedSection {
    fn default() -> Self {
        Self {
            kind: FeedKind::default(),
            symbols: d::FEED_SYMBOLS.iter().map(|s| s.to_string()).collect(),
            interval_ms: d::FEED_INTERVAL_MS,
            seed: d::FEED_SEED,
            path: None,
            on_bad_row: BadRowPolicy::default(),
            speed: d::FEED_SPEED,
            listen: d::FEED_LISTEN.to_owned(),
        }
    }
}

/// `feed.kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FeedKind {
    /// Seeded random-walk bars (`crate::feed::SyntheticFeed`).
    #[default]
    Synthetic,
    /// Replays an OHLCV CSV file (`crate::feed::csv`).
    Csv,
    /// JSON bars, one per line, from TCP clients on loopback (`crate::feed::lines`).
    Tcp,
    /// JSON bars, one per line, on standard input (`crate::feed::lines`).
    Stdin,
}

/// `feed.on_bad_row`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BadRowPolicy {
    /// Stop at the first malformed row, naming file and line.
    #[default]
    Stop,
    /// Warn (file and line) and go on with the next row.
    Skip,
}

/// `[broker]`: where orders go.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BrokerSection {
    /// The broker implementation. Default `"paper"` (the only one so far).
    pub kind: BrokerKind,
    /// Cash at start, in quote currency. Default 100_000.0, greater than 0.
    pub starting_cash: f64,
    /// Commission as a fraction of notional (0.001 = 0.1 %). Default 0.001, at least 0.
    pub commission: f64,
    /// Slippage against the fill price, in basis points. Default 0.0, at least 0.
    pub slippage_bps: f64,
    /// Which fills first when one bar touches a stop and a limit of the
    /// same symbol (a bracket's stop-loss and take-profit). Default
    /// `"stop_first"` (the conservative assumption).
    pub bracket_tie: BracketTie,
}

/// `broker.bracket_tie`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BracketTie {
    /// The stop fills first: a bar that reaches both exits at the stop.
    #[default]
    StopFirst,
    /// The limit (target) fills first: the optimistic assumption.
    TargetFirst,
}

impl BracketTie {
    /// The paper broker's rule for it.
    pub fn rule(self) -> sandbar_guest::paper::TieRule {
        match self {
            BracketTie::StopFirst => sandbar_guest::paper::TieRule::StopFirst,
            BracketTie::TargetFirst => sandbar_guest::paper::TieRule::TargetFirst,
        }
    }
}

impl Default for BrokerSection {
    fn default() -> Self {
        Self {
            kind: BrokerKind::default(),
            starting_cash: d::STARTING_CASH,
            commission: d::COMMISSION,
            slippage_bps: d::SLIPPAGE_BPS,
            bracket_tie: BracketTie::default(),
        }
    }
}

/// `broker.kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BrokerKind {
    /// Simulated fills (`crate::broker`).
    #[default]
    Paper,
}

/// `[risk]`: checks between a strategy's orders and the broker. Every key is
/// optional; a key left out is a rule not enforced. `[strategy.risk]` takes
/// the same keys and overrides them for one strategy.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RiskSection {
    /// Largest absolute position per symbol, counting orders not yet filled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_position: Option<f64>,
    /// Largest notional of one order (quantity × limit price, or × the last close for market orders).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_notional_per_order: Option<f64>,
    /// Most orders a strategy may send in any one-second window (bar time in
    /// backtests, wall-clock time live).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_orders_per_sec: Option<u32>,
    /// Kill switch: halt the strategy when its equity falls this many percent below its peak.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_drawdown_pct: Option<f64>,
    /// Largest gross exposure (every position once working orders fill, at
    /// its last close) over equity; 1.0 is a cash account.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_leverage: Option<f64>,
    /// Largest gross exposure in account currency.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_gross_exposure: Option<f64>,
    /// Whether sells may open or add to a short position; default true.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_short: Option<bool>,
}

impl RiskSection {
    /// No key set (no rule enforced); such a `[strategy.risk]` is left out
    /// when the config is written back.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// These rules over `global`: a key set here wins.
    pub fn over(&self, global: &RiskSection) -> RiskSection {
        RiskSection {
            max_position: self.max_position.or(global.max_position),
            max_notional_per_order: self
                .max_notional_per_order
                .or(global.max_notional_per_order),
            max_orders_per_sec: self.max_orders_per_sec.or(global.max_orders_per_sec),
            max_drawdown_pct: self.max_drawdown_pct.or(global.max_drawdown_pct),
            max_leverage: self.max_leverage.or(global.max_leverage),
            max_gross_exposure: self.max_gross_exposure.or(global.max_gross_exposure),
            allow_short: self.allow_short.or(global.allow_short),
        }
    }

    /// The rules in the risk module's terms, without per-symbol ones
    /// ([`crate::config::Config::risk_of`] adds those).
    pub fn to_rules(&self) -> crate::risk::RiskRules {
        crate::risk::RiskRules {
            max_position: self.max_position,
            max_notional_per_order: self.max_notional_per_order,
            max_orders_per_sec: self.max_orders_per_sec,
            max_drawdown_pct: self.max_drawdown_pct,
            max_leverage: self.max_leverage,
            max_gross_exposure: self.max_gross_exposure,
            allow_short: self.allow_short.unwrap_or(d::ALLOW_SHORT),
            symbols: Vec::new(),
        }
    }
}

/// `[symbols.NAME]`: one feed symbol's increments. Both keys optional.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SymbolSection {
    /// Price increment: limit and stop prices off it are rounded to it,
    /// away from a fill.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tick: Option<f64>,
    /// Quantity increment: quantities not a whole number of lots are refused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lot: Option<f64>,
}

impl SymbolSection {
    /// In the risk module's terms.
    pub fn to_rules(self) -> crate::risk::SymbolRules {
        crate::risk::SymbolRules {
            tick: self.tick,
            lot: self.lot,
        }
    }
}
