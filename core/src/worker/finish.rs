//! The finish task: every job's end comes here; the ends ready together go to the server in
//! one round trip, each finish taking the next job in the same script call.
//!
//! Up to [`MAX_IN_FLIGHT`] such round trips are outstanding at once: while the server works
//! on one batch the worker runs the jobs of another and gathers their ends, so the two
//! overlap instead of taking turns (with one in flight every end waited for the round trip
//! before it). Replies are applied in the order the requests were sent, so a worker's
//! events keep the order of its ends. Each request carries its own deliveries (fenced by
//! their tokens, as one alone was) and holds their slots until it is answered, so the
//! concurrency bound is unchanged.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use futures_util::stream::{FuturesOrdered, StreamExt};
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::engine::{backoff, End, Shared};
use super::events::{FailureKind, WorkerEvent};
use crate::queue::{Finish, Finished, Outcome, Take};

/// The most finish requests outstanding at once.
pub(crate) const MAX_IN_FLIGHT: usize = 2;

/// The most job ends sent in one round trip.
const MAX_BATCH: usize = 1000;

/// One finish request: the deliveries it ends and what the server answered (None: given
/// up on, see [`send`]).
struct Sent {
    finished: Vec<Finish>,
    kinds: Vec<FailureKind>,
    reply: Option<(Vec<Finished>, Take)>,
}

/// Send the ends that are ready, up to [`MAX_IN_FLIGHT`] requests at once; apply the
/// replies in order.
pub(super) async fn finish_loop(shared: Arc<Shared>, mut ends: mpsc::UnboundedReceiver<End>) {
    let mut stopped = shared.stopped();
    // Since when stores have failed without one succeeding, across requests.
    let unreachable_since = Mutex::new(None::<Instant>);
    let mut received = Vec::new();
    let mut pending: Vec<(Finish, FailureKind)> = Vec::new();
    let mut in_flight = FuturesOrdered::new();
    // A request's share of the slots' ends (see `request_sizes`): sent at the first end
    // while another is out, it would carry one job per round trip and the server would pay
    // a call's fixed cost for each.
    let share = shared.opts.concurrency.div_ceil(MAX_IN_FLIGHT).max(1);
    loop {
        let sizes = request_sizes(pending.len(), in_flight.len(), share);
        if !sizes.is_empty() {
            for size in sizes {
                let batch: Vec<_> = pending.drain(..size).collect();
                in_flight.push_back(send(&shared, &unreachable_since, batch));
            }
            continue;
        }
        tokio::select! {
            // Replies first: each frees slots and may start jobs.
            biased;
            Some(sent) = in_flight.next() => apply(&shared, sent),
            // With every request out the ends wait in the channel (no wake-up per end).
            n = ends.recv_many(&mut received, MAX_BATCH), if in_flight.len() < MAX_IN_FLIGHT => {
                if n == 0 {
                    return;
                }
                for end in received.drain(..) {
                    match end.finished {
                        Some(f) => pending.push(f),
                        // Nothing to write (lease lost, or closing without waiting).
                        None => {
                            shared.forget(&end.id, end.token);
                            shared.slots.release(1);
                        }
                    }
                }
            }
            _ = stopped.wait_for(|s| *s) => return,
        }
    }
}

/// The sizes of the finish requests to send now, with `pending` ends ready and `in_flight`
/// requests out; none while the ends should wait for more.
///
/// No request carries more than a `share` of the slots: one request of nearly every slot
/// and one of the few left would take turns with the worker (the server idle while the
/// worker runs the big one's jobs, then the worker idle), as they did when a request took
/// every end ready (bench/results/rust-queue.md). While a request is out, the next waits
/// for a share; with nothing out, every end ready goes at once, in as many requests as it
/// takes, so a slow job's end never waits for a batch.
fn request_sizes(pending: usize, in_flight: usize, share: usize) -> Vec<usize> {
    let size = share.min(MAX_BATCH);
    let all = in_flight == 0;
    let mut left = pending;
    let mut sizes = Vec::new();
    while in_flight + sizes.len() < MAX_IN_FLIGHT && (left >= share || all && left > 0) {
        sizes.push(left.min(size));
        left -= left.min(size);
    }
    sizes
}

/// One finish request, sent again while it fails and its results may still count.
async fn send(
    shared: &Arc<Shared>,
    unreachable_since: &Mutex<Option<Instant>>,
    batch: Vec<(Finish, FailureKind)>,
) -> Sent {
    let (finished, kinds): (Vec<_>, Vec<_>) = batch.into_iter().unzip();
    let next = if shared.accepting() && !shared.is_limited() {
        finished.len()
    } else {
        0
    };
    let since = || unreachable_since.lock().unwrap_or_else(|p| p.into_inner());
    let mut failures = 0;
    let mut wake = None;
    let reply = loop {
        // A result is kept while its lease may still hold: keep trying (the lease is
        // renewed meanwhile) unless the worker is forced shut, or is closing and the
        // server has not answered for a whole lock_duration, after which the lease may
        // have passed to another worker: a close must not wait on a server that may
        // never come back, and stalled recovery runs those jobs again.
        let given_up = shared.closing.load(Ordering::Acquire)
            && since().is_some_and(|t| t.elapsed() >= shared.opts.lock_duration);
        if given_up || (failures > 0 && shared.forced.load(Ordering::Acquire)) {
            break None;
        }
        let attempt = Instant::now();
        shared.counters.take_calls.fetch_add(1, Ordering::Relaxed);
        match shared
            .queue
            .finish(&finished, &shared.take_args, next as u32)
            .await
        {
            Ok(r) => {
                *since() = None;
                break Some(r);
            }
            Err(e) => {
                shared.error("finishing jobs", &e);
                failures += 1;
                since().get_or_insert(attempt);
                let wake = wake.get_or_insert_with(|| shared.wake.subscribe());
                backoff(failures, wake).await;
            }
        }
    };
    Sent {
        finished,
        kinds,
        reply,
    }
}

/// Apply a request's reply: its deliveries are over, their events go out, the jobs it took
/// start on the slots it held.
fn apply(shared: &Arc<Shared>, sent: Sent) {
    let Sent {
        finished,
        kinds,
        reply,
    } = sent;
    let freed = finished.len();
    for f in &finished {
        shared.forget(&f.id, f.token);
    }
    let Some((fins, take)) = reply else {
        shared.slots.release(freed);
        return;
    };
    for ((f, kind), fin) in finished.into_iter().zip(kinds).zip(fins) {
        report(shared, f, kind, fin);
    }
    let got = shared.spawn_jobs(take);
    shared.slots.release(freed - got);
}

/// Emit the event of an end the server answered.
fn report(shared: &Shared, f: Finish, kind: FailureKind, fin: Finished) {
    let c = &shared.counters;
    let event = match (fin, f.outcome) {
        (Finished::Lost, _) => {
            c.refused.fetch_add(1, Ordering::Relaxed);
            WorkerEvent::Error {
                message: format!(
                    "the result of job {} was refused: this delivery lost its lease",
                    f.id
                ),
            }
        }
        (_, Outcome::Completed(result)) => {
            c.completed.fetch_add(1, Ordering::Relaxed);
            WorkerEvent::Completed {
                job_id: f.id,
                result,
            }
        }
        (fin, outcome) => {
            c.failed.fetch_add(1, Ordering::Relaxed);
            let reason = match outcome {
                Outcome::Failed { reason, .. }
                | Outcome::Unrecoverable { reason, .. }
                | Outcome::Cancelled { reason }
                | Outcome::Timeout { reason } => reason,
                Outcome::Completed(_) => String::new(),
            };
            WorkerEvent::Failed {
                job_id: f.id,
                reason,
                kind,
                will_retry: fin == Finished::Retrying,
            }
        }
    };
    shared.events.emit(event);
}

#[cfg(test)]
mod tests {
    use super::{request_sizes, MAX_BATCH, MAX_IN_FLIGHT};

    #[test]
    fn requests_carry_at_most_a_share() {
        assert_eq!(
            MAX_IN_FLIGHT, 2,
            "the cases below assume two requests out at most"
        );
        // Nothing out: every end ready goes, split so that neither request is the big one.
        assert_eq!(request_sizes(99, 0, 50), vec![50, 49]);
        assert_eq!(request_sizes(100, 0, 50), vec![50, 50]);
        // Nothing out and few ends: they go at once, in one request.
        assert_eq!(request_sizes(1, 0, 50), vec![1]);
        assert_eq!(request_sizes(20, 0, 50), vec![20]);
        // One out: a share goes, the rest waits for a free request.
        assert_eq!(request_sizes(99, 1, 50), vec![50]);
        assert_eq!(request_sizes(50, 1, 50), vec![50]);
        // One out and less than a share ready, or both out, or nothing ready: wait.
        assert!(request_sizes(30, 1, 50).is_empty());
        assert!(request_sizes(100, 2, 50).is_empty());
        assert!(request_sizes(0, 0, 50).is_empty());
        // A share above the batch bound is sent in batches of the bound.
        assert_eq!(request_sizes(5000, 0, 2500), vec![MAX_BATCH, MAX_BATCH]);
        // Concurrency 1: one end, one request.
        assert_eq!(request_sizes(1, 0, 1), vec![1]);
        assert_eq!(request_sizes(1, 1, 1), vec![1]);
    }
}
