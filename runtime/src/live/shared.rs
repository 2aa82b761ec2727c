//! State shared by the control plane, the event thread and every
//! [`super::RuntimeHandle`]. The bar loop never takes these locks.

use super::control::{DiskFile, VersionHistory};
use super::events::Event;
use super::metrics::ReloadMetrics;
use super::subscribers::Subscribers;
use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;

#[derive(Default)]
pub(crate) struct Shared {
    pub metrics: Mutex<BTreeMap<String, ReloadMetrics>>,
    pub subscribers: Mutex<Subscribers>,
    pub recent: Mutex<VecDeque<Event>>,
    /// Each running strategy's versions: the one record of them (status reads
    /// it, the control plane writes it).
    pub versions: Mutex<BTreeMap<String, VersionHistory>>,
    pub quarantined: Mutex<BTreeMap<String, String>>,
    /// Why each halted strategy was halted.
    pub halt_reasons: Mutex<BTreeMap<String, String>>,
    /// Each strategy's file as its last load read it (status compares it
    /// with the running version).
    pub disk: Mutex<BTreeMap<String, DiskFile>>,
    /// Held while a run-state change is checked and applied, so two
    /// operators asking at once see one transition after the other.
    pub run_state_changes: Mutex<()>,
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
