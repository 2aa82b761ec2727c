//! `[limits]`, its per-language tables, and the per-strategy override.

use crate::config::defaults as d;
use serde::{Deserialize, Serialize};

/// `[limits]`: what one strategy instance may use. Maps onto [`crate::Limits`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsSection {
    /// Fuel (about one per Wasm instruction) per call, refilled before every call. Default 5_000_000.
    pub fuel_per_bar: u64,
    /// Wall-clock deadline per call, in microseconds (epoch interruption). Default 50_000.
    pub deadline_us: u64,
    /// Linear memory cap per instance, in MiB. Default 64, 1..=4096.
    pub memory_mb: u64,
    /// Orders one `on-bar` may return. Default 64.
    pub max_orders_per_bar: usize,
    /// Largest snapshot carried across a swap, in KiB. Default 4096.
    pub max_snapshot_kb: u64,
    /// Largest component file the runtime reads, in MiB. Default 32.
    pub max_component_mb: u64,
    /// Wall-clock deadline of `snapshot` and `restore` on the bar loop, in
    /// microseconds. Default 20_000.
    pub state_deadline_us: u64,
    /// Log bytes one guest call may write (after escaping). Default 8192.
    pub log_bytes_per_call: u64,
    /// Log bytes one strategy instance may write per second. Default 65_536.
    pub log_bytes_per_sec: u64,
    /// Core instances one store may hold. Default 8 (a Rust strategy needs 1 or 2).
    pub instances: usize,
    /// Tables one store may hold. Default 8.
    pub tables: usize,
    /// Linear memories one store may hold. Default 4.
    pub memories: usize,
    /// `[limits.python]`: what a `language = "python"` strategy runs under
    /// instead of the keys above; keys left out take the built-in Python
    /// defaults (`defaults::PYTHON_LIMITS`), then the keys above.
    #[serde(skip_serializing_if = "LimitsOverride::is_empty")]
    pub python: LimitsOverride,
    /// `[limits.js]`: the same for `language = "js"` (`defaults::JS_LIMITS`).
    #[serde(skip_serializing_if = "LimitsOverride::is_empty")]
    pub js: LimitsOverride,
}

impl Default for LimitsSection {
    fn default() -> Self {
        Self {
            fuel_per_bar: d::FUEL_PER_BAR,
            deadline_us: d::DEADLINE_US,
            memory_mb: d::MEMORY_MB,
            max_orders_per_bar: d::MAX_ORDERS_PER_BAR,
            max_snapshot_kb: d::MAX_SNAPSHOT_KB,
            max_component_mb: d::MAX_COMPONENT_MB,
            state_deadline_us: d::STATE_DEADLINE_US,
            log_bytes_per_call: d::LOG_BYTES_PER_CALL,
            log_bytes_per_sec: d::LOG_BYTES_PER_SEC,
            instances: d::INSTANCES,
            tables: d::TABLES,
            memories: d::MEMORIES,
            python: LimitsOverride::default(),
            js: LimitsOverride::default(),
        }
    }
}

impl LimitsSection {
    /// The limits in the runtime's units (bytes). Sizes saturate rather than
    /// overflow; validation keeps them in range anyway.
    pub fn to_limits(&self) -> crate::Limits {
        crate::Limits {
            fuel_per_call: self.fuel_per_bar,
            deadline: std::time::Duration::from_micros(self.deadline_us),
            memory_bytes: usize::try_from(self.memory_mb.saturating_mul(1 << 20))
                .unwrap_or(usize::MAX),
            max_orders_per_bar: self.max_orders_per_bar,
            max_snapshot_bytes: usize::try_from(self.max_snapshot_kb.saturating_mul(1 << 10))
                .unwrap_or(usize::MAX),
            max_component_bytes: self.max_component_mb.saturating_mul(1 << 20),
            state_deadline: std::time::Duration::from_micros(self.state_deadline_us),
            log_bytes_per_call: usize::try_from(self.log_bytes_per_call).unwrap_or(usize::MAX),
            log_bytes_per_sec: self.log_bytes_per_sec,
            instances: self.instances,
            tables: self.tables,
            memories: self.memories,
        }
    }

    /// What a strategy in `language` runs under before its own
    /// `[strategy.limits]`: `[limits.python]` (or `[limits.js]`) over the
    /// built-in defaults of that language, over these keys.
    pub fn for_language(&self, language: crate::Language) -> LimitsSection {
        let (user, builtin) = match language {
            crate::Language::Rust => return self.clone(),
            crate::Language::Python => (&self.python, d::PYTHON_LIMITS),
            crate::Language::Js => (&self.js, d::JS_LIMITS),
        };
        user.or(&builtin).over(self)
    }
}

/// `[strategy.limits]`: per-strategy overrides of `[limits]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsOverride {
    /// This strategy's `limits.fuel_per_bar` (fuel per call); `None` takes `[limits]`'s.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fuel_per_bar: Option<u64>,
    /// This strategy's `limits.deadline_us` (µs per call); `None` takes `[limits]`'s.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deadline_us: Option<u64>,
    /// This strategy's `limits.memory_mb` (MiB); `None` takes `[limits]`'s.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory_mb: Option<u64>,
    /// This strategy's `limits.max_orders_per_bar`; `None` takes `[limits]`'s.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_orders_per_bar: Option<usize>,
    /// This strategy's `limits.max_snapshot_kb` (KiB); `None` takes `[limits]`'s.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_snapshot_kb: Option<u64>,
    /// This strategy's `limits.instances`; `None` takes `[limits]`'s.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instances: Option<usize>,
    /// This strategy's `limits.tables`; `None` takes `[limits]`'s.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tables: Option<usize>,
    /// This strategy's `limits.memories`; `None` takes `[limits]`'s.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memories: Option<usize>,
}

impl LimitsOverride {
    /// No key set: the strategy runs under `[limits]` as it is; such a
    /// `[strategy.limits]` is left out when the config is written back.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// These overrides applied over `global`.
    pub fn over(&self, global: &LimitsSection) -> LimitsSection {
        LimitsSection {
            fuel_per_bar: self.fuel_per_bar.unwrap_or(global.fuel_per_bar),
            deadline_us: self.deadline_us.unwrap_or(global.deadline_us),
            memory_mb: self.memory_mb.unwrap_or(global.memory_mb),
            max_orders_per_bar: self.max_orders_per_bar.unwrap_or(global.max_orders_per_bar),
            max_snapshot_kb: self.max_snapshot_kb.unwrap_or(global.max_snapshot_kb),
            max_component_mb: global.max_component_mb,
            state_deadline_us: global.state_deadline_us,
            log_bytes_per_call: global.log_bytes_per_call,
            log_bytes_per_sec: global.log_bytes_per_sec,
            instances: self.instances.unwrap_or(global.instances),
            tables: self.tables.unwrap_or(global.tables),
            memories: self.memories.unwrap_or(global.memories),
            python: global.python.clone(),
            js: global.js.clone(),
        }
    }

    /// Each key of these overrides, else that of `fallback`.
    pub const fn or(&self, fallback: &LimitsOverride) -> LimitsOverride {
        const fn pick<T: Copy>(a: Option<T>, b: Option<T>) -> Option<T> {
            match a {
                Some(v) => Some(v),
                None => b,
            }
        }
        LimitsOverride {
            fuel_per_bar: pick(self.fuel_per_bar, fallback.fuel_per_bar),
            deadline_us: pick(self.deadline_us, fallback.deadline_us),
            memory_mb: pick(self.memory_mb, fallback.memory_mb),
            max_orders_per_bar: pick(self.max_orders_per_bar, fallback.max_orders_per_bar),
            max_snapshot_kb: pick(self.max_snapshot_kb, fallback.max_snapshot_kb),
            instances: pick(self.instances, fallback.instances),
            tables: pick(self.tables, fallback.tables),
            memories: pick(self.memories, fallback.memories),
        }
    }
}
