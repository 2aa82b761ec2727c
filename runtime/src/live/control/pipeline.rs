//! The pipeline workers: loads from file asked for by the watcher and the
//! API run their pipeline (verify, compile, type-check, smoke test) on a
//! thread of their own, so the control plane keeps handling everything else meanwhile —
//! a trap's rebuild, a rollback, another strategy's cache hit. The control
//! plane concludes each load (warm-up, publish) when its result comes back.
//! One load per strategy is in flight at a time; what is asked meanwhile
//! runs after it.

use super::super::command::{ControlCommand, Reply};
use super::super::events::{ReloadEvent, Trigger};
use super::ControlPlane;
use super::reload::PreparedLoad;
use super::retry::{Pending, RETRY_ATTEMPTS, backoff};
use crate::load::{LoadOutcome, Loader};
use crate::refusal::Refusal;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::mpsc::Sender;

/// A load whose pipeline has run, back on the control plane.
pub(crate) struct FinishedLoad {
    prepared: PreparedLoad,
    outcome: LoadOutcome,
}

/// Loads in flight and what was asked while they ran.
#[derive(Default)]
pub(super) struct InFlight {
    loads: HashMap<String, Waiting>,
}

#[derive(Default)]
struct Waiting {
    /// Replies to send the finished load's event to.
    replies: Vec<Reply<ReloadEvent>>,
    /// A config edit was applied while it ran: what it prepared (limits,
    /// expected hash, path, params) may be stale, so it is not published.
    stale: bool,
    /// Commands about this strategy that must not overtake the load (a
    /// rollback, a trap's rebuild): handled, in order, once it is concluded.
    deferred: Vec<ControlCommand>,
    /// Asked again while in flight: load once more afterwards (trigger,
    /// force, and who waits for that one).
    again: Option<(Trigger, bool, Vec<Reply<ReloadEvent>>)>,
}

/// Runs each load's pipeline on a thread of its own, so a slow one (a large
/// cold compile, a smoke test running into its deadline) delays nothing but
/// itself. One load per strategy is in flight at a time ([`InFlight`]).
pub(super) struct PipelineWorkers {
    pub(super) loader: Arc<Loader>,
    pub(super) results: Sender<ControlCommand>,
}

impl PipelineWorkers {
    pub(super) fn new(loader: Arc<Loader>, results: Sender<ControlCommand>) -> Self {
        Self { loader, results }
    }

    fn spawn(&self, mut prepared: PreparedLoad) -> std::io::Result<()> {
        let loader = Arc::clone(&self.loader);
        let results = self.results.clone();
        crate::threads::spawn(format!("sandbar-load-{}", prepared.id), move || {
                // A panic must still come back as an answer, or the load
                // would stay in flight for good.
                let run = std::panic::AssertUnwindSafe(|| prepared.run(&loader));
                let outcome = std::panic::catch_unwind(run).unwrap_or_else(|panic| {
                    let what = panic
                        .downcast_ref::<&str>()
                        .map(|s| (*s).to_owned())
                        .or_else(|| panic.downcast_ref::<String>().cloned())
                        .unwrap_or_else(|| "unknown panic".to_owned());
                    tracing::error!(strategy = %prepared.id, "the load pipeline panicked: {what}");
                    LoadOutcome {
                        result: Err(crate::error::LoadError::new(
                            crate::error::Stage::Compile,
                            format!("the pipeline panicked on this component: {what}"),
                        )
                        .hint("this is a runtime bug: report it with the component; the running version keeps running")),
                        timings: Default::default(),
                        sha256: None,
                        cache_warnings: Vec::new(),
                    }
                });
                let finished = FinishedLoad { prepared, outcome };
                // Fails only when the control plane has stopped.
                let _ = results.send(ControlCommand::Loaded(Box::new(finished)));
            })
            .map(drop)
    }
}

impl InFlight {
    /// Holds back a rollback or a trap of a strategy whose load is in
    /// flight, to be handled once that load is concluded; gives back every
    /// other command.
    pub(super) fn defer(&mut self, command: ControlCommand) -> Option<ControlCommand> {
        let id = match &command {
            ControlCommand::Rollback(id, ..) => id,
            ControlCommand::Trapped(trap, _) => &trap.strategy,
            ControlCommand::Deploy(id, ..) => id,
            ControlCommand::Candidate(id, ..) => id,
            // A tier-up decides on what is live once the load concluded.
            ControlCommand::TierUpCompiled(done) => &done.id,
            _ => return Some(command),
        };
        match self.loads.get_mut(id) {
            Some(waiting) => {
                waiting.deferred.push(command);
                None
            }
            None => Some(command),
        }
    }
}

impl ControlPlane {
    /// Loads `id` from its file without waiting for its pipeline; `replies`
    /// (the API's) get the event when the load is concluded.
    pub(super) fn request_load(
        &mut self,
        id: &str,
        trigger: Trigger,
        force: bool,
        replies: Vec<Reply<ReloadEvent>>,
    ) {
        if let Some(waiting) = self.in_flight.loads.get_mut(id) {
            let again = waiting.again.get_or_insert((trigger, force, Vec::new()));
            again.1 |= force;
            again.2.extend(replies);
            return;
        }
        if self.pipeline.is_none() {
            let event = self.load_from_file(id, trigger, force);
            reply_all(replies, Ok(event));
            return;
        }
        match self.prepare_load(id, trigger, force) {
            Err(event) => {
                // Settled without a pipeline (unchanged file, bad params).
                self.retries.concluded(id);
                reply_all(replies, Ok(*event));
            }
            Ok(prepared) => self.start_pipeline(prepared, replies),
        }
    }

    /// Runs a prepared load's pipeline on a worker thread (here, before the
    /// workers are attached); `replies` get the event when it is concluded.
    pub(super) fn start_pipeline(
        &mut self,
        prepared: PreparedLoad,
        replies: Vec<Reply<ReloadEvent>>,
    ) {
        let id = prepared.id.clone();
        let trigger = prepared.trigger;
        if self.pipeline.is_none() {
            let mut prepared = prepared;
            let outcome = prepared.run(&self.loader);
            let event = self.conclude_load(prepared, outcome);
            reply_all(replies, Ok(event));
            return;
        }
        let spawned = self.pipeline.as_ref().map(|p| p.spawn(prepared));
        if let Some(Err(error)) = spawned {
            let error = crate::error::LoadError::new(
                crate::error::Stage::Read,
                format!("cannot start a thread for the load: {error}"),
            )
            .hint("the machine is out of threads or memory; the running version keeps running, and the next change of the file loads again");
            let event = self.emit_reload(ReloadEvent::rejected(&id, trigger, &error));
            reply_all(replies, Ok(event));
            return;
        }
        self.in_flight.loads.insert(
            id.clone(),
            Waiting {
                replies,
                ..Waiting::default()
            },
        );
    }

    /// A load's pipeline finished: publish it (unless its config entry
    /// changed meanwhile: then it loads again), answer who waited, and run
    /// what was asked since.
    pub(super) fn finished_load(&mut self, finished: FinishedLoad) {
        let FinishedLoad {
            prepared,
            mut outcome,
        } = finished;
        let id = prepared.id.clone();
        let mut waiting = self.in_flight.loads.remove(&id).unwrap_or_default();
        let entry = self.config.strategy(&id).filter(|s| s.enabled);
        if entry.is_none() {
            let mut replies = waiting.replies;
            replies.extend(waiting.again.map(|(_, _, r)| r).unwrap_or_default());
            reply_all(
                replies,
                Err(Refusal::NotEnabled {
                    strategy: id.clone(),
                }),
            );
            return;
        }
        let fresh = !waiting.stale && entry.is_some_and(|s| *s == prepared.strategy);
        if !fresh && prepared.from_request {
            // Its bytes came with the request: not to be read from the file.
            let error = crate::error::LoadError::new(
                crate::error::Stage::Read,
                "the config changed while this deploy ran its pipeline",
            )
            .hint("deploy it again; it is checked under the new config then");
            let event = self.emit_reload(ReloadEvent::rejected(&id, prepared.trigger, &error));
            reply_all(std::mem::take(&mut waiting.replies), Ok(event));
        } else if fresh {
            // Asked again meanwhile: that load reads the file anew anyway.
            let retried = waiting.again.is_none()
                && !prepared.from_request
                && self.retry_if_transient(&prepared, &mut outcome, &mut waiting.replies);
            if !retried {
                let event = self.conclude_load(prepared, outcome);
                reply_all(std::mem::take(&mut waiting.replies), Ok(event));
            }
        } else {
            // A config edit was applied while this compiled: what it
            // prepared may no longer be what the config asks for. Load the
            // file again under the new config — unless the edit has loaded
            // it already (then the unchanged-file check skips it), and
            // always when someone waits for an answer.
            tracing::info!(strategy = %id, "the config changed while it loaded; loading again");
            let force = !waiting.replies.is_empty();
            let again = waiting
                .again
                .get_or_insert((prepared.trigger, force, Vec::new()));
            again.1 |= force;
            again.2.append(&mut waiting.replies);
        }
        let deferred = std::mem::take(&mut waiting.deferred);
        if let Some((trigger, force, replies)) = waiting.again {
            self.request_load(&id, trigger, force, replies);
        }
        for command in deferred {
            self.handle(command);
        }
    }

    /// A read that failed for a transient reason is tried again later
    /// (true: scheduled, `replies` go with it); used-up retries end as the
    /// usual rejection, saying how many were made.
    pub(super) fn retry_if_transient(
        &mut self,
        prepared: &PreparedLoad,
        outcome: &mut LoadOutcome,
        replies: &mut Vec<Reply<ReloadEvent>>,
    ) -> bool {
        let id = prepared.id.as_str();
        let Err(error) = &mut outcome.result else {
            self.retries.concluded(id);
            return false;
        };
        if !error.is_transient() {
            self.retries.concluded(id);
            return false;
        }
        let Some(attempt) = self.retries.next_attempt(id) else {
            tracing::error!(strategy = %id, "reading the file still fails after {RETRY_ATTEMPTS} retries; giving up until it changes: {}", error.message);
            error.message = format!(
                "{} (still failing after {RETRY_ATTEMPTS} retries; the next change of the file loads again)",
                error.message
            );
            return false;
        };
        let delay = backoff(attempt);
        tracing::warn!(
            strategy = %id, attempt, of = RETRY_ATTEMPTS, delay_ms = delay.as_millis() as u64,
            "reading the file failed for a transient reason; retrying in {:.1} s: {}",
            delay.as_secs_f64(), error.message
        );
        super::disk::attempted(
            &self.shared,
            id,
            Some(format!(
                "{}; retry {attempt} of {RETRY_ATTEMPTS} in {:.1} s",
                error.message,
                delay.as_secs_f64()
            )),
        );
        self.retries.schedule(
            id,
            Pending {
                attempt,
                due: std::time::Instant::now() + delay,
                trigger: prepared.trigger,
                force: prepared.force,
                replies: std::mem::take(replies),
            },
        );
        true
    }

    /// Runs the retries whose time has come.
    pub(super) fn run_due_retries(&mut self) {
        for (id, pending) in self.retries.take_due(std::time::Instant::now()) {
            if !self.config.strategy(&id).is_some_and(|s| s.enabled) {
                reply_all(pending.replies, Err(Refusal::NotEnabled { strategy: id }));
                continue;
            }
            tracing::info!(strategy = %id, attempt = pending.attempt, of = RETRY_ATTEMPTS, "retrying the load");
            self.request_load(&id, pending.trigger, pending.force, pending.replies);
        }
    }

    /// A config edit is being applied: loads in flight were prepared under
    /// the old config and will be loaded again instead of published.
    pub(super) fn loads_in_flight_are_stale(&mut self) {
        for waiting in self.in_flight.loads.values_mut() {
            waiting.stale = true;
        }
    }
}

fn reply_all(replies: Vec<Reply<ReloadEvent>>, result: Result<ReloadEvent, Refusal>) {
    for reply in replies {
        let _ = reply.send(result.clone());
    }
}
