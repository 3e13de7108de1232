//! Concurrency slots: `concurrency` of them; a job holds one from the moment it is taken
//! until its finish has been answered by the server (so a job finishing and the next one
//! taken in the same round trip reuse one slot).

use std::sync::Mutex;

use tokio::sync::Notify;

#[derive(Debug)]
pub(crate) struct Slots {
    total: usize,
    free: Mutex<usize>,
    changed: Notify,
}

impl Slots {
    pub(crate) fn new(total: usize) -> Self {
        Slots {
            total,
            free: Mutex::new(total),
            changed: Notify::new(),
        }
    }

    fn free(&self) -> std::sync::MutexGuard<'_, usize> {
        self.free.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Take every free slot (0 if none).
    pub(crate) fn take_all(&self) -> usize {
        std::mem::take(&mut *self.free())
    }

    /// Give back `n` slots.
    pub(crate) fn release(&self, n: usize) {
        if n == 0 {
            return;
        }
        let mut free = self.free();
        *free += n;
        debug_assert!(*free <= self.total);
        drop(free);
        self.changed.notify_waiters();
    }

    /// Resolves once some slot is free.
    pub(crate) async fn until_free(&self) {
        loop {
            let notified = self.changed.notified();
            let mut notified = std::pin::pin!(notified);
            notified.as_mut().enable();
            if *self.free() > 0 {
                return;
            }
            notified.await;
        }
    }

    /// Resolves once every slot is free: nothing in flight, nothing left to finish.
    pub(crate) async fn until_all_free(&self) {
        loop {
            let notified = self.changed.notified();
            let mut notified = std::pin::pin!(notified);
            notified.as_mut().enable();
            if *self.free() == self.total {
                return;
            }
            notified.await;
        }
    }
}
