//! Helpers for testing a strategy natively, next to [`crate::Harness`]:
//! seeded synthetic markets, a compact view of the orders a run produced, a
//! tally of how busy a strategy was, and a check that a README documents the
//! parameters the code declares.
//!
//! Everything here is deterministic (no clock, no OS randomness), so a test
//! that passes once passes everywhere.
//!
//! ```
//! use sandbar_guest::testing::{flatten, random_walk};
//! use sandbar_guest::{Harness, Side, Strategy};
//! # use sandbar_guest::{Bar, Orders, ParamError, Position, params};
//! # params! { pub struct NoParams {} }
//! # /// Buys one unit on the first bar, then holds.
//! # pub struct BuyOnce(());
//! # impl Strategy for BuyOnce {
//! #     const NAME: &'static str = "buy-once";
//! #     const VERSION: &'static str = "0.1.0";
//! #     const DESCRIPTION: &'static str = "Buys one unit.";
//! #     type Params = NoParams;
//! #     type State = ();
//! #     fn warmup_bars(_: &NoParams) -> u32 { 0 }
//! #     fn new(_: NoParams, _: &[String]) -> Result<Self, ParamError> { Ok(Self(())) }
//! #     fn on_bar(&mut self, bar: &Bar, position: &Position, orders: &mut Orders) {
//! #         orders.target(bar.symbol, position.quantity, 1.0);
//! #     }
//! #     fn state(&self) -> &() { &self.0 }
//! #     fn restore_state(&mut self, _: ()) -> Result<(), String> { Ok(()) }
//! # }
//!
//! let mut h = Harness::<BuyOnce>::with_defaults(&["BTCUSD"]);
//! // Every order is filled at its bar's close, so it is not repeated.
//! let per_bar = h.run_filled(0, &random_walk(7, 100));
//! assert_eq!(flatten(&per_bar), [(Side::Buy, 1.0)]);
//! assert_eq!(h.position(0).quantity, 1.0);
//! ```

use crate::{Order, ParamKind, ParamValue, Params, Side, StrategyInfo};

/// A tiny deterministic generator (a 64-bit linear congruential generator):
/// no dependency, the same numbers on every platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lcg(u64);

impl Lcg {
    /// A generator started from `seed`; equal seeds give equal sequences.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next number, uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// `bars` closes of a random walk from 100, each within ±0.5 % of the one
/// before, drawn from [`Lcg::new`]`(seed)`.
pub fn random_walk(seed: u64, bars: usize) -> Vec<f64> {
    let mut lcg = Lcg::new(seed);
    let mut close = 100.0;
    (0..bars)
        .map(|_| {
            close *= 1.0 + 0.01 * (lcg.unit() - 0.5);
            close
        })
        .collect()
}

/// A trending market from 100: up `leg` bars by 1, then down `leg` bars by 1,
/// `cycles` times (`2 * cycles * leg` closes, ending back at 100).
pub fn triangle(cycles: usize, leg: usize) -> Vec<f64> {
    let mut out = Vec::with_capacity(2 * cycles * leg);
    let mut price = 100.0;
    for _ in 0..cycles {
        for _ in 0..leg {
            price += 1.0;
            out.push(price);
        }
        for _ in 0..leg {
            price -= 1.0;
            out.push(price);
        }
    }
    out
}

/// The orders of every bar (as returned per bar by
/// [`crate::Harness::run_filled`]), in order, as `(side, quantity)`: the
/// shape most assertions about a run want.
pub fn flatten(per_bar: &[Vec<Order>]) -> Vec<(Side, f64)> {
    per_bar
        .iter()
        .flatten()
        .map(|o| (o.side, o.quantity))
        .collect()
}

/// How a strategy traded a run of bars: see [`crate::Harness::activity`], or
/// [`Activity::record`] each bar yourself when feeding full bars.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Activity {
    /// Bars after which the position was open on a side it was not on
    /// before the bar (flat to long, long to short, ...).
    pub entries: usize,
    /// Bars that returned at least one order.
    pub busy_bars: usize,
    /// Every order of the run, in order.
    pub orders: Vec<Order>,
}

impl Activity {
    /// Counts one bar: the position quantity before and after it (its orders
    /// filled) and the orders it returned.
    pub fn record(&mut self, before: f64, after: f64, orders: &[Order]) {
        if after != 0.0 && (before == 0.0 || (before > 0.0) != (after > 0.0)) {
            self.entries += 1;
        }
        self.busy_bars += usize::from(!orders.is_empty());
        self.orders.extend_from_slice(orders);
    }
}

/// One parameter as a README table row documents it: name, kind (`int`,
/// `float`, `bool` or `text`) and default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamRow {
    /// The parameter's name, as in `[strategy.params]`.
    pub name: String,
    /// `int`, `float`, `bool` or `text`.
    pub kind: String,
    /// The default as TOML writes it (`14`, `1.0`, `true`); a text default
    /// as is, without quotes.
    pub default: String,
}

/// The parameter rows of a README: every line starting with ``| ` `` is a
/// table row `| `name` | kind | default | ...`; backticks around cells are
/// dropped and further cells (a description) ignored.
///
/// ```
/// let readme = "| name | kind | default | meaning |\n\
///               | --- | --- | --- | --- |\n\
///               | `period` | int | `14` | Lookback. |\n";
/// let rows = sandbar_guest::testing::readme_param_rows(readme);
/// assert_eq!((rows[0].name.as_str(), rows[0].kind.as_str(), rows[0].default.as_str()),
///            ("period", "int", "14"));
/// ```
pub fn readme_param_rows(readme: &str) -> Vec<ParamRow> {
    readme
        .lines()
        .filter(|l| l.starts_with("| `"))
        .map(|l| {
            let cells: Vec<&str> = l.split('|').map(|c| c.trim().trim_matches('`')).collect();
            let cell = |i: usize| cells.get(i).copied().unwrap_or_default().to_owned();
            ParamRow {
                name: cell(1),
                kind: cell(2),
                default: cell(3),
            }
        })
        .collect()
}

/// The rows a README should show for the parameter set `P`, in declaration
/// order, formatted as [`readme_param_rows`] reads them (a float default
/// keeps its decimal point: `1.0`). A test that keeps a README honest:
///
/// ```
/// use sandbar_guest::testing::{param_rows, readme_param_rows};
///
/// sandbar_guest::params! {
///     pub struct P {
///         /// Lookback.
///         period: u32 = 14,
///         /// Order size.
///         size: f64 = 1.0,
///     }
/// }
/// let readme = "| `period` | int | `14` | Lookback. |\n| `size` | float | `1.0` | Order size. |";
/// assert_eq!(readme_param_rows(readme), param_rows::<P>());
/// ```
pub fn param_rows<P: Params>() -> Vec<ParamRow> {
    P::specs()
        .into_iter()
        .map(|s| {
            let kind = match s.kind {
                ParamKind::Int => "int",
                ParamKind::Float => "float",
                ParamKind::Boolean => "bool",
                ParamKind::Text => "text",
            };
            let default = match s.default {
                ParamValue::Int(v) => v.to_string(),
                ParamValue::Float(v) => format!("{v:?}"),
                ParamValue::Boolean(v) => v.to_string(),
                ParamValue::Text(v) => v,
            };
            ParamRow {
                name: s.name,
                kind: kind.to_owned(),
                default,
            }
        })
        .collect()
}

/// Asserts that `readme` documents exactly the parameters of `P`, in order,
/// with their kinds and defaults (see [`readme_param_rows`] for the table
/// format); panics showing both lists otherwise.
///
/// ```
/// sandbar_guest::params! {
///     pub struct P {
///         /// Lookback.
///         period: u32 = 14,
///     }
/// }
/// sandbar_guest::testing::assert_readme_params::<P>("| `period` | int | `14` | Lookback. |");
/// ```
#[track_caller]
pub fn assert_readme_params<P: Params>(readme: &str) {
    assert_eq!(
        readme_param_rows(readme),
        param_rows::<P>(),
        "the README's parameter table (left) differs from the code (right)"
    );
}

/// `(name, kind, default)` of each parameter `info` describes, in order, for
/// comparing with a literal list; panics naming the first parameter whose
/// description is empty, since every parameter should say what it does.
#[track_caller]
pub fn described_params(info: &StrategyInfo) -> Vec<(&str, ParamKind, ParamValue)> {
    if let Some(bare) = info.params.iter().find(|s| s.description.is_empty()) {
        panic!(
            "parameter `{}` of {} has no description",
            bare.name, info.name
        );
    }
    info.params
        .iter()
        .map(|s| (s.name.as_str(), s.kind, s.default.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::OrderKind;

    fn order(side: Side, quantity: f64) -> Order {
        Order {
            symbol: 0,
            side,
            quantity,
            kind: OrderKind::Market,
        }
    }

    #[test]
    fn lcg_is_seeded_and_stays_in_the_unit_interval() {
        let mut a = Lcg::new(1);
        let mut b = Lcg::new(1);
        let first: Vec<f64> = (0..1000).map(|_| a.unit()).collect();
        assert!(first.iter().all(|u| (0.0..1.0).contains(u)));
        assert_eq!(first, (0..1000).map(|_| b.unit()).collect::<Vec<_>>());
        assert_ne!(Lcg::new(2).unit(), Lcg::new(1).unit());
        // Pinned: a strategy's tests rely on these exact numbers.
        assert_eq!(Lcg::new(0).unit(), 0.07820865487829387);
    }

    #[test]
    fn random_walk_steps_at_most_half_a_percent() {
        let walk = random_walk(42, 1000);
        assert_eq!(walk.len(), 1000);
        assert_eq!(walk, random_walk(42, 1000));
        assert_ne!(walk, random_walk(43, 1000));
        let mut previous = 100.0;
        for &close in &walk {
            assert!(
                (close / previous - 1.0).abs() <= 0.005,
                "{previous} -> {close}"
            );
            previous = close;
        }
    }

    #[test]
    fn triangle_rises_and_falls_by_one() {
        assert_eq!(
            triangle(2, 2),
            [101.0, 102.0, 101.0, 100.0, 101.0, 102.0, 101.0, 100.0]
        );
        assert!(triangle(0, 5).is_empty());
    }

    #[test]
    fn flatten_keeps_the_order_of_bars_and_orders() {
        let per_bar = vec![
            vec![],
            vec![order(Side::Buy, 1.0), order(Side::Sell, 2.0)],
            vec![],
            vec![order(Side::Sell, 0.5)],
        ];
        assert_eq!(
            flatten(&per_bar),
            [(Side::Buy, 1.0), (Side::Sell, 2.0), (Side::Sell, 0.5)]
        );
    }

    #[test]
    fn activity_counts_entries_on_a_new_side_and_busy_bars() {
        let mut a = Activity::default();
        a.record(0.0, 0.0, &[]); // idle
        a.record(0.0, 1.0, &[order(Side::Buy, 1.0)]); // flat to long: entry
        a.record(1.0, 1.0, &[]); // held
        a.record(1.0, 2.0, &[order(Side::Buy, 1.0)]); // added: not an entry
        a.record(2.0, -1.0, &[order(Side::Sell, 3.0)]); // long to short: entry
        a.record(-1.0, 0.0, &[order(Side::Buy, 1.0)]); // closed: not an entry
        a.record(0.0, 0.0, &[order(Side::Buy, 1.0)]); // unfilled: busy only
        assert_eq!((a.entries, a.busy_bars, a.orders.len()), (2, 5, 5));
        assert_eq!(a.orders[2].quantity, 3.0);
    }

    crate::params! {
        struct Demo {
            /// Lookback.
            period: u32 = 14,
            /// Size.
            size: f64 = 1.0,
            /// Shorting.
            allow_short: bool = false,
            /// Label.
            label: String = String::from("x"),
        }
    }

    #[test]
    fn param_rows_format_kinds_and_defaults_as_a_readme_shows_them() {
        let rows: Vec<_> = param_rows::<Demo>()
            .into_iter()
            .map(|r| (r.name, r.kind, r.default))
            .collect();
        let expected = [
            ("period", "int", "14"),
            ("size", "float", "1.0"),
            ("allow_short", "bool", "false"),
            ("label", "text", "x"),
        ]
        .map(|(n, k, d)| (n.to_owned(), k.to_owned(), d.to_owned()));
        assert_eq!(rows, expected);
    }

    #[test]
    fn readme_rows_are_the_backticked_table_lines() {
        let readme = "\
# Demo

| name | kind | default | meaning |
| --- | --- | --- | --- |
| `period` | int | `14` | Lookback. |
| `size` | float | `1.0` | Size. |
| `allow_short` | bool | `false` | Shorting. |
| `label` | text | `x` | Label. |

Text with `code` and | a pipe.
| `short` |
";
        let rows = readme_param_rows(readme);
        assert_eq!(rows[..4], param_rows::<Demo>()[..]);
        assert_eq!(
            rows[4],
            ParamRow {
                name: "short".into(),
                kind: String::new(),
                default: String::new()
            }
        );
        assert_eq!(rows.len(), 5);
    }

    #[test]
    fn readme_params_assert_passes_on_a_matching_table() {
        assert_readme_params::<Demo>(
            "| `period` | int | `14` | L |\n| `size` | float | `1.0` | S |\n\
             | `allow_short` | bool | `false` | A |\n| `label` | text | x | T |",
        );
    }

    #[test]
    #[should_panic(expected = "differs from the code")]
    fn readme_params_assert_fails_on_a_stale_default() {
        assert_readme_params::<Demo>(
            "| `period` | int | `20` | L |\n| `size` | float | `1.0` | S |\n\
             | `allow_short` | bool | `false` | A |\n| `label` | text | x | T |",
        );
    }

    fn info(descriptions: [&str; 2]) -> StrategyInfo {
        let spec = |name: &str, default: i64, description: &str| crate::ParamSpec {
            name: name.into(),
            kind: ParamKind::Int,
            default: ParamValue::Int(default),
            description: description.into(),
        };
        StrategyInfo {
            name: "demo".into(),
            version: "0.1.0".into(),
            description: "Demo.".into(),
            params: vec![
                spec("fast", 2, descriptions[0]),
                spec("slow", 4, descriptions[1]),
            ],
            warmup_bars: 4,
        }
    }

    #[test]
    fn described_params_lists_name_kind_and_default() {
        assert_eq!(
            described_params(&info(["Fast.", "Slow."])),
            [
                ("fast", ParamKind::Int, ParamValue::Int(2)),
                ("slow", ParamKind::Int, ParamValue::Int(4)),
            ]
        );
    }

    #[test]
    #[should_panic(expected = "parameter `slow` of demo has no description")]
    fn described_params_refuses_an_undocumented_parameter() {
        described_params(&info(["Fast.", ""]));
    }
}
