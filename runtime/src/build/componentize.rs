//! Turns the core module that wit-bindgen produced into a component. The
//! contract's type information is embedded by wit-bindgen; no WASI adapter is
//! needed because strategies import nothing from WASI.

use anyhow::Context;

/// Wraps a `wasm32-unknown-unknown` core module built with `sandbar-guest`
/// into a validated component (not yet sealed: [`crate::seal::seal`] does
/// that last). Fails when the module carries no component type information,
/// which is what a crate built without `sandbar-guest` looks like.
pub fn componentize(core_module: &[u8]) -> anyhow::Result<Vec<u8>> {
    wit_component::ComponentEncoder::default()
        .module(core_module)
        .context("the module carries no usable component type information (built without sandbar-guest?)")?
        .validate(true)
        .encode()
        .context("cannot encode the component")
}
