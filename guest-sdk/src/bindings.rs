//! The one place where guest bindings for the contract are generated.

// `init`'s generated ABI shim takes the flattened arguments.
#![allow(clippy::too_many_arguments)]
// wit-bindgen output: the contract's records, fields, cases and functions
// carry the doc comments of `wit/0.2.0/strategy.wit` (document them there), but the
// glue around them (the package and interface modules, `Guest`, ABI shims)
// has no source to take docs from. The lint already skips this module because
// it is `#[doc(hidden)]`; this keeps it quiet should that change.
#![allow(missing_docs)]

wit_bindgen::generate!({
    path: "wit/0.2.0",
    world: "strategy",
    pub_export_macro: true,
    export_macro_name: "__export_strategy_world",
    additional_derives: [PartialEq],
    generate_all,
});
