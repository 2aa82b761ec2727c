//! Contract `sandbar:strategy@0.1.0`: its bindings (wasmtime `bindgen!` over
//! `guest-sdk/wit/strategy.wit`). Its records (`Bar`, `Position`, `Fill`,
//! `Order`, `Param`, `StrategyInfo`...) are the host's own vocabulary: the
//! 0.2.0 bindings convert to and from them at the instance's edge
//! (`v2.rs`), so the bar loop, the broker and the backtest have one set of
//! types whatever contract a component speaks.

/// The `bindgen!` output, re-exported below unchanged (the module exists only
/// to scope the lint: an attribute on the macro call itself is ignored).
mod generated {
    // The generated records and enums carry the WIT's own doc comments where
    // it has them; the rest (bindgen's plumbing: `*Pre`, `*Indices`,
    // `call_*`, `add_to_linker`, the per-interface `Host` traits) cannot be
    // documented without editing generated code, so `missing_docs` is off for
    // this macro's output only.
    #![allow(missing_docs)]
    wasmtime::component::bindgen!({
        path: "../guest-sdk/wit",
        world: "strategy",
        imports: { default: tracing },
        // `host.log` is linked by hand (`contract::linker`); only its types are used.
        additional_derives: [PartialEq],
    });
}
pub use generated::*;

// `Bar`, `Fill`, `Order`, `Param`, `Position` and `StrategyInfo` are used by
// the world and so already aliased here by bindgen.
pub use sandbar::strategy::types::{LogLevel, OrderKind, ParamKind, ParamSpec, ParamValue, Side};

/// This contract's version, as it appears in import names.
pub const VERSION: &str = "0.1.0";

impl sandbar::strategy::types::Host for super::HostState {}
