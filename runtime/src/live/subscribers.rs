//! Who receives the runtime's events: each subscriber holds an
//! [`EventSubscription`], and dropping it takes its sender off the list at
//! once. Before, a subscriber that hung up stayed on the list (and in
//! [`super::RuntimeHandle::event_subscribers`]) until the next event found
//! its channel closed, which on a quiet runtime could be a long time.

use super::events::Event;
use super::shared::{Shared, lock};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Weak};

/// The senders of the attached subscriptions, each under its own id.
#[derive(Default)]
pub(crate) struct Subscribers {
    next_id: u64,
    senders: Vec<(u64, Sender<Event>)>,
}

impl Subscribers {
    /// A new subscriber's id and the receiving end of its channel.
    fn add(&mut self) -> (u64, Receiver<Event>) {
        let (tx, rx) = channel();
        let id = self.next_id;
        self.next_id += 1;
        self.senders.push((id, tx));
        (id, rx)
    }

    fn remove(&mut self, id: u64) {
        self.senders.retain(|(each, _)| *each != id);
    }

    /// Sends `event` to every subscriber. A send cannot fail: a receiver
    /// lives exactly as long as its subscription, whose `Drop` removes the
    /// sender before the receiver goes.
    pub(crate) fn send(&self, event: &Event) {
        for (_, sender) in &self.senders {
            let _ = sender.send(event.clone());
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.senders.len()
    }
}

/// Every event from the moment it was taken (`RuntimeHandle::subscribe`),
/// read as a [`Receiver`] (`recv`, `recv_timeout`, `try_recv`, `iter`...).
/// Dropping it unsubscribes.
pub struct EventSubscription {
    events: Receiver<Event>,
    id: u64,
    /// Weak: a subscription does not keep a stopped runtime's state alive.
    shared: Weak<Shared>,
}

impl EventSubscription {
    pub(crate) fn attach(shared: &Arc<Shared>) -> Self {
        let (id, events) = lock(&shared.subscribers).add();
        Self {
            events,
            id,
            shared: Arc::downgrade(shared),
        }
    }
}

impl std::ops::Deref for EventSubscription {
    type Target = Receiver<Event>;

    fn deref(&self) -> &Receiver<Event> {
        &self.events
    }
}

impl Drop for EventSubscription {
    fn drop(&mut self) {
        if let Some(shared) = self.shared.upgrade() {
            lock(&shared.subscribers).remove(self.id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::events::{StopEvent, StopReason};

    fn event() -> Event {
        Event::Stop(StopEvent {
            ts: String::new(),
            strategy: "s".into(),
            version: 1,
            sha256: String::new(),
            seq_range: None,
            reason: StopReason::Shutdown,
        })
    }

    /// Regression: a dropped subscriber was counted (and kept) until an
    /// event was sent after it hung up.
    #[test]
    fn a_dropped_subscription_leaves_at_once() {
        let shared = Arc::new(Shared::default());
        let first = EventSubscription::attach(&shared);
        let second = EventSubscription::attach(&shared);
        assert_eq!(lock(&shared.subscribers).len(), 2);
        drop(first);
        assert_eq!(lock(&shared.subscribers).len(), 1, "no event needed");
        lock(&shared.subscribers).send(&event());
        assert!(second.try_recv().is_ok(), "the other one still receives");
        drop(second);
        assert_eq!(lock(&shared.subscribers).len(), 0);
    }

    #[test]
    fn a_subscription_outliving_the_runtime_drops_quietly() {
        let shared = Arc::new(Shared::default());
        let subscription = EventSubscription::attach(&shared);
        drop(shared);
        assert!(subscription.try_recv().is_err(), "nothing more will come");
        drop(subscription);
    }
}
