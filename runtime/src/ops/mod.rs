//! The ops surface of `runtime live`: a small HTTP API on loopback (axum on
//! its own tokio thread) and the blocking client the CLI uses.
//!
//! | method | path | what |
//! |---|---|---|
//! | GET | `/` | the live dashboard in a browser (JSON index otherwise) |
//! | GET | `/ws` | WebSocket: events as on `/events` plus status pushes |
//! | GET | `/status` | process and per-strategy status as JSON |
//! | GET | `/strategies/{id}` | one strategy's status |
//! | GET | `/metrics` | Prometheus text format |
//! | GET | `/events` | Server-Sent Events: every runtime event as it happens |
//! | POST | `/strategies/{id}/reload` | run the reload pipeline now |
//! | POST | `/strategies/{id}/rollback?steps=N` or `?to_version=V` | roll back |
//! | POST | `/strategies/{id}/{pause,resume,halt,unhalt}` | change the run state |
//!
//! The server only reads the runtime through a [`RuntimeHandle`], so it can
//! neither keep the runtime alive nor stall the bar loop: status reads take
//! the control plane's locks briefly and control calls go through the same
//! command queue as the file watcher.
//!
//! ```no_run
//! use sandbar_runtime::config::Config;
//! use sandbar_runtime::live::{LiveOptions, Runtime};
//! use sandbar_runtime::ops::{OpsServer, OpsSettings};
//!
//! let config = Config::embedded_default();
//! let settings = OpsSettings::from_config(&config, None, true)?;
//! let runtime = Runtime::start(config, LiveOptions::default())?;
//! let server = OpsServer::start(runtime.handle(), settings)?;
//! println!("ops API on http://{}", server.local_addr());
//! # Ok::<(), anyhow::Error>(())
//! ```
//!
//! [`RuntimeHandle`]: crate::live::RuntimeHandle

mod auth;
mod bridge;
mod candidate;
mod client;
mod control;
mod dashboard;
mod error;
mod event_metrics;
mod exposition;
mod fd_limit;
mod listener;
mod metrics;
mod metrics_shadow;
mod origin;
mod rate_limit;
mod refusal;
mod render;
mod render_activity;
mod render_shadow;
mod server;
mod settings;
mod sse;
mod status;

pub use auth::{Access, Auth, Denied};
pub use client::{ClientError, OpsClient, SseMessage, path_segment};
pub use control::ControlResponse;
pub use error::OpsError;
pub use render::{render_control, render_event_line, render_status};
pub use render_shadow::render_diff;
pub use server::OpsServer;
pub use settings::{OpsSettings, TokenSecret};
pub use status::OpsStatus;
