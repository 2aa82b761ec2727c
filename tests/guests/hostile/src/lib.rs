//! A hostile test guest. It behaves until bar `from_seq`, then does what
//! `mode` says, so one component covers many attacks:
//!
//! | mode | what it does |
//! |---|---|
//! | `loop-init` | loops forever in `init` |
//! | `loop` | loops forever in `on-bar` |
//! | `busy` | spins 1,000,000 iterations in every `on-bar` (milliseconds, within a generous deadline): it stalls the loop without trapping |
//! | `grow` | allocates until memory runs out |
//! | `recurse` | recurses until the stack overflows |
//! | `panic` | panics |
//! | `huge-orders` | returns 10,000 orders |
//! | `nan` | returns an order with a NaN quantity |
//! | `inf-price` | returns a limit order at an infinite price |
//! | `log-spam` | logs 1,000 lines per bar |
//! | `big-snapshot` | keeps 100 KB of state |
//! | `leak` | keeps 256 KiB more memory on every bar from `from_seq` on (outside its snapshot state), so it runs out of memory every few hundred bars while smoke tests and warm-ups pass, and a rebuild always succeeds |
//! | `panic-on-big-restore` | panics in `restore` when handed a `big-snapshot` state (its own restores pass) |
//! | `grow-snapshot` | from `from_seq` on, keeps `snapshot_kb` KiB of state (its smoke test passes) |
//! | `slow-snapshot` | from `from_seq` on, spins in `snapshot` (fuel permitting) |
//! | `nul-lines` | logs 32 lines of 1 KiB of NUL bytes per bar |
//! | `big-lines` | logs 32 lines of 64 KiB per bar |
//! | `huge-line` | logs one line of 2 MiB per bar |
//! | `log-loop` | logs in an endless loop |
//! | `format-spam` | formats the 1,000 lines of `log-spam` but does not log them (its fuel baseline) |

use sandbar_guest::{Bar, Orders, ParamError, Position, Side, Strategy, log, params};
use serde::{Deserialize, Serialize};

params! {
    pub struct HostileParams {
        /// What to do wrong (see the crate docs); "none" behaves.
        mode: String = String::from("none"),
        /// First bar sequence number on which to misbehave.
        from_seq: i64 = 0,
        /// State size of `grow-snapshot`, in KiB.
        snapshot_kb: i64 = 100,
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct HostileState {
    ballast: Vec<u8>,
}

pub struct Hostile {
    params: HostileParams,
    state: HostileState,
    /// What mode `leak` keeps: not part of the snapshot, so every rebuild
    /// starts empty again.
    leaked: Vec<Vec<u8>>,
    /// A bar at or past `from_seq` was seen (modes that misbehave in
    /// `snapshot` start then).
    armed: bool,
}

/// Recurses until the stack overflows; that is the point.
#[inline(never)]
#[allow(unconditional_recursion)]
fn recurse(depth: u64) -> u64 {
    let local = [depth; 16];
    std::hint::black_box(&local);
    recurse(depth + 1) + std::hint::black_box(local[3])
}

fn spin() -> ! {
    let mut x = 0u64;
    loop {
        x = std::hint::black_box(x.wrapping_add(1));
    }
}

impl Strategy for Hostile {
    const NAME: &'static str = "hostile";
    const VERSION: &'static str = "0.1.0";
    const DESCRIPTION: &'static str = "Test guest: misbehaves on purpose.";
    type Params = HostileParams;
    type State = HostileState;

    fn warmup_bars(_: &HostileParams) -> u32 {
        0
    }

    fn new(params: HostileParams, _symbols: &[String]) -> Result<Self, ParamError> {
        let ballast = if params.mode == "big-snapshot" {
            vec![0u8; 100 << 10]
        } else {
            Vec::new()
        };
        if params.mode == "loop-init" {
            spin();
        }
        Ok(Self {
            params,
            state: HostileState { ballast },
            leaked: Vec::new(),
            armed: false,
        })
    }

    fn on_bar(&mut self, bar: &Bar, _position: &Position, orders: &mut Orders) {
        if (bar.seq as i64) < self.params.from_seq {
            return;
        }
        self.armed = true;
        match self.params.mode.as_str() {
            "grow-snapshot" => {
                let size = usize::try_from(self.params.snapshot_kb).unwrap_or(0) << 10;
                if self.state.ballast.len() != size {
                    self.state.ballast = vec![7u8; size];
                }
            }
            "nul-lines" => {
                let line = "\0".repeat(1024);
                for _ in 0..32 {
                    log::info(&line);
                }
            }
            "big-lines" => {
                let line = "x".repeat(64 << 10);
                for _ in 0..32 {
                    log::info(&line);
                }
            }
            "huge-line" => log::info(&"x".repeat(2 << 20)),
            "log-loop" => loop {
                log::info("x");
            },
            "format-spam" => {
                for i in 0..1_000 {
                    std::hint::black_box(format!("spam line {i} of bar {}", bar.seq));
                }
            }
            "leak" => self.leaked.push(vec![1u8; 256 << 10]),
            "loop" => spin(),
            "busy" => {
                let mut x = 0u64;
                for _ in 0..1_000_000 {
                    x = std::hint::black_box(x.wrapping_add(1));
                }
            }
            "grow" => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    // Zeroed pages come straight from memory.grow: cheap in
                    // fuel, so the memory cap is what stops it.
                    let mut block = vec![0u8; 1 << 20];
                    block[0] = 1;
                    hoard.push(block);
                    std::hint::black_box(&hoard);
                }
            }
            "recurse" => {
                std::hint::black_box(recurse(0));
            }
            "panic" => panic!("hostile guest panics on purpose at bar {}", bar.seq),
            "huge-orders" => {
                for _ in 0..10_000 {
                    orders.market(bar.symbol, Side::Buy, 1.0);
                }
            }
            "nan" => orders.market(bar.symbol, Side::Buy, f64::NAN),
            "inf-price" => orders.limit(bar.symbol, Side::Sell, 1.0, f64::INFINITY),
            "log-spam" => {
                for i in 0..1_000 {
                    log::info(&format!("spam line {i} of bar {}", bar.seq));
                }
            }
            _ => {}
        }
    }

    fn state(&self) -> &HostileState {
        if self.armed && self.params.mode == "slow-snapshot" {
            spin();
        }
        &self.state
    }

    fn restore_state(&mut self, state: HostileState) -> Result<(), String> {
        if self.params.mode == "panic-on-big-restore" && !state.ballast.is_empty() {
            panic!("hostile guest panics on purpose in restore");
        }
        self.state = state;
        Ok(())
    }
}

sandbar_guest::export_strategy!(Hostile);

#[cfg(test)]
mod tests {
    use super::*;
    use sandbar_guest::{Harness, value};

    #[test]
    fn behaves_before_from_seq_and_misbehaves_after() {
        let mut h = Harness::<Hostile>::new(&["X"]);
        h.init(&[
            ("mode", value(String::from("nan"))),
            ("from_seq", value(2i64)),
        ])
        .unwrap();
        assert!(h.on_close(0, 1.0).is_empty());
        assert!(h.on_close(0, 1.0).is_empty());
        assert!(h.on_close(0, 1.0)[0].quantity.is_nan());
    }
}
