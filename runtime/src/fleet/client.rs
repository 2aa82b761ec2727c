//! [`Fleet`]: the buckets and the stream, opened (and created when missing)
//! on one connection; [`FleetClient`]: the same, blocking, for the CLI.

use super::artifacts;
use super::bucket::{self, BucketSpec};
use super::deployment::{DeployRequest, Deployment, Expect};
use super::error::FleetError;
use super::heartbeat::Heartbeat;
use super::settings::FleetSettings;
use super::status::FleetStatus;
use async_nats::jetstream::{self, kv, object_store, stream};
use futures_util::StreamExt;
use std::path::Path;
use std::time::Duration;

/// How long a CLI command waits for the server before it says so.
const CLI_CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// The shortest time a heartbeat stays in `sandbar-nodes`.
const NODE_TTL_MIN: Duration = Duration::from_secs(10);

/// The fleet's JetStream resources on one connection.
#[derive(Clone)]
pub struct Fleet {
    pub(crate) client: async_nats::Client,
    pub(crate) settings: FleetSettings,
    pub(crate) deployments: kv::Store,
    pub(crate) nodes: kv::Store,
    pub(crate) artifacts: object_store::ObjectStore,
}

impl Fleet {
    /// Connects and opens (or creates) every bucket and the event stream.
    pub async fn open(settings: &FleetSettings, timeout: Duration) -> Result<Fleet, FleetError> {
        let client = settings.connect(timeout).await?;
        Self::on(client, settings).await
    }

    /// Opens the resources on an existing connection.
    pub(crate) async fn on(
        client: async_nats::Client,
        settings: &FleetSettings,
    ) -> Result<Fleet, FleetError> {
        let js = jetstream::new(client.clone());
        let deployments = bucket::open(
            &js,
            &BucketSpec {
                bucket: super::DEPLOYMENTS_BUCKET,
                description: "Sandbar: desired deployments, <fleet>.<strategy id>",
                history: super::DEPLOYMENT_HISTORY,
                max_age: Duration::ZERO,
                storage: stream::StorageType::File,
            },
        )
        .await?;
        // A node that stops writing drops out after three intervals, and
        // never sooner than NODE_TTL_MIN: a node cut off for a few seconds
        // stays visible, with its old SHA-256, as drift.
        let nodes = bucket::open(
            &js,
            &BucketSpec {
                bucket: super::NODES_BUCKET,
                description: "Sandbar: node heartbeats, <fleet>.<node>",
                history: 1,
                max_age: (settings.heartbeat * 3).max(NODE_TTL_MIN),
                storage: stream::StorageType::Memory,
            },
        )
        .await?;
        let artifacts = match js.get_object_store(super::ARTIFACTS_BUCKET).await {
            Ok(store) => store,
            Err(_) => js
                .create_object_store(object_store::Config {
                    bucket: super::ARTIFACTS_BUCKET.into(),
                    description: Some("Sandbar: strategy components by SHA-256".into()),
                    storage: stream::StorageType::File,
                    ..Default::default()
                })
                .await
                .map_err(|e| FleetError::other("cannot open the `sandbar-artifacts` store", e))?,
        };
        js.get_or_create_stream(stream::Config {
            name: super::EVENTS_STREAM.into(),
            subjects: vec![format!("{}.>", super::EVENTS_SUBJECT)],
            max_messages: 1_000_000,
            max_age: Duration::from_secs(7 * 24 * 3600),
            storage: stream::StorageType::File,
            ..Default::default()
        })
        .await
        .map_err(|e| FleetError::other("cannot open the `SANDBAR_EVENTS` stream", e))?;
        Ok(Fleet {
            client,
            settings: settings.clone(),
            deployments,
            nodes,
            artifacts,
        })
    }

    fn key(&self, id: &str) -> String {
        Deployment::key(&self.settings.fleet, id)
    }

    /// Puts a component into `sandbar-artifacts` under its SHA-256; a no-op
    /// when the same bytes are there. Returns the SHA-256 and whether it
    /// was uploaded.
    pub async fn publish(&self, bytes: &[u8]) -> Result<(String, bool), FleetError> {
        artifacts::publish(&self.artifacts, bytes).await
    }

    /// Downloads the component `sha256`, checking the store's digest and
    /// that the bytes hash to `sha256`.
    pub async fn download(&self, sha256: &str) -> Result<Vec<u8>, FleetError> {
        artifacts::download(&self.artifacts, sha256).await
    }

    /// The deployment `id` and its revision, if there is one.
    pub async fn deployment(&self, id: &str) -> Result<Option<(u64, Deployment)>, FleetError> {
        let entry = self
            .deployments
            .entry(self.key(id))
            .await
            .map_err(|e| FleetError::other(format!("cannot read deployment `{id}`"), e))?;
        match entry {
            Some(entry) if entry.operation == kv::Operation::Put => {
                let deployment = parse(&entry.key, &entry.value)?;
                Ok(Some((entry.revision, deployment)))
            }
            _ => Ok(None),
        }
    }

    /// The key's last revision, a deletion included (what a write must name).
    async fn last_revision(&self, id: &str) -> Result<Option<u64>, FleetError> {
        let entry = self
            .deployments
            .entry(self.key(id))
            .await
            .map_err(|e| FleetError::other(format!("cannot read deployment `{id}`"), e))?;
        Ok(entry.map(|e| e.revision))
    }

    /// Writes a deployment with compare-and-swap on the key's revision:
    /// the loser of two concurrent writes gets [`FleetError::Conflict`]
    /// naming the revision that won. Returns the new revision.
    pub async fn deploy(&self, request: &DeployRequest) -> Result<u64, FleetError> {
        let deployment = &request.deployment;
        deployment.check()?;
        let expected = match request.expect {
            Expect::Revision(r) => r,
            Expect::Current => self.last_revision(&deployment.id).await?.unwrap_or(0),
        };
        let value = serde_json::to_vec(deployment)
            .map_err(|e| FleetError::other("cannot encode the deployment", e))?;
        let written = if expected == 0 {
            self.deployments
                .create(self.key(&deployment.id), value.into())
                .await
                .map_err(|e| match e.kind() {
                    kv::CreateErrorKind::AlreadyExists => None,
                    _ => Some(FleetError::other(
                        format!("cannot write deployment `{}`", deployment.id),
                        e,
                    )),
                })
        } else {
            self.deployments
                .update(self.key(&deployment.id), value.into(), expected)
                .await
                .map_err(|e| match e.kind() {
                    kv::UpdateErrorKind::WrongLastRevision => None,
                    _ => Some(FleetError::other(
                        format!("cannot write deployment `{}`", deployment.id),
                        e,
                    )),
                })
        };
        match written {
            Ok(revision) => Ok(revision),
            Err(Some(error)) => Err(error),
            Err(None) => Err(FleetError::Conflict {
                id: deployment.id.clone(),
                current: self.last_revision(&deployment.id).await?.unwrap_or(0),
                expected: if expected == 0 {
                    "none".into()
                } else {
                    expected.to_string()
                },
            }),
        }
    }

    /// Deletes the deployment (nodes retire it), against its current revision.
    pub async fn undeploy(&self, id: &str) -> Result<(), FleetError> {
        let Some((revision, _)) = self.deployment(id).await? else {
            return Err(FleetError::UnknownDeployment {
                id: id.to_owned(),
                fleet: self.settings.fleet.clone(),
            });
        };
        self.deployments
            .delete_expect_revision(self.key(id), Some(revision))
            .await
            .map_err(|e| FleetError::other(format!("cannot delete deployment `{id}`"), e))
    }

    /// Writes, as a new revision, the deployment `steps` puts before the
    /// current one in the key's history. Returns it and its new revision.
    pub async fn rollback(&self, id: &str, steps: usize) -> Result<(u64, Deployment), FleetError> {
        let mut history = self
            .deployments
            .history(self.key(id))
            .await
            .map_err(|e| FleetError::other(format!("cannot read the history of `{id}`"), e))?;
        let mut puts = Vec::new();
        let mut last = 0;
        while let Some(entry) = history.next().await {
            let entry = entry
                .map_err(|e| FleetError::other(format!("cannot read the history of `{id}`"), e))?;
            last = entry.revision;
            if entry.operation == kv::Operation::Put {
                puts.push(parse(&entry.key, &entry.value)?);
            }
            if entry.delta == 0 {
                break;
            }
        }
        if puts.is_empty() {
            return Err(FleetError::UnknownDeployment {
                id: id.to_owned(),
                fleet: self.settings.fleet.clone(),
            });
        }
        let available = puts.len() - 1;
        if steps == 0 || steps > available {
            return Err(FleetError::NoHistory {
                id: id.to_owned(),
                steps,
                available,
            });
        }
        let target = puts[puts.len() - 1 - steps].clone();
        let revision = self
            .deploy(&DeployRequest {
                deployment: target.clone(),
                expect: Expect::Revision(last),
            })
            .await?;
        Ok((revision, target))
    }

    /// Every deployment of the fleet with its revision, by id.
    pub async fn deployments(&self) -> Result<Vec<(u64, Deployment)>, FleetError> {
        let prefix = format!("{}.", self.settings.fleet);
        let mut out = Vec::new();
        for key in keys(&self.deployments, &prefix).await? {
            let id = &key[prefix.len()..];
            if let Some(found) = self.deployment(id).await? {
                out.push(found);
            }
        }
        out.sort_by(|a, b| a.1.id.cmp(&b.1.id));
        Ok(out)
    }

    /// How long a heartbeat stays in `sandbar-nodes`: three intervals of
    /// the slowest node that has opened it, at least 10 s.
    pub async fn node_ttl(&self) -> Result<Duration, FleetError> {
        bucket::max_age(&self.nodes).await
    }

    /// Every live heartbeat of the fleet, by node.
    pub async fn heartbeats(&self) -> Result<Vec<Heartbeat>, FleetError> {
        let prefix = format!("{}.", self.settings.fleet);
        let mut out = Vec::new();
        for key in keys(&self.nodes, &prefix).await? {
            let value = self
                .nodes
                .get(key.clone())
                .await
                .map_err(|e| FleetError::other("cannot read a heartbeat", e))?;
            if let Some(value) = value
                && let Ok(beat) = serde_json::from_slice::<Heartbeat>(&value)
            {
                out.push(beat);
            }
        }
        out.sort_by(|a, b| a.node.cmp(&b.node));
        Ok(out)
    }

    /// Every node and what it runs, against what it should run.
    pub async fn status(&self) -> Result<FleetStatus, FleetError> {
        let deployments = self.deployments().await?;
        let heartbeats = self.heartbeats().await?;
        Ok(FleetStatus::new(
            &self.settings.fleet,
            deployments,
            heartbeats,
        ))
    }
}

/// Keys of `store` under `prefix` (an empty bucket has none), sorted.
///
/// From the bucket stream's subject counts (one paged `STREAM.INFO` with a
/// subjects filter), not from `kv::Store::keys`: that one delivers the
/// last message per key through a consumer and ends when the server says
/// nothing is pending, and on a bucket rewritten every few hundred ms (the
/// heartbeats) that count goes stale, so it can wait for ever (it also
/// repeats keys rewritten while it reads). A deleted key keeps its
/// subject (the marker), which readers skip as they do any deletion.
async fn keys(store: &kv::Store, prefix: &str) -> Result<Vec<String>, FleetError> {
    let filter = format!("{}{prefix}>", store.prefix);
    let mut subjects = store
        .stream
        .info_with_subjects(&filter)
        .await
        .map_err(|e| FleetError::other(format!("cannot list the keys of `{}`", store.name), e))?;
    let mut out = Vec::new();
    while let Some(subject) = subjects.next().await {
        let (subject, _) = subject.map_err(|e| {
            FleetError::other(format!("cannot list the keys of `{}`", store.name), e)
        })?;
        if let Some(key) = subject.strip_prefix(store.prefix.as_str()) {
            out.push(key.to_owned());
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// A bucket value as a deployment, checked.
pub(crate) fn parse(key: &str, value: &[u8]) -> Result<Deployment, FleetError> {
    let deployment: Deployment =
        serde_json::from_slice(value).map_err(|e| FleetError::Invalid {
            message: format!("the deployment under `{key}` is not valid: {e}"),
            hint: "write deployments with `runtime deploy`, not by hand".into(),
        })?;
    deployment.check()?;
    Ok(deployment)
}

/// [`Fleet`] for blocking callers: one current-thread tokio runtime.
pub struct FleetClient {
    runtime: tokio::runtime::Runtime,
    fleet: Fleet,
}

impl FleetClient {
    /// Connects (once, within a few seconds) and opens the buckets.
    pub fn connect(settings: &FleetSettings) -> Result<FleetClient, FleetError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| FleetError::other("cannot start the NATS client", e))?;
        let fleet = runtime.block_on(Fleet::open(settings, CLI_CONNECT_TIMEOUT))?;
        Ok(FleetClient { runtime, fleet })
    }

    /// The async view, for callers with their own runtime.
    pub fn fleet(&self) -> &Fleet {
        &self.fleet
    }

    /// Publishes a file; see [`Fleet::publish`].
    pub fn publish_file(&self, path: &Path) -> Result<(String, bool), FleetError> {
        let bytes = std::fs::read(path)
            .map_err(|e| FleetError::other(format!("cannot read {}", path.display()), e))?;
        self.runtime.block_on(self.fleet.publish(&bytes))
    }

    /// Publishes bytes; see [`Fleet::publish`].
    pub fn publish(&self, bytes: &[u8]) -> Result<(String, bool), FleetError> {
        self.runtime.block_on(self.fleet.publish(bytes))
    }

    /// See [`Fleet::download`].
    pub fn download(&self, sha256: &str) -> Result<Vec<u8>, FleetError> {
        self.runtime.block_on(self.fleet.download(sha256))
    }

    /// See [`Fleet::deploy`].
    pub fn deploy(&self, request: &DeployRequest) -> Result<u64, FleetError> {
        self.runtime.block_on(self.fleet.deploy(request))
    }

    /// See [`Fleet::deployment`].
    pub fn deployment(&self, id: &str) -> Result<Option<(u64, Deployment)>, FleetError> {
        self.runtime.block_on(self.fleet.deployment(id))
    }

    /// See [`Fleet::undeploy`].
    pub fn undeploy(&self, id: &str) -> Result<(), FleetError> {
        self.runtime.block_on(self.fleet.undeploy(id))
    }

    /// See [`Fleet::rollback`].
    pub fn rollback(&self, id: &str, steps: usize) -> Result<(u64, Deployment), FleetError> {
        self.runtime.block_on(self.fleet.rollback(id, steps))
    }

    /// See [`Fleet::status`].
    pub fn status(&self) -> Result<FleetStatus, FleetError> {
        self.runtime.block_on(self.fleet.status())
    }

    /// [`Fleet::node_ttl`].
    pub fn node_ttl(&self) -> Result<Duration, FleetError> {
        self.runtime.block_on(self.fleet.node_ttl())
    }

    /// Uploads `bytes` under any name, unchecked. Only for fault-injection
    /// tests (an object whose bytes are not what its name says); operators
    /// use [`FleetClient::publish`].
    #[doc(hidden)]
    pub fn put_object_unchecked(&self, name: &str, bytes: &[u8]) -> Result<(), FleetError> {
        self.runtime.block_on(async {
            let mut reader = bytes;
            self.fleet
                .artifacts
                .put(name, &mut reader)
                .await
                .map(|_| ())
                .map_err(|e| FleetError::other("cannot upload", e))
        })
    }

    /// A subscription to every fleet event from now on, read with
    /// [`EventSubscription::next`] (subscribed before this returns, so
    /// nothing published afterwards is missed).
    pub fn subscribe_events(&self) -> Result<EventSubscription<'_>, FleetError> {
        let subject = format!("{}.{}.>", super::EVENTS_SUBJECT, self.fleet.settings.fleet);
        let subscriber = self.runtime.block_on(async {
            let subscriber = self.fleet.client.subscribe(subject).await?;
            self.fleet
                .client
                .flush()
                .await
                .map_err(|e| async_nats::Error::from(e.to_string()))?;
            Ok::<_, async_nats::Error>(subscriber)
        });
        let subscriber =
            subscriber.map_err(|e| FleetError::other("cannot follow the fleet's events", e))?;
        Ok(EventSubscription {
            client: self,
            subscriber,
        })
    }

    /// Calls `each` with (subject, payload) of every fleet event from now
    /// on, until it returns false or the connection ends.
    pub fn follow_events(&self, each: impl FnMut(&str, &[u8]) -> bool) -> Result<(), FleetError> {
        self.runtime.block_on(self.follow_events_async(each))
    }

    async fn follow_events_async(
        &self,
        mut each: impl FnMut(&str, &[u8]) -> bool,
    ) -> Result<(), FleetError> {
        let subject = format!("{}.{}.>", super::EVENTS_SUBJECT, self.fleet.settings.fleet);
        let mut subscriber = self
            .fleet
            .client
            .subscribe(subject)
            .await
            .map_err(|e| FleetError::other("cannot follow the fleet's events", e))?;
        while let Some(message) = subscriber.next().await {
            if !each(message.subject.as_str(), &message.payload) {
                break;
            }
        }
        Ok(())
    }
}

/// Fleet events as they arrive; see [`FleetClient::subscribe_events`].
pub struct EventSubscription<'a> {
    client: &'a FleetClient,
    subscriber: async_nats::Subscriber,
}

impl EventSubscription<'_> {
    /// The next event's subject and JSON payload, or `None` after `timeout`.
    pub fn next(&mut self, timeout: Duration) -> Option<(String, Vec<u8>)> {
        let subscriber = &mut self.subscriber;
        self.client.runtime.block_on(async {
            tokio::time::timeout(timeout, subscriber.next())
                .await
                .ok()
                .flatten()
                .map(|m| (m.subject.to_string(), m.payload.to_vec()))
        })
    }
}
