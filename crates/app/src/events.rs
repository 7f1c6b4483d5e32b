//! Events published after commit (record saved, opened, deleted). In-process for now,
//! behind a trait that a PostgreSQL LISTEN/NOTIFY bus can implement (SPEC.md "Scale path").

use serde::Serialize;
use tokio::sync::broadcast;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    RecordCreated {
        id: String,
        by: String,
    },
    RecordUpdated {
        id: String,
        version: i64,
        by: String,
        fields: Vec<String>,
    },
    RecordDeleted {
        id: String,
        by: String,
    },
    /// Someone opened or closed a card.
    Presence {
        id: String,
    },
    /// A job moved on.
    JobProgress {
        id: i64,
        state: String,
        done: i64,
        total: i64,
    },
}

pub trait EventBus: Send + Sync {
    fn publish(&self, event: Event);
    fn subscribe(&self) -> broadcast::Receiver<Event>;
}

pub struct LocalBus {
    tx: broadcast::Sender<Event>,
}

impl LocalBus {
    pub fn new() -> LocalBus {
        LocalBus {
            tx: broadcast::channel(1024).0,
        }
    }
}

impl Default for LocalBus {
    fn default() -> Self {
        LocalBus::new()
    }
}

impl EventBus for LocalBus {
    fn publish(&self, event: Event) {
        // No subscriber is not an error.
        let _ = self.tx.send(event);
    }
    fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.tx.subscribe()
    }
}
