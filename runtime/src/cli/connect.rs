//! How the client commands find a running `runtime live`: `--addr`, else
//! `$SANDBAR_OPS_ADDR`, else the `[ops] listen` of `--config`, else the
//! default `127.0.0.1:9190`; the token from `--token`, else
//! `$SANDBAR_OPS_TOKEN`, else the config's first `[[ops.tokens]]`.

use sandbar_runtime::config::Config;
use sandbar_runtime::ops::OpsClient;
use std::path::PathBuf;

pub const ADDR_ENV: &str = "SANDBAR_OPS_ADDR";
pub const TOKEN_ENV: &str = "SANDBAR_OPS_TOKEN";

#[derive(Debug, clap::Args)]
pub struct OpsArgs {
    /// Where the ops API listens, host:port [default: $SANDBAR_OPS_ADDR, the config's `[ops] listen`, or 127.0.0.1:9190].
    #[arg(long, value_name = "HOST:PORT")]
    pub addr: Option<String>,
    /// The config the runtime runs with: its `[ops]` gives the address and token.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Bearer token for control actions [default: $SANDBAR_OPS_TOKEN, or the config's token]. Prefer the variable: arguments show in `ps`.
    #[arg(long)]
    pub token: Option<String>,
    /// Print the API's JSON answer instead of a table.
    #[arg(long)]
    pub json: bool,
}

impl OpsArgs {
    pub fn client(&self) -> anyhow::Result<OpsClient> {
        let config = match &self.config {
            Some(path) => Some(Config::from_file(path).map_err(|e| anyhow::anyhow!("{e}"))?),
            None => None,
        };
        let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let addr = self
            .addr
            .clone()
            .or_else(|| env(ADDR_ENV))
            .or_else(|| config.as_ref().map(|c| c.ops.listen.clone()))
            .unwrap_or_else(|| Config::default().ops.listen);
        let token = self.token.clone().or_else(|| env(TOKEN_ENV)).or_else(|| {
            config
                .as_ref()
                .and_then(|c| c.ops.tokens.iter().find_map(|t| t.secret().ok()))
        });
        Ok(OpsClient::new(&addr, token))
    }
}
