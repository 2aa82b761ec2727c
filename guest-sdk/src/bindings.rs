//! The one place where guest bindings for the contract are generated.

// `init`'s generated ABI shim takes the flattened arguments.
#![allow(clippy::too_many_arguments)]

wit_bindgen::generate!({
    path: "wit",
    world: "strategy",
    pub_export_macro: true,
    export_macro_name: "__export_strategy_world",
    additional_derives: [PartialEq],
    generate_all,
});
