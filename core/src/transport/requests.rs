//! The request policy of the hosted transport: each request gets an overall deadline and,
//! after a connection failure, bounded retries paced by the client's backoff policy
//! ([`crate::transport::backoff`]). The connection under it ([`super::connection`]) knows
//! nothing of retries; the hosts under that ([`super::hosted`]) nothing of requests.

use std::time::Instant;

use tokio::sync::oneshot;

use crate::error::{Error, Result};
use crate::rt;
use crate::transport::connection::{Encode, Entry, Reply};
use crate::transport::hosted::HostedTransport;

/// Makes the reply slot of one attempt of a request.
pub(crate) type Slot<T> = fn(oneshot::Sender<Result<T>>) -> Reply;

impl HostedTransport {
    /// Send what `encode` writes (`replies` commands) until it succeeds, fails for a reason
    /// a retry cannot fix, or the retries or `deadline` run out.
    pub(crate) async fn request<T>(
        &self,
        encode: Encode<'_>,
        replies: usize,
        slot: Slot<T>,
        deadline: Instant,
    ) -> Result<T> {
        match self.attempt(encode, replies, slot, deadline).await {
            // The retries, the rare path, run in a future of their own: inlined, their
            // timer would grow every request's future, which is allocated on each call.
            Err(e) if e.is_connection_trouble() && self.may_retry(0) => {
                Box::pin(self.retry(encode, replies, slot, deadline, e)).await
            }
            other => other,
        }
    }

    async fn attempt<T>(
        &self,
        encode: Encode<'_>,
        replies: usize,
        slot: Slot<T>,
        deadline: Instant,
    ) -> Result<T> {
        let (tx, rx) = oneshot::channel();
        let entry = Entry {
            reply: slot(tx),
            left: replies,
            deadline,
        };
        self.connection().submit(encode, entry)?;
        rx.await.unwrap_or(Err(Error::Closed))
    }

    /// The retries of [`Self::request`] after its first attempt failed with `error`, each
    /// after a pause of the backoff policy, all within the request's deadline.
    async fn retry<T>(
        &self,
        encode: Encode<'_>,
        replies: usize,
        slot: Slot<T>,
        deadline: Instant,
        mut error: Error,
    ) -> Result<T> {
        let policy = self.options().backoff_policy();
        let mut tries = 0u32;
        loop {
            let pause = policy.delay(tries);
            if Instant::now() + pause >= deadline {
                return Err(error);
            }
            rt::sleep(pause).await;
            tries += 1;
            match self.attempt(encode, replies, slot, deadline).await {
                Err(e) if e.is_connection_trouble() && self.may_retry(tries) => error = e,
                other => return other,
            }
        }
    }

    fn may_retry(&self, tries: u32) -> bool {
        let opts = self.options();
        opts.offline_queue && tries < opts.retries
    }
}
