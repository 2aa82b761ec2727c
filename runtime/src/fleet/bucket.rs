//! KV buckets opened, or created when missing, in a way a 2.9 server answers.
//!
//! Why not `jetstream::Context::create_key_value`: since async-nats 0.41 it
//! first asks for the account's info (`$JS.API.INFO`) and parses the reply
//! into `jetstream::account::Account`, whose `reserved_memory` and
//! `reserved_storage` are required fields; nats-server 2.9 (Debian
//! bookworm's 2.9.10) does not send them (they came with 2.10), so every
//! bucket creation fails with "data did not match any variant of untagged
//! enum Response". The account info only feeds the 2.11 `limit_markers`
//! option, which we do not use. So we create the bucket's backing stream
//! ourselves, with the stream configuration the client would have sent
//! (checked field by field against a bucket made by async-nats 0.40, the
//! last release without the account query, on 2.9.10), and open it with
//! `get_key_value`, which only reads the stream's info and works on 2.9.
//! Every other KV call (put, create, update with a revision, entry, history,
//! keys, watch from a revision, delete with a revision) works on 2.9 as is.

use super::error::FleetError;
use async_nats::jetstream::{self, kv, stream};
use std::time::Duration;

/// What a fleet KV bucket is; the subset of `kv::Config` we use.
#[derive(Debug, Clone)]
pub(super) struct BucketSpec {
    pub bucket: &'static str,
    pub description: &'static str,
    /// Revisions kept per key (at least 1).
    pub history: i64,
    /// How long a value lives; zero: for ever.
    pub max_age: Duration,
    pub storage: stream::StorageType,
}

impl BucketSpec {
    /// The backing stream, as async-nats' `create_key_value` builds it
    /// for a bucket without mirror, sources, republish or compression.
    pub(super) fn stream_config(&self) -> stream::Config {
        stream::Config {
            name: format!("KV_{}", self.bucket),
            description: Some(self.description.to_owned()),
            subjects: vec![format!("$KV.{}.>", self.bucket)],
            max_messages_per_subject: self.history.max(1),
            max_age: self.max_age,
            storage: self.storage,
            num_replicas: 1,
            // KV semantics: a purge is a rollup, a delete is a marker
            // message, and a full bucket refuses new values instead of
            // dropping old revisions silently.
            allow_rollup: true,
            deny_delete: true,
            deny_purge: false,
            allow_direct: true,
            discard: stream::DiscardPolicy::New,
            ..Default::default()
        }
    }
}

/// Opens the bucket, creating its stream when it does not exist yet (the
/// first node or operator to come up creates the buckets).
pub(super) async fn open(
    js: &jetstream::Context,
    spec: &BucketSpec,
) -> Result<kv::Store, FleetError> {
    let name = spec.bucket;
    if let Ok(store) = js.get_key_value(name).await {
        grow_max_age(js, &store, spec).await;
        return Ok(store);
    }
    let created = js.create_stream(spec.stream_config()).await;
    match js.get_key_value(name).await {
        Ok(store) => Ok(store),
        // Another node may have created it between our two reads, in which
        // case the creation failed but the bucket is there: only a bucket
        // that still cannot be opened is an error, with the creation's
        // cause when there was one.
        Err(open) => Err(match created {
            Err(e) => FleetError::other(format!("cannot create the KV bucket `{name}`"), e),
            Ok(_) => FleetError::other(format!("cannot open the KV bucket `{name}`"), open),
        }),
    }
}

/// Raises the bucket's value lifetime to `spec.max_age` when it is shorter
/// (never lowers it, never touches a bucket that keeps values for ever).
///
/// Why: the first node to come up creates `sandbar-nodes` with a TTL of
/// three of *its* heartbeat intervals; a node that beats less often would
/// drop out of `runtime fleet status` between its beats. Each node that
/// opens the bucket raises the TTL to what it needs, so the TTL is that of
/// the slowest node there has been. A failed update costs a warning: the
/// bucket works, a slow node may only flicker in the status.
async fn grow_max_age(js: &jetstream::Context, store: &kv::Store, spec: &BucketSpec) {
    if spec.max_age.is_zero() {
        return;
    }
    // The store's own stream handle: the bucket just opened, no second lookup.
    let mut stream = store.stream.clone();
    let mut config = match stream.info().await {
        Ok(info) => info.config.clone(),
        Err(e) => {
            tracing::warn!(bucket = spec.bucket, error = %e, "cannot read the bucket's settings; its TTL stays as it is");
            return;
        }
    };
    if config.max_age.is_zero() || config.max_age >= spec.max_age {
        return;
    }
    let was = config.max_age;
    config.max_age = spec.max_age;
    match js.update_stream(config).await {
        Ok(_) => tracing::info!(
            bucket = spec.bucket,
            from_s = was.as_secs_f64(),
            to_s = spec.max_age.as_secs_f64(),
            "raised the bucket's TTL for this node's heartbeat interval"
        ),
        Err(e) => tracing::warn!(
            bucket = spec.bucket,
            error = %e,
            "cannot raise the bucket's TTL to {:.0} s; a node beating this slowly may drop out of the status between beats",
            spec.max_age.as_secs_f64()
        ),
    }
}

/// How long values of `store` live (zero: for ever).
pub(super) async fn max_age(store: &kv::Store) -> Result<Duration, FleetError> {
    let mut stream = store.stream.clone();
    let info = stream.info().await.map_err(|e| {
        FleetError::other(format!("cannot read the settings of `{}`", store.name), e)
    })?;
    Ok(info.config.max_age)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issue_20_bucket_stream_is_what_a_kv_client_expects() {
        let spec = BucketSpec {
            bucket: "sandbar-nodes",
            description: "heartbeats",
            history: 0,
            max_age: Duration::from_secs(10),
            storage: stream::StorageType::Memory,
        };
        let config = spec.stream_config();
        assert_eq!(config.name, "KV_sandbar-nodes");
        assert_eq!(config.subjects, vec!["$KV.sandbar-nodes.>".to_owned()]);
        // `get_key_value` refuses a stream keeping no message per subject.
        assert_eq!(config.max_messages_per_subject, 1);
        assert_eq!(config.max_age, Duration::from_secs(10));
        assert_eq!(config.storage, stream::StorageType::Memory);
        assert!(config.allow_rollup && config.deny_delete && config.allow_direct);
        assert!(!config.deny_purge);
        assert_eq!(config.discard, stream::DiscardPolicy::New);
        assert_eq!(config.num_replicas, 1);
    }
}
