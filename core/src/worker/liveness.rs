//! Whether anyone works on a queue: every worker heartbeats (queue_extend.lua); a queue
//! whose jobs wait while no worker has been seen for a while is stuck — the check teams of
//! every queue library end up writing by hand.

use std::time::Duration;

use crate::error::Result;
use crate::queue::{Queue, WorkerInfo};

/// [`Queue::liveness`]'s answer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct QueueLiveness {
    /// Jobs waiting (prioritized included).
    pub waiting: u64,
    /// Workers seen within the window.
    pub workers: Vec<WorkerInfo>,
    /// Jobs wait and no worker was seen within the window.
    pub stuck: bool,
}

impl Queue {
    /// The workers seen within `within` and whether jobs wait with none of them alive.
    pub async fn liveness(&self, within: Duration) -> Result<QueueLiveness> {
        let workers = self.workers(within).await?;
        let waiting = self.counts().await?.waiting;
        Ok(QueueLiveness {
            waiting,
            stuck: waiting > 0 && workers.is_empty(),
            workers,
        })
    }
}
