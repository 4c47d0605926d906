//! Built-in reconnect: the policy (backoff, jitter, caps), the connection status a client
//! publishes, and the task that reconnects after a connection is lost.

use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::watch;

use super::{WsClient, WsInner, WsStatus};
use crate::client::flows::ReconnectEvent;
use crate::error::{codes, TsrpcError};

/// How a [`WsClient`] reconnects after a connection it did not close is lost
/// ([`WsClientOptions::reconnect`](super::WsClientOptions::reconnect); off by default).
///
/// Attempt `n` (from 1) waits `min(initial_delay * multiplier^(n-1), max_delay)`, minus up to
/// `jitter` of it at random (the delay is in `[base * (1 - jitter), base]`, never above
/// `max_delay`). Attempts are numbered across losses until a connection stays up for
/// `stable_after`: a server that accepts and drops at once is retried ever more slowly, and
/// `max_attempts` counts every attempt of that streak. A manual
/// [`disconnect`](WsClient::disconnect) never reconnects and stops a reconnect in progress.
///
/// | field | default |
/// |---|---|
/// | `initial_delay` | 500 ms |
/// | `max_delay` | 30 s |
/// | `multiplier` | 2.0 |
/// | `jitter` | 0.5 |
/// | `max_attempts` | `None` (forever) |
/// | `stable_after` | 10 s |
/// | `wait_for_connection` | `false` (calls fail with `WS_NOT_OPEN`, as TSRPC's) |
///
/// ```
/// use std::time::Duration;
/// use rpc_runtime::client::{ReconnectPolicy, WsClientOptions};
/// let options = WsClientOptions::default().reconnect(
///     ReconnectPolicy::default()
///         .initial_delay(Duration::from_millis(200))
///         .max_attempts(Some(10))
///         .wait_for_connection(true),
/// );
/// assert_eq!(options.reconnect.unwrap().max_delay, Duration::from_secs(30));
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ReconnectPolicy {
    /// Delay before the first attempt (default 500 ms).
    pub initial_delay: Duration,
    /// Largest delay between attempts (default 30 s).
    pub max_delay: Duration,
    /// Growth of the delay per attempt (default 2.0; below 1.0 counts as 1.0).
    pub multiplier: f64,
    /// Part of each delay taken off at random, 0.0 to 1.0 (default 0.5): clients dropped
    /// together do not all come back at once.
    pub jitter: f64,
    /// Attempts before giving up (the status then goes `Closed`); `None`: forever (default).
    pub max_attempts: Option<u32>,
    /// How long a connection must stay up for the next loss to start again from attempt 1
    /// (default 10 s).
    pub stable_after: Duration,
    /// While reconnecting, a call (or a call to be re-sent) waits for the connection up to its
    /// timeout instead of failing at once with `WS_NOT_OPEN` (default `false`, as TSRPC).
    pub wait_for_connection: bool,
}

impl Default for ReconnectPolicy {
    fn default() -> Self {
        ReconnectPolicy {
            initial_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            multiplier: 2.0,
            jitter: 0.5,
            max_attempts: None,
            stable_after: Duration::from_secs(10),
            wait_for_connection: false,
        }
    }
}

impl ReconnectPolicy {
    /// Sets the delay before the first attempt.
    pub fn initial_delay(mut self, d: Duration) -> Self {
        self.initial_delay = d;
        self
    }
    /// Sets the largest delay.
    pub fn max_delay(mut self, d: Duration) -> Self {
        self.max_delay = d;
        self
    }
    /// Sets the growth of the delay per attempt.
    pub fn multiplier(mut self, m: f64) -> Self {
        self.multiplier = m;
        self
    }
    /// Sets the jitter (0.0: none, 1.0: anywhere from zero to the full delay).
    pub fn jitter(mut self, j: f64) -> Self {
        self.jitter = j;
        self
    }
    /// Sets how many attempts are made before giving up (`None`: forever).
    pub fn max_attempts(mut self, n: Option<u32>) -> Self {
        self.max_attempts = n;
        self
    }
    /// Sets how long a connection must stay up to reset the backoff.
    pub fn stable_after(mut self, d: Duration) -> Self {
        self.stable_after = d;
        self
    }
    /// Sets whether calls wait for the connection while reconnecting.
    pub fn wait_for_connection(mut self, wait: bool) -> Self {
        self.wait_for_connection = wait;
        self
    }

    /// The delay before attempt `attempt` (from 1), with `unit` in `[0, 1)` the random draw
    /// (0.0: the full delay; the client draws it at random).
    ///
    /// ```
    /// use std::time::Duration;
    /// use rpc_runtime::client::ReconnectPolicy;
    /// let p = ReconnectPolicy::default(); // 500 ms, x2, max 30 s, jitter 0.5
    /// assert_eq!(p.delay(1, 0.0), Duration::from_millis(500));
    /// assert_eq!(p.delay(3, 0.0), Duration::from_secs(2));
    /// assert_eq!(p.delay(3, 0.5), Duration::from_millis(1500));
    /// assert_eq!(p.delay(20, 0.0), Duration::from_secs(30));
    /// ```
    pub fn delay(&self, attempt: u32, unit: f64) -> Duration {
        let exp = attempt.saturating_sub(1).min(1024) as i32;
        let growth = self.multiplier.max(1.0).powi(exp);
        let max = self.max_delay.as_secs_f64();
        let base = (self.initial_delay.as_secs_f64() * growth).min(max);
        let base = if base.is_finite() { base } else { max };
        let jitter = self.jitter.clamp(0.0, 1.0) * unit.clamp(0.0, 1.0);
        // NaN settings count as no jitter; a value past Duration's range is the cap.
        let secs = (base * (1.0 - jitter)).max(0.0);
        Duration::try_from_secs_f64(secs)
            .unwrap_or(self.max_delay)
            .min(self.max_delay)
    }
}

/// The connection status a [`WsClient`] publishes ([`WsClient::status_changes`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConnectionStatus {
    /// `connect()` is connecting (not a reconnect).
    Connecting,
    /// Connected.
    Connected,
    /// The connection was lost and the client reconnects: attempt `attempt` (from 1) starts
    /// `delay` after this status is published (the status stays until it succeeds or the next
    /// one is planned).
    Reconnecting {
        /// The attempt's number, from 1 (counted across losses until a stable connection).
        attempt: u32,
        /// The wait before this attempt.
        delay: Duration,
    },
    /// Not connected and not reconnecting: before `connect()`, after `disconnect()`, after a
    /// loss without a reconnect policy, after the policy gave up.
    Closed,
}

/// Draws from `[0, 1)` (splitmix64 over a counter seeded by std's random hasher keys).
#[derive(Debug)]
pub(super) struct Jitter(AtomicU64);

impl Jitter {
    pub(super) fn new() -> Self {
        Jitter(AtomicU64::new(
            std::collections::hash_map::RandomState::new().hash_one(0x5eed_u64),
        ))
    }
    pub(super) fn unit(&self) -> f64 {
        let mut z = self
            .0
            .fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed)
            .wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }
}

impl WsClient {
    /// The connection status as a [`watch`] channel: read the current one with `borrow()`,
    /// wait for the next with `changed()`. A watch keeps the latest status only: a reader
    /// that falls behind sees the newest one (the `pre_reconnect` flow sees every attempt).
    ///
    /// ```no_run
    /// # async fn demo(client: rpc_runtime::WsClient) {
    /// let mut status = client.status_changes();
    /// tokio::spawn(async move {
    ///     while status.changed().await.is_ok() {
    ///         println!("status: {:?}", *status.borrow_and_update());
    ///     }
    /// });
    /// # }
    /// ```
    pub fn status_changes(&self) -> watch::Receiver<ConnectionStatus> {
        self.inner.status_tx.subscribe()
    }

    /// Reconnects after a lost connection: attempt `attempt`, `delay` from now (already
    /// published), then the next ones until one succeeds, the policy gives up, a
    /// `pre_reconnect` node stops it or `disconnect()` aborts this task.
    pub(super) async fn reconnect_loop(self, mut attempt: u32, mut delay: Duration) {
        let Some(policy) = self.inner.options.reconnect.clone() else {
            return;
        };
        loop {
            let ev = ReconnectEvent { attempt, delay };
            let go = self.inner.flows.pre_reconnect.exec(ev).await.is_some();
            if go {
                tokio::time::sleep(delay).await;
            }
            let ok = go && self.connect().await.is_ok();
            let mut st = self.inner.lock_state();
            if ok || st.reconnect.is_none() {
                // Connected (which ended the reconnect), or a disconnect() or connect() took
                // over.
                return;
            }
            if !go || policy.max_attempts.is_some_and(|max| attempt >= max) {
                st.reconnect = None;
                if st.status == WsStatus::Closed {
                    self.inner.publish(ConnectionStatus::Closed);
                }
                if !go {
                    tracing::debug!("reconnect stopped by pre_reconnect");
                } else {
                    tracing::warn!(url = %self.inner.url, attempt, "reconnect gave up");
                }
                return;
            }
            attempt += 1;
            st.attempts = attempt;
            delay = policy.delay(attempt, self.inner.jitter.unit());
            self.inner
                .publish(ConnectionStatus::Reconnecting { attempt, delay });
        }
    }
}

impl WsInner {
    /// After a call failed with `err`: true once the client reconnected and the call may be
    /// sent again; false when it returns `err` (no policy, not a reconnect error, gave up).
    pub(super) async fn wait_to_retry(&self, err: &TsrpcError, resend: bool) -> bool {
        let Some(policy) = &self.options.reconnect else {
            return false;
        };
        let wanted = (resend && err.is_code(codes::LOST_CONN))
            || ((resend || policy.wait_for_connection) && err.is_code(codes::WS_NOT_OPEN));
        if !wanted {
            return false;
        }
        let mut rx = self.status_tx.subscribe();
        loop {
            let status = *rx.borrow_and_update();
            match status {
                ConnectionStatus::Reconnecting { .. } => {}
                // A live socket to send on; else (a disconnect() closing it) give up. The yield:
                // a socket whose loss is not handled yet lets that run before the next try.
                ConnectionStatus::Connected => {
                    tokio::task::yield_now().await;
                    return self.live().is_some();
                }
                ConnectionStatus::Connecting | ConnectionStatus::Closed => return false,
            }
            if rx.changed().await.is_err() {
                return false;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_to_the_cap_and_jitter_stays_below_the_base() {
        let p = ReconnectPolicy::default();
        let bases: Vec<u64> = (1..=9)
            .map(|n| p.delay(n, 0.0).as_millis() as u64)
            .collect();
        assert_eq!(
            bases,
            [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]
        );
        assert_eq!(p.delay(1, 0.999_999), Duration::from_nanos(250_000_250));
        assert_eq!(p.delay(u32::MAX, 0.0), p.max_delay);
        let jitter = Jitter::new();
        for n in 1..50 {
            let u = jitter.unit();
            assert!((0.0..1.0).contains(&u), "{u}");
            let d = p.delay(n, u);
            let base = p.delay(n, 0.0);
            assert!(d <= base && d >= base / 2, "{n}: {d:?} vs {base:?}");
        }
    }

    #[test]
    fn odd_settings_give_a_delay_never_a_panic() {
        let huge = ReconnectPolicy::default()
            .initial_delay(Duration::MAX)
            .max_delay(Duration::MAX);
        assert_eq!(huge.delay(3, 0.0), Duration::MAX);
        let nan = ReconnectPolicy::default()
            .multiplier(f64::NAN)
            .jitter(f64::NAN);
        assert!(nan.delay(4, 0.5) <= nan.max_delay);
        let shrinking = ReconnectPolicy::default().multiplier(0.1);
        assert_eq!(shrinking.delay(5, 0.0), shrinking.initial_delay);
        let zero = ReconnectPolicy::default().initial_delay(Duration::ZERO);
        assert_eq!(zero.delay(7, 0.3), Duration::ZERO);
        let full = ReconnectPolicy::default().jitter(5.0);
        assert_eq!(full.delay(1, 0.5), Duration::from_millis(250));
    }
}
