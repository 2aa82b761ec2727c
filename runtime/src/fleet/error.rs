//! [`FleetError`]: what went wrong talking to the fleet, with a hint.

/// A fleet operation that failed; each message names what and, on its
/// second line, how to fix it.
#[derive(Debug, thiserror::Error)]
pub enum FleetError {
    /// No connection to the NATS server.
    #[error(
        "cannot reach NATS at {url}: {cause}\n  hint: start nats-server with JetStream (`nats-server -js`), or set `fleet.url`"
    )]
    Connect {
        /// The server's address.
        url: String,
        /// What the client said.
        cause: String,
    },
    /// A credential variable named in `[fleet]` is not usable.
    #[error(
        "{0}\n  hint: export the variable named by `fleet.nkey_seed_env` (or `fleet.user_env` and `fleet.password_env`) before starting"
    )]
    Credentials(String),
    /// Someone else changed the deployment between read and write.
    #[error(
        "deployment `{id}` changed meanwhile: it is now at revision {current} (this deploy expected {expected})\n  hint: run `runtime fleet status`, then deploy again against revision {current}"
    )]
    Conflict {
        /// The strategy id.
        id: String,
        /// The revision that is there now.
        current: u64,
        /// What the writer expected (`none` for a new key).
        expected: String,
    },
    /// No such deployment.
    #[error(
        "no deployment `{id}` in fleet `{fleet}`\n  hint: `runtime fleet status` lists the deployments"
    )]
    UnknownDeployment {
        /// The strategy id.
        id: String,
        /// The namespace.
        fleet: String,
    },
    /// `rollback --steps N` reaches past the key's history.
    #[error(
        "deployment `{id}` has {available} earlier revision(s) to go back to, not {steps}\n  hint: use --steps {available} or fewer"
    )]
    NoHistory {
        /// The strategy id.
        id: String,
        /// Asked for.
        steps: usize,
        /// What the history holds.
        available: usize,
    },
    /// The artefact is not in the object store.
    #[error(
        "artefact {sha256} is not in the `sandbar-artifacts` store\n  hint: publish it first: runtime publish FILE"
    )]
    MissingArtifact {
        /// Its SHA-256.
        sha256: String,
    },
    /// The bytes downloaded are not the ones named.
    #[error(
        "artefact {sha256} downloaded with the wrong digest: {detail}\n  hint: publish the component again (runtime publish FILE); the running version stays"
    )]
    Digest {
        /// The SHA-256 it was stored under.
        sha256: String,
        /// What was wrong.
        detail: String,
    },
    /// Bad input on the command line or in the bucket.
    #[error("{message}\n  hint: {hint}")]
    Invalid {
        /// What is wrong.
        message: String,
        /// How to fix it.
        hint: String,
    },
    /// Any other NATS or local failure, with what was being done.
    #[error("{context}: {cause}")]
    Other {
        /// What was being done.
        context: String,
        /// The cause.
        cause: String,
    },
}

impl FleetError {
    /// An [`FleetError::Other`] naming what was being done.
    pub(crate) fn other(context: impl Into<String>, cause: impl std::fmt::Display) -> Self {
        FleetError::Other {
            context: context.into(),
            cause: cause.to_string(),
        }
    }
}
