//! The live dashboard and the backtest report in a real headless Chromium
//! (browser.rs drives it over the DevTools protocol), and `/ws`, the
//! dashboard's WebSocket, with a plain client (ws.rs): what it sends, the
//! token rules, and clients that misbehave. The browser tests save a
//! screenshot of each page into `docs/screenshots/` (or
//! `$SANDBAR_SCREENSHOTS`), the pictures README shows.

mod browser;
mod pages;
mod ws;

use crate::support::*;
use sandbar_runtime::ops::{OpsServer, OpsSettings, TokenSecret};
use std::path::PathBuf;
use std::time::Duration;

pub const ALICE: &str = "alice-token-0123456789";

/// Where the tests put their screenshots.
pub fn screenshot_path(name: &str) -> PathBuf {
    let dir = std::env::var_os("SANDBAR_SCREENSHOTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("docs/screenshots"));
    dir.join(name)
}

/// The example strategies the 18 extra strategies of [`twenty`] cycle through.
const EXAMPLES: [&str; 5] = [
    "sma-cross",
    "rsi-reversion",
    "channel-breakout",
    "bollinger-reversion",
    "macd-atr",
];

/// A sandbox running 20 strategies: `audit` (seq-audit), `hostile`
/// (panics from bar `trap_from`), and `s01`..`s18` (the examples in turn).
pub fn twenty(trap_from: u64) -> Sandbox {
    let sandbox = Sandbox::new();
    std::fs::copy(component("hostile"), sandbox.path("dist/hostile.wasm")).unwrap();
    let mut extra = crate::hostile::hostile_block("panic", trap_from);
    for i in 1..=18 {
        let example = EXAMPLES[(i - 1) % EXAMPLES.len()];
        std::fs::copy(
            component(example),
            sandbox.path(&format!("dist/s{i:02}.wasm")),
        )
        .unwrap();
        extra.push_str(&format!(
            "[[strategy]]\nid = \"s{i:02}\"\nwasm = \"s{i:02}.wasm\"\n"
        ));
    }
    sandbox.write_config(&SandboxConfig {
        extra_strategies: &extra,
        ..SandboxConfig::default()
    });
    sandbox
}

pub fn settings(sandbox: &Sandbox, tokens: Vec<TokenSecret>) -> OpsSettings {
    let mut settings = OpsSettings::local("127.0.0.1:0".parse().unwrap());
    settings.tokens = tokens;
    settings.config_path = Some(sandbox.config_path());
    settings.watching = vec![sandbox.path("dist"), sandbox.config_path()];
    settings.keep_alive = Duration::from_millis(200);
    settings
}

pub fn alice() -> Vec<TokenSecret> {
    vec![TokenSecret {
        name: "alice".into(),
        secret: ALICE.into(),
    }]
}

pub fn start_ops(sandbox: &Sandbox, settings: OpsSettings) -> OpsServer {
    OpsServer::start(sandbox.runtime().handle(), settings).unwrap()
}
