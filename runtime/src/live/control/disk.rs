//! What is on disk: each strategy's file as its last load read it, beside
//! the running version, so status can say "the file on disk differs from the
//! running version" — a newer build rejected or not loaded yet, a file that
//! cannot be read, a rollback.

use super::super::events::{Outcome, ReloadEvent};
use super::super::shared::{Shared, lock};
use crate::error::LoadError;
use crate::load::Artifact;
use serde::Serialize;
use std::time::SystemTime;

/// A strategy's file as status shows it.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DiskStatus {
    /// SHA-256 of the file as last read, when it could be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// Why it could not be read, when it could not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unreadable: Option<String>,
    /// When the file on disk was first seen as it is now (RFC 3339,
    /// seconds), when it differs from the running version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
    /// How the last attempt to load it ended, when it did not go live (a
    /// rejection, or a retry to come).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_attempt: Option<String>,
}

/// What the control plane last read of a strategy's file.
#[derive(Debug, Clone)]
pub(crate) struct DiskFile {
    /// Its SHA-256, or why it could not be read.
    seen: Result<String, String>,
    /// When it was first seen so.
    since: SystemTime,
    last_attempt: Option<String>,
}

impl DiskFile {
    /// Status of the file beside the running version; true when they differ
    /// (an unreadable file counts as differing: nothing shows it matches).
    pub(crate) fn status(&self, running_sha256: &str) -> (DiskStatus, bool) {
        let differs = self.seen.as_deref() != Ok(running_sha256);
        let status = DiskStatus {
            sha256: self.seen.as_ref().ok().cloned(),
            unreadable: self.seen.as_ref().err().cloned(),
            since: differs.then(|| humantime::format_rfc3339_seconds(self.since).to_string()),
            last_attempt: if differs {
                self.last_attempt.clone()
            } else {
                None
            },
        };
        (status, differs)
    }
}

/// Records what a read of `id`'s file gave. The time it was first seen so
/// is kept while it stays the same.
pub(super) fn observe(shared: &Shared, id: &str, read: &Result<Artifact, LoadError>) {
    let seen = match read {
        Ok(artifact) => Ok(artifact.sha256.clone()),
        Err(error) => Err(error.message.clone()),
    };
    let mut disk = lock(&shared.disk);
    match disk.get_mut(id) {
        Some(file) if file.seen == seen => {}
        _ => {
            disk.insert(
                id.to_owned(),
                DiskFile {
                    seen,
                    since: SystemTime::now(),
                    last_attempt: None,
                },
            );
        }
    }
}

/// Notes how an attempt ended (`None`: it went live or there is nothing to say).
pub(super) fn attempted(shared: &Shared, id: &str, note: Option<String>) {
    if let Some(file) = lock(&shared.disk).get_mut(id) {
        file.last_attempt = note;
    }
}

/// Notes how a reload event ended for the strategy's file.
pub(super) fn reload_ended(shared: &Shared, event: &ReloadEvent) {
    let note = match event.outcome {
        Outcome::Rejected => Some(format!(
            "rejected at stage `{}`: {}",
            event.stage.map_or("?", |s| s.as_str()),
            event.error.as_deref().unwrap_or("")
        )),
        Outcome::Swapped => None,
        _ => return,
    };
    attempted(shared, &event.strategy, note);
}

/// SHA-256 of `id`'s file as its last load read it (`None`: never read, or unreadable).
pub(super) fn seen_sha256(shared: &Shared, id: &str) -> Option<String> {
    lock(&shared.disk)
        .get(id)
        .and_then(|f| f.seen.as_ref().ok().cloned())
}

/// Forgets a retired strategy's file.
pub(super) fn forget(shared: &Shared, id: &str) {
    lock(&shared.disk).remove(id);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreadable_or_other_file_differs_and_the_time_it_was_first_seen_is_kept() {
        let shared = Shared::default();
        let ok = |b: &[u8]| Ok(Artifact::from_bytes("a.wasm", b.to_vec()));
        let running = ok(b"one");
        observe(&shared, "a", &running);
        let sha = running.as_ref().unwrap().sha256.clone();
        let (status, differs) = lock(&shared.disk)["a"].status(&sha);
        assert!(!differs);
        assert_eq!(status.sha256.as_deref(), Some(sha.as_str()));
        assert_eq!(status.since, None);

        let unreadable: Result<Artifact, LoadError> = Err(LoadError::new(
            crate::error::Stage::Read,
            "cannot open: Too many open files (os error 24)",
        ));
        observe(&shared, "a", &unreadable);
        attempted(
            &shared,
            "a",
            Some("read failed; retry 1 of 5 in 0.5 s".into()),
        );
        let first = lock(&shared.disk)["a"].since;
        observe(&shared, "a", &unreadable);
        let file = lock(&shared.disk)["a"].clone();
        assert_eq!(file.since, first, "the same observation keeps its time");
        let (status, differs) = file.status(&sha);
        assert!(differs);
        assert!(status.unreadable.unwrap().contains("Too many open files"));
        assert!(status.since.is_some());
        assert_eq!(
            status.last_attempt.as_deref(),
            Some("read failed; retry 1 of 5 in 0.5 s")
        );

        observe(&shared, "a", &ok(b"two"));
        let (status, differs) = lock(&shared.disk)["a"].status(&sha);
        assert!(differs && status.unreadable.is_none() && status.last_attempt.is_none());
    }
}
