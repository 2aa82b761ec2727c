//! [`FleetSettings`]: `[fleet]` with its credentials read from the
//! environment, and the connection they make.

use super::error::FleetError;
use crate::config::{Config, FleetSection};
use std::time::Duration;

/// How a node proves who it is to the NATS server.
#[derive(Clone, Default)]
pub enum Credentials {
    /// No credentials (dev only; validation refuses this in prod).
    #[default]
    None,
    /// A user name and password.
    UserPassword {
        /// The user.
        user: String,
        /// The password.
        password: String,
    },
    /// An nkey seed (`SU...`).
    NkeySeed(String),
}

// Secrets stay out of logs and panics.
impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Credentials::None => "None",
            Credentials::UserPassword { .. } => "UserPassword(<redacted>)",
            Credentials::NkeySeed(_) => "NkeySeed(<redacted>)",
        })
    }
}

/// Everything a fleet connection needs, resolved.
#[derive(Debug, Clone)]
pub struct FleetSettings {
    /// `fleet.url`.
    pub url: String,
    /// `fleet.node`.
    pub node: String,
    /// `fleet.fleet`.
    pub fleet: String,
    /// `fleet.labels`.
    pub labels: std::collections::BTreeMap<String, String>,
    /// From the variables `[fleet]` names.
    pub credentials: Credentials,
    /// `fleet.heartbeat_ms`.
    pub heartbeat: Duration,
}

impl FleetSettings {
    /// `[fleet]` of `config` with its credential variables read now; `None`
    /// without `[fleet]`. A named variable that is unset or empty is an error.
    pub fn from_config(config: &Config) -> Result<Option<FleetSettings>, FleetError> {
        config.fleet.as_ref().map(Self::from_section).transpose()
    }

    /// Like [`FleetSettings::from_config`], from the section itself.
    pub fn from_section(section: &FleetSection) -> Result<FleetSettings, FleetError> {
        let read = |key: &str, var: &str| -> Result<String, FleetError> {
            match std::env::var(var) {
                Ok(value) if !value.is_empty() => Ok(value),
                Ok(_) => Err(FleetError::Credentials(format!(
                    "`fleet.{key}` names {var}, which is empty"
                ))),
                Err(_) => Err(FleetError::Credentials(format!(
                    "`fleet.{key}` names {var}, which is not set"
                ))),
            }
        };
        let credentials = match (
            &section.nkey_seed_env,
            &section.user_env,
            &section.password_env,
        ) {
            (Some(seed), _, _) => Credentials::NkeySeed(read("nkey_seed_env", seed)?),
            (None, Some(user), Some(password)) => Credentials::UserPassword {
                user: read("user_env", user)?,
                password: read("password_env", password)?,
            },
            _ => Credentials::None,
        };
        Ok(FleetSettings {
            url: section.url.clone(),
            node: section.node.clone(),
            fleet: section.fleet.clone(),
            labels: section.labels.clone(),
            credentials,
            heartbeat: Duration::from_millis(section.heartbeat_ms),
        })
    }

    /// Settings for a client that is not a node (the CLI, tests): a URL
    /// and a namespace, no credentials.
    pub fn client(url: &str, fleet: &str) -> FleetSettings {
        FleetSettings {
            url: url.to_owned(),
            node: String::new(),
            fleet: fleet.to_owned(),
            labels: Default::default(),
            credentials: Credentials::None,
            heartbeat: Duration::from_millis(crate::config::FleetSection::default().heartbeat_ms),
        }
    }

    /// Connects once (no retry: callers decide), within `timeout`.
    pub(crate) async fn connect(
        &self,
        timeout: Duration,
    ) -> Result<async_nats::Client, FleetError> {
        let options = match &self.credentials {
            Credentials::None => async_nats::ConnectOptions::new(),
            Credentials::UserPassword { user, password } => {
                async_nats::ConnectOptions::with_user_and_password(user.clone(), password.clone())
            }
            Credentials::NkeySeed(seed) => async_nats::ConnectOptions::with_nkey(seed.clone()),
        };
        let name = if self.node.is_empty() {
            "sandbar-cli".to_owned()
        } else {
            format!("sandbar-node-{}", self.node)
        };
        let options = options
            .name(name)
            .connection_timeout(timeout)
            // After the first connection the client reconnects by itself,
            // forever, quickly: a node never gives up on its fleet.
            .max_reconnects(None::<usize>)
            .reconnect_delay_callback(|attempts| {
                Duration::from_millis((100 * attempts as u64).min(2_000))
            });
        let connect = async_nats::connect_with_options(self.url.as_str(), options);
        match tokio::time::timeout(timeout + Duration::from_millis(200), connect).await {
            Ok(Ok(client)) => Ok(client),
            Ok(Err(e)) => Err(FleetError::Connect {
                url: self.url.clone(),
                cause: e.to_string(),
            }),
            Err(_) => Err(FleetError::Connect {
                url: self.url.clone(),
                cause: format!("no answer within {} ms", timeout.as_millis()),
            }),
        }
    }
}
