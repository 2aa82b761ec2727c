//! The fleet: many `runtime live` nodes steered through NATS JetStream.
//!
//! NATS holds what should run (the KV bucket [`DEPLOYMENTS_BUCKET`], one key
//! `<fleet>.<strategy id>` per deployment), the components (the Object Store
//! [`ARTIFACTS_BUCKET`], one object per SHA-256), what does run (the KV
//! bucket [`NODES_BUCKET`], one heartbeat per node with a TTL) and what
//! happened (the stream [`EVENTS_STREAM`]). A node is a source of desired
//! state for its own control plane: [`NodeAgent`] turns the bucket into
//! `[[strategy]]` entries and hands them to
//! [`crate::live::RuntimeHandle::apply_fleet`], the same diff and pipeline
//! as a config edit. Nothing here runs on the bar loop: the agent has its
//! own thread with a current-thread tokio runtime, like the ops server.
//!
//! Only JetStream APIs a 2.9 server has are used (async-nats is built
//! without its `server_2_10` features), and KV buckets are created by
//! [`bucket`], not by async-nats' `create_key_value`, whose account query
//! a 2.9 server's reply does not satisfy.

mod artifacts;
mod bucket;
mod client;
mod deployment;
mod error;
mod heartbeat;
mod node;
mod settings;
mod state;
mod status;

pub use client::{EventSubscription, Fleet, FleetClient};
pub use deployment::{DeployRequest, Deployment, Expect, NodeSelector, artifact_wasm_path};
pub use error::FleetError;
pub use heartbeat::{Heartbeat, RunningStrategy};
pub use node::NodeAgent;
pub use settings::{Credentials, FleetSettings};
pub use state::LocalState;
pub use status::{Drift, FleetStatus, NodeRow};

/// KV bucket of desired deployments.
pub const DEPLOYMENTS_BUCKET: &str = "sandbar-deployments";
/// KV bucket of node heartbeats.
pub const NODES_BUCKET: &str = "sandbar-nodes";
/// Object Store bucket of components, named by SHA-256.
pub const ARTIFACTS_BUCKET: &str = "sandbar-artifacts";
/// JetStream stream of every node's events.
pub const EVENTS_STREAM: &str = "SANDBAR_EVENTS";
/// The subject prefix of [`EVENTS_STREAM`]:
/// `sandbar.events.<fleet>.<node>.<strategy>`.
pub const EVENTS_SUBJECT: &str = "sandbar.events";
/// Revisions kept per deployment key, for `runtime rollback --fleet` (the
/// most a 2.9 server allows).
pub const DEPLOYMENT_HISTORY: i64 = 64;
/// Where, under `runtime.strategies_dir`, downloaded artefacts go.
pub const ARTIFACT_DIR: &str = "fleet";
