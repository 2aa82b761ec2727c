//! [`NodeAgent`]: a `runtime live` node's side of the fleet, on a thread of
//! its own with a current-thread tokio runtime (never the bar loop's):
//!
//! - watches `sandbar-deployments` (its fleet's keys) from the revision
//!   after the last one it applied, downloads missing artefacts into
//!   `<strategies_dir>/fleet/`, and hands the deployments that select this
//!   node to the control plane as `[[strategy]]` entries
//!   ([`RuntimeHandle::apply_fleet`]: the diff and pipeline of a config edit);
//! - keeps what it applied in `fleet.state_file`, so a node that cannot
//!   reach NATS starts from it ([`NodeAgent::start_runtime`]) and catches
//!   up when NATS comes back;
//! - writes its heartbeat to `sandbar-nodes` every `fleet.heartbeat_ms`;
//! - forwards every runtime event to `sandbar.events.<fleet>.<node>.<strategy>`.
//!
//! After a reconnect (a NATS restart, a network cut) it opens the buckets
//! again and resumes the watch after its last revision; trading never
//! waits for any of it.

use super::client::{Fleet, parse};
use super::deployment::{Deployment, artifact_wasm_path};
use super::error::FleetError;
use super::heartbeat::Heartbeat;
use super::settings::FleetSettings;
use super::state::LocalState;
use crate::config::Config;
use crate::live::{LiveOptions, Runtime, RuntimeHandle};
use crate::load::Loader;
use async_nats::jetstream::kv;
use futures_util::StreamExt;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// How long one connection attempt may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// Pause between connection attempts while NATS is unreachable.
const RETRY_EVERY: Duration = Duration::from_millis(500);
/// How often the agent checks whether the client reconnected.
const RECONNECT_CHECK: Duration = Duration::from_millis(200);
/// How often an idle event bridge looks whether its agent stopped.
const BRIDGE_CHECK: Duration = Duration::from_millis(250);
/// Events queued for NATS while it is unreachable; more are dropped (and counted).
const EVENT_QUEUE: usize = 10_000;

/// What the agent shares with its owner and its tasks.
#[derive(Default)]
struct AgentShared {
    connected: AtomicBool,
    applied_revision: AtomicU64,
    /// The ids that came from the fleet (for heartbeats).
    fleet_ids: Mutex<Vec<String>>,
    events_dropped: AtomicU64,
}

/// A node's fleet agent; see the module docs. Stop it before the runtime.
pub struct NodeAgent {
    shared: Arc<AgentShared>,
    stop: tokio::sync::watch::Sender<bool>,
    thread: Option<JoinHandle<()>>,
    /// The event bridge: it ends once the agent's queue is closed.
    bridge: Option<JoinHandle<()>>,
}

struct Agent {
    settings: FleetSettings,
    handle: RuntimeHandle,
    strategies_dir: PathBuf,
    state_path: PathBuf,
    state: LocalState,
    shared: Arc<AgentShared>,
    /// Deployments whose artefact could not be had, by id (the SHA-256
    /// that failed): rejected once, tried again quietly on every new watch.
    failed: BTreeMap<String, String>,
}

/// What an agent starts from, read from a config with `[fleet]`: its
/// settings, where its local state lives, and that state.
fn starting_point(config: &Config) -> anyhow::Result<(FleetSettings, PathBuf, LocalState)> {
    let settings = FleetSettings::from_config(config)?
        .ok_or_else(|| anyhow::anyhow!("the config has no [fleet] section"))?;
    let state_path = config
        .fleet_state_file()
        .unwrap_or_else(|| crate::config::FleetSection::default().state_file);
    let state = LocalState::load(&state_path)?;
    Ok((settings, state_path, state))
}

impl NodeAgent {
    /// Starts a runtime for a config with `[fleet]`: the local
    /// `[[strategy]]` entries beside the fleet deployments last applied
    /// (from `fleet.state_file`, those whose artefact is on disk), then the
    /// agent that keeps them up to date. An id in both is a start-up error.
    pub fn start_runtime(
        config: Config,
        options: LiveOptions,
        loader: Arc<Loader>,
    ) -> anyhow::Result<(Runtime, NodeAgent)> {
        let (settings, state_path, state) = starting_point(&config)?;
        let strategies_dir = config.strategies_dir();
        let mut applied = Vec::new();
        for deployment in state.applied.values() {
            if strategies_dir
                .join(artifact_wasm_path(&deployment.sha256))
                .is_file()
            {
                applied.push(deployment.to_strategy());
            } else {
                tracing::warn!(strategy = %deployment.id, sha256 = %deployment.sha256, "the artefact of an applied fleet deployment is not on disk; it loads once NATS is reachable");
            }
        }
        if !state.applied.is_empty() {
            tracing::info!(
                revision = state.revision,
                strategies = ?state.applied.keys().collect::<Vec<_>>(),
                "starting from the fleet deployments last applied ({}); NATS is caught up with in the background",
                state_path.display()
            );
        }
        let runtime = Runtime::start_with_fleet(config, applied, options, loader)?;
        let agent = NodeAgent::start(
            settings,
            runtime.handle(),
            strategies_dir,
            state_path,
            state,
        )?;
        Ok((runtime, agent))
    }

    /// Starts the agent again for a runtime already running a config with
    /// `[fleet]` whose agent was stopped: from the state it last saved.
    pub fn resume(config: &Config, handle: RuntimeHandle) -> anyhow::Result<NodeAgent> {
        let (settings, state_path, state) = starting_point(config)?;
        Ok(Self::start(
            settings,
            handle,
            config.strategies_dir(),
            state_path,
            state,
        )?)
    }

    /// Starts the agent for a running runtime that already runs `state.applied`.
    pub fn start(
        settings: FleetSettings,
        handle: RuntimeHandle,
        strategies_dir: PathBuf,
        state_path: PathBuf,
        state: LocalState,
    ) -> Result<NodeAgent, FleetError> {
        let shared = Arc::new(AgentShared::default());
        shared
            .applied_revision
            .store(state.revision, Ordering::Release);
        *lock(&shared.fleet_ids) = state.applied.keys().cloned().collect();
        let (stop, stop_rx) = tokio::sync::watch::channel(false);
        let (events_tx, events_rx) = tokio::sync::mpsc::channel(EVENT_QUEUE);
        let bridge = start_event_bridge(&handle, events_tx, Arc::clone(&shared), &settings)?;
        let agent = Agent {
            settings,
            handle,
            strategies_dir,
            state_path,
            state,
            shared: Arc::clone(&shared),
            failed: BTreeMap::new(),
        };
        let thread = crate::threads::spawn("sandbar-fleet", move || {
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(runtime) => runtime,
                Err(e) => {
                    tracing::error!("the fleet agent cannot start its runtime: {e}");
                    return;
                }
            };
            runtime.block_on(agent.run(stop_rx, events_rx));
            runtime.shutdown_timeout(Duration::from_secs(1));
        })
        .map_err(|e| FleetError::other("cannot start the fleet agent", e))?;
        Ok(NodeAgent {
            shared,
            stop,
            thread: Some(thread),
            bridge: Some(bridge),
        })
    }

    /// Whether the agent is connected to NATS now.
    pub fn connected(&self) -> bool {
        self.shared.connected.load(Ordering::Acquire)
    }

    /// The last `sandbar-deployments` revision applied.
    pub fn applied_revision(&self) -> u64 {
        self.shared.applied_revision.load(Ordering::Acquire)
    }

    /// Events dropped because NATS was unreachable for too long.
    pub fn events_dropped(&self) -> u64 {
        self.shared.events_dropped.load(Ordering::Relaxed)
    }

    /// Stops the agent (the runtime keeps running what it runs).
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        let _ = self.stop.send(true);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        // The agent's end closed the bridge's queue: the bridge sees it
        // within `BRIDGE_CHECK` and drops its subscription.
        if let Some(bridge) = self.bridge.take() {
            let _ = bridge.join();
        }
    }
}

impl Drop for NodeAgent {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Runtime events → a bounded queue the agent drains into NATS. A thread,
/// since a subscription is a blocking channel. It ends when the agent's
/// queue closes (the agent stopped; the runtime may run on, and a node may
/// start another agent on it) or when the runtime ends.
fn start_event_bridge(
    handle: &RuntimeHandle,
    events: tokio::sync::mpsc::Sender<(String, Vec<u8>)>,
    shared: Arc<AgentShared>,
    settings: &FleetSettings,
) -> Result<JoinHandle<()>, FleetError> {
    let receiver = handle.subscribe();
    let prefix = format!(
        "{}.{}.{}",
        super::EVENTS_SUBJECT,
        settings.fleet,
        settings.node
    );
    crate::threads::spawn("sandbar-fleet-events", move || {
        use std::sync::mpsc::RecvTimeoutError;
        use tokio::sync::mpsc::error::TrySendError;
        loop {
            let event = match receiver.recv_timeout(BRIDGE_CHECK) {
                Ok(event) => event,
                Err(RecvTimeoutError::Timeout) if events.is_closed() => return,
                Err(RecvTimeoutError::Timeout) => continue,
                Err(RecvTimeoutError::Disconnected) => return,
            };
            let Ok(payload) = serde_json::to_vec(&event) else {
                continue;
            };
            let subject = format!("{prefix}.{}", event.strategy());
            match events.try_send((subject, payload)) {
                Ok(()) => {}
                Err(TrySendError::Full(_)) => {
                    shared.events_dropped.fetch_add(1, Ordering::Relaxed);
                }
                Err(TrySendError::Closed(_)) => return,
            }
        }
    })
    .map_err(|e| FleetError::other("cannot start the fleet event bridge", e))
}

impl Agent {
    async fn run(
        mut self,
        mut stop: tokio::sync::watch::Receiver<bool>,
        events: tokio::sync::mpsc::Receiver<(String, Vec<u8>)>,
    ) {
        let mut said_unreachable = false;
        let fleet = loop {
            match Fleet::open(&self.settings, CONNECT_TIMEOUT).await {
                Ok(fleet) => break fleet,
                Err(e) => {
                    if !said_unreachable {
                        tracing::warn!(
                            revision = self.state.revision,
                            "{e}\n  running the fleet deployments last applied (revision {}) and retrying every {} ms",
                            self.state.revision,
                            RETRY_EVERY.as_millis()
                        );
                        said_unreachable = true;
                    }
                    tokio::select! {
                        _ = stop.changed() => return,
                        _ = tokio::time::sleep(RETRY_EVERY) => {}
                    }
                }
            }
        };
        tracing::info!(url = %self.settings.url, node = %self.settings.node, fleet = %self.settings.fleet, "joined the fleet");
        self.shared.connected.store(true, Ordering::Release);
        tokio::spawn(forward_events(fleet.client.clone(), events));
        tokio::spawn(heartbeats(
            fleet.clone(),
            self.handle.clone(),
            Arc::clone(&self.shared),
        ));
        self.follow(fleet, stop).await;
    }

    /// Watches the deployments until stopped, opening the watch again
    /// after each reconnect or broken watch.
    async fn follow(&mut self, mut fleet: Fleet, mut stop: tokio::sync::watch::Receiver<bool>) {
        let stats = fleet.client.statistics();
        let mut connects = stats.connects.load(Ordering::Relaxed);
        let mut check = tokio::time::interval(RECONNECT_CHECK);
        let filter = format!("{}.>", self.settings.fleet);
        'watch: loop {
            let from = self.state.revision + 1;
            let mut watch = match fleet.deployments.watch_from_revision(&filter, from).await {
                Ok(watch) => watch,
                Err(e) => {
                    tracing::debug!("cannot watch the deployments yet: {e}");
                    tokio::select! {
                        _ = stop.changed() => return,
                        _ = tokio::time::sleep(RETRY_EVERY) => continue 'watch,
                    }
                }
            };
            tracing::debug!(from, "watching the deployments");
            // Artefacts that failed before are tried again on every new watch.
            self.reconcile(&fleet).await;
            let mut batch = Vec::new();
            loop {
                tokio::select! {
                    _ = stop.changed() => return,
                    _ = check.tick() => {
                        let now = stats.connects.load(Ordering::Relaxed);
                        let up = fleet.client.connection_state() == async_nats::connection::State::Connected;
                        let was = self.shared.connected.swap(up, Ordering::AcqRel);
                        if was && !up {
                            tracing::warn!(url = %self.settings.url, revision = self.state.revision, "lost the connection to NATS; trading goes on with the deployments applied up to revision {}, and the client reconnects by itself", self.state.revision);
                        }
                        if !batch.is_empty() {
                            self.apply(&fleet, std::mem::take(&mut batch)).await;
                        }
                        if now != connects && up {
                            connects = now;
                            tracing::info!(revision = self.state.revision, "reconnected to NATS; resuming the deployments watch after revision {}", self.state.revision);
                            if let Ok(again) = Fleet::on(fleet.client.clone(), &self.settings).await {
                                fleet = again;
                            }
                            continue 'watch;
                        }
                    }
                    entry = watch.next() => match entry {
                        Some(Ok(entry)) => {
                            let last = entry.delta == 0;
                            batch.push(entry);
                            if last {
                                self.apply(&fleet, std::mem::take(&mut batch)).await;
                            }
                        }
                        Some(Err(e)) => {
                            tracing::debug!("the deployments watch broke: {e}");
                            self.apply(&fleet, std::mem::take(&mut batch)).await;
                            tokio::time::sleep(RETRY_EVERY).await;
                            continue 'watch;
                        }
                        None => {
                            self.apply(&fleet, std::mem::take(&mut batch)).await;
                            tokio::time::sleep(RETRY_EVERY).await;
                            continue 'watch;
                        }
                    }
                }
            }
        }
    }

    /// Takes watched entries into the desired state, then reconciles.
    async fn apply(&mut self, fleet: &Fleet, entries: Vec<kv::Entry>) {
        if entries.is_empty() {
            return;
        }
        let prefix = format!("{}.", self.settings.fleet);
        for entry in entries {
            self.state.revision = self.state.revision.max(entry.revision);
            let Some(id) = entry.key.strip_prefix(&prefix).map(str::to_owned) else {
                continue;
            };
            match entry.operation {
                kv::Operation::Put => match parse(&entry.key, &entry.value) {
                    Ok(deployment) if deployment.id == id => {
                        self.state.desired.insert(id, deployment);
                    }
                    Ok(deployment) => {
                        self.reject(
                            &id,
                            Some(&deployment.sha256),
                            format!(
                                "the deployment under `{}` names strategy `{}`",
                                entry.key, deployment.id
                            ),
                            "write deployments with `runtime deploy`".into(),
                        );
                    }
                    Err(e) => self.reject(
                        &id,
                        None,
                        e.to_string(),
                        "write deployments with `runtime deploy`".into(),
                    ),
                },
                kv::Operation::Delete | kv::Operation::Purge => {
                    self.state.desired.remove(&id);
                }
            }
        }
        self.reconcile(fleet).await;
    }

    fn reject(&self, id: &str, sha256: Option<&str>, error: String, hint: String) {
        tracing::warn!(strategy = %id, "fleet deployment rejected; the running version stays: {error}");
        self.handle.fleet_rejected(id, sha256, error, hint);
    }

    /// Makes the control plane run the desired deployments that select this
    /// node, each with its artefact on disk; one whose artefact cannot be
    /// had is rejected and its previous entry kept.
    async fn reconcile(&mut self, fleet: &Fleet) {
        let mut next: BTreeMap<String, Deployment> = BTreeMap::new();
        let wanted: Vec<Deployment> = self
            .state
            .desired
            .values()
            .filter(|d| d.nodes.selects(&self.settings.node, &self.settings.labels))
            .cloned()
            .collect();
        for deployment in wanted {
            match self.ensure_artifact(fleet, &deployment.sha256).await {
                Ok(()) => {
                    self.failed.remove(&deployment.id);
                    next.insert(deployment.id.clone(), deployment);
                }
                Err(e) => {
                    // Said once per build, not on every new watch.
                    if self.failed.get(&deployment.id) != Some(&deployment.sha256) {
                        let (error, hint) = split_hint(&e.to_string());
                        self.reject(&deployment.id, Some(&deployment.sha256), error, hint);
                        self.failed
                            .insert(deployment.id.clone(), deployment.sha256.clone());
                    }
                    if let Some(old) = self.state.applied.get(&deployment.id) {
                        next.insert(old.id.clone(), old.clone());
                    }
                }
            }
        }
        if next != self.state.applied {
            let strategies: Vec<_> = next.values().map(Deployment::to_strategy).collect();
            let handle = self.handle.clone();
            let answer = tokio::task::spawn_blocking(move || handle.apply_fleet(strategies)).await;
            match answer {
                Ok(Ok(events)) => {
                    for event in events {
                        tracing::info!(strategy = %event.strategy, outcome = ?event.outcome, "fleet deployment applied");
                    }
                    self.state.applied = next;
                }
                Ok(Err(refusal)) => {
                    for (id, d) in &next {
                        if self.state.applied.get(id) != Some(d) {
                            self.reject(
                                id,
                                Some(&d.sha256),
                                refusal.to_string(),
                                "a fleet deployment and a local [[strategy]] must not share an id"
                                    .into(),
                            );
                        }
                    }
                }
                Err(e) => tracing::error!("applying the fleet deployments failed: {e}"),
            }
        }
        *lock(&self.shared.fleet_ids) = self.state.applied.keys().cloned().collect();
        self.shared
            .applied_revision
            .store(self.state.revision, Ordering::Release);
        if let Err(e) = self.state.save(&self.state_path) {
            tracing::warn!("{e}");
        }
    }

    /// The artefact in `<strategies_dir>/fleet/<sha256>.wasm`, downloaded
    /// (digest checked) when it is not there yet.
    async fn ensure_artifact(&self, fleet: &Fleet, sha256: &str) -> Result<(), FleetError> {
        let path = self.strategies_dir.join(artifact_wasm_path(sha256));
        if path.is_file() {
            return Ok(());
        }
        let bytes = fleet.download(sha256).await?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| FleetError::other(format!("cannot create {}", dir.display()), e))?;
        }
        crate::build::write_atomically(&path, &bytes)
            .map_err(|e| FleetError::other(format!("cannot write {}", path.display()), e))?;
        tracing::info!(sha256, path = %path.display(), "downloaded a fleet artefact");
        Ok(())
    }
}

/// A [`FleetError`]'s text as (error, hint).
fn split_hint(text: &str) -> (String, String) {
    match text.split_once("\n  hint: ") {
        Some((error, hint)) => (error.to_owned(), hint.to_owned()),
        None => (text.to_owned(), "see `runtime fleet status`".to_owned()),
    }
}

/// Publishes queued events; core NATS publishes, which the
/// `SANDBAR_EVENTS` stream captures. The client buffers while reconnecting.
async fn forward_events(
    client: async_nats::Client,
    mut events: tokio::sync::mpsc::Receiver<(String, Vec<u8>)>,
) {
    while let Some((subject, payload)) = events.recv().await {
        if let Err(e) = client.publish(subject, payload.into()).await {
            tracing::debug!("an event was not published: {e}");
        }
    }
}

/// Writes the heartbeat every `fleet.heartbeat_ms`, opening the buckets
/// again when a write fails (a restarted server).
async fn heartbeats(mut fleet: Fleet, handle: RuntimeHandle, shared: Arc<AgentShared>) {
    let settings = fleet.settings.clone();
    let key = format!("{}.{}", settings.fleet, settings.node);
    let mut tick = tokio::time::interval(settings.heartbeat);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let status = handle.briefs();
        let ids = lock(&shared.fleet_ids).clone();
        let beat = Heartbeat::of(
            &settings.node,
            &settings.labels,
            shared.applied_revision.load(Ordering::Acquire),
            &status,
            &ids,
        );
        let Ok(value) = serde_json::to_vec(&beat) else {
            continue;
        };
        // A write may take longer than a short interval on a loaded machine.
        let patience = settings.heartbeat.max(Duration::from_secs(2));
        let put = tokio::time::timeout(patience, fleet.nodes.put(&key, value.into())).await;
        if !matches!(put, Ok(Ok(_))) {
            tracing::debug!("a heartbeat was not written; opening the buckets again");
            if let Ok(Ok(again)) =
                tokio::time::timeout(patience, Fleet::on(fleet.client.clone(), &settings)).await
            {
                fleet = again;
            }
        }
    }
}

/// A poisoned lock still holds a usable list of ids.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
