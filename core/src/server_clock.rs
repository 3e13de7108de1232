//! The server's clock, read from here. Cache entries say until when they are fresh in the
//! server's time (the scripts read `TIME`), so a client must judge them by the server's
//! clock, not its own: a client whose clock runs ahead would reload fresh entries, one
//! behind would serve stale ones as fresh.
//!
//! A client keeps the offset between the two clocks, measured with `TIME`: at connect where
//! the client checks the server (in the same round trip), otherwise by the first read that
//! goes to Redis, and again by one read that goes to Redis once the measurement is
//! [`RESYNC_MS`] old or the local clock has jumped back past it. Such a read sends `TIME`
//! beside its `GET`, so no read waits for a round trip of its own, and a near-cache hit
//! never measures; every other read costs three atomic loads.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use crate::rt;
use crate::transport::Transport;
use crate::value::{Cmd, Value};

/// How long one measurement is trusted, ms: clocks drift and get stepped.
pub(crate) const RESYNC_MS: u64 = 60_000;

/// The offset of the server's clock from this host's, shared by the clones of a client.
#[derive(Debug, Default)]
pub(crate) struct ServerClock {
    /// Server time minus local time, ms.
    offset_ms: AtomicI64,
    /// Local time of the last measurement (or claim to make one), ms; 0: never measured.
    measured_at: AtomicU64,
}

impl ServerClock {
    /// The server's time at local time `local_ms`, once the offset was measured.
    pub(crate) fn now(&self, local_ms: u64) -> Option<u64> {
        (self.measured_at.load(Ordering::Acquire) != 0).then(|| self.at(local_ms))
    }

    /// Whether the caller, about to send a command anyway, is to [`measure`](Self::measure)
    /// beside it: the offset is unknown, or due for renewal and no other caller took that
    /// on. While it is unknown every caller measures (a guess would be the local clock, the
    /// very error this avoids).
    pub(crate) fn claim_measurement(&self, local_ms: u64) -> bool {
        let at = self.measured_at.load(Ordering::Acquire);
        if at == 0 {
            return true;
        }
        let current = local_ms >= at && local_ms - at < RESYNC_MS;
        !current
            && self
                .measured_at
                .compare_exchange(at, local_ms.max(1), Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
    }

    /// The server's time at local time `local_ms`, by the offset as it stands.
    pub(crate) fn at(&self, local_ms: u64) -> u64 {
        local_ms.saturating_add_signed(self.offset_ms.load(Ordering::Acquire))
    }

    /// Send `TIME` and keep the offset it shows, taking the server's reading to be from
    /// halfway through the round trip. A failure keeps the offset there was (none at first:
    /// the local clock) until the next renewal: freshness is then judged as before.
    pub(crate) async fn measure(&self, transport: &dyn Transport) {
        let sent = rt::now_ms();
        let reply = transport.send(Cmd::new("TIME")).await;
        let received = rt::now_ms();
        self.record(reply.ok().as_ref(), sent, received);
    }

    /// Keep what a `TIME` reply (`None`: no reply) sent at local time `sent` and answered
    /// at `received` shows.
    pub(crate) fn record(&self, reply: Option<&Value>, sent: u64, received: u64) {
        let local = sent + (received.saturating_sub(sent)) / 2;
        if let Some(server) = reply.and_then(server_ms) {
            let offset = i64::try_from(i128::from(server) - i128::from(local)).unwrap_or(0);
            self.offset_ms.store(offset, Ordering::Release);
        }
        self.measured_at.store(received.max(1), Ordering::Release);
    }
}

/// The server's time in ms from a `TIME` reply: `[seconds, microseconds]`.
fn server_ms(reply: &Value) -> Option<u64> {
    let Value::Array(parts) = reply else {
        return None;
    };
    let [secs, micros] = parts.as_slice() else {
        return None;
    };
    let secs = u64::try_from(secs.as_int().ok()?).ok()?;
    let micros = u64::try_from(micros.as_int().ok()?).ok()?;
    secs.checked_mul(1000)?.checked_add(micros / 1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn time(secs: i64, micros: i64) -> Value {
        Value::Array(vec![
            Value::Bulk(secs.to_string().into_bytes()),
            Value::Bulk(micros.to_string().into_bytes()),
        ])
    }

    #[test]
    fn unknown_until_measured_then_offset_by_the_servers_reading() {
        let clock = ServerClock::default();
        assert_eq!(clock.now(5_000), None);
        assert!(clock.claim_measurement(5_000));
        assert!(
            clock.claim_measurement(5_000),
            "unknown: every caller measures"
        );
        // Sent at 1 000, answered at 1 100: the server read 2 000 000 ms halfway, at 1 050.
        clock.record(Some(&time(2_000, 500)), 1_000, 1_100);
        assert_eq!(clock.now(1_050), Some(2_000_000));
        assert_eq!(clock.now(1_200), Some(2_000_150));
        assert!(!clock.claim_measurement(1_200));
    }

    #[test]
    fn renewed_by_one_caller_once_old_or_when_the_clock_went_back() {
        let clock = ServerClock::default();
        clock.record(Some(&time(10, 0)), 1_000, 1_000);
        assert!(!clock.claim_measurement(1_000 + RESYNC_MS - 1));
        // Old: the first caller measures, the next goes on with the offset there is.
        assert!(clock.claim_measurement(1_000 + RESYNC_MS));
        assert!(!clock.claim_measurement(1_000 + RESYNC_MS));
        assert_eq!(
            clock.now(1_000 + RESYNC_MS),
            Some(9_000 + 1_000 + RESYNC_MS)
        );
        // The local clock went back past the last claim: renew.
        assert!(clock.claim_measurement(500));
    }

    #[test]
    fn a_failed_measurement_keeps_the_offset_until_the_next_renewal() {
        let clock = ServerClock::default();
        clock.record(None, 1_000, 1_010);
        assert_eq!(clock.now(2_000), Some(2_000));
        assert!(!clock.claim_measurement(2_000));
        clock.record(Some(&time(1, 0)), 3_000, 3_000);
        clock.record(Some(&Value::Status("OK".into())), 4_000, 4_000);
        assert_eq!(clock.at(5_000), 3_000);
    }
}
