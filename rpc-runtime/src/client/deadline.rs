//! Call timeouts without a timer per call: the deadline sweeper.
//!
//! A WebSocket client can have thousands of calls in flight, each with a timeout. Instead of
//! registering (and clearing) a tokio timer per call, the client queues each call's deadline in
//! [`Deadlines`] and one task per connection, [`sweep`], sleeps until the earliest one. There is
//! one queue per distinct timeout (at most [`MAX_SWEPT_TIMEOUTS`]), so each queue is already in
//! deadline order: pushing is O(1) and the earliest deadline is the smallest queue front. A
//! call that ends early is not searched for in the queues; its entry is dropped when it reaches
//! the front, or by a compaction when a queue grows much longer than the calls pending. The
//! table of pending calls stays with its owner ([`ClientCore`](super::ClientCore)): this module
//! only asks it, through an `is_live` function, whether a queued `(deadline, sn)` still stands.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::pin;
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

/// At most this many different timeouts are swept; a call with yet another one needs a timer
/// of its own.
pub(crate) const MAX_SWEPT_TIMEOUTS: usize = 8;

/// A deadline just queued by [`Deadlines::push`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Queued {
    /// When the call times out.
    pub(crate) deadline: Instant,
    /// True when it comes before the deadline the sweeper sleeps until: notify the sweeper.
    pub(crate) wake: bool,
}

/// The queued deadlines of the pending calls, one queue per timeout.
#[derive(Debug, Default)]
pub(crate) struct Deadlines {
    /// One queue per timeout: deadlines are taken under the owner's lock, in time order, so
    /// each queue is in deadline order. An entry whose call is gone is dropped when met.
    queues: Vec<(Duration, VecDeque<(Instant, u64)>)>,
    /// The deadline the sweeper sleeps until (`None`: until woken).
    armed: Option<Instant>,
}

impl Deadlines {
    /// Queues a deadline `timeout` after `now` for call `sn`; `None` when
    /// [`MAX_SWEPT_TIMEOUTS`] other timeouts are in use already.
    ///
    /// `pending` is how many calls are pending; `is_live(deadline, sn)` says whether that call
    /// is still pending with that deadline (entries for which it is false are dropped).
    #[inline]
    pub(crate) fn push(
        &mut self,
        now: Instant,
        timeout: Duration,
        sn: u64,
        pending: usize,
        is_live: impl Fn(Instant, u64) -> bool,
    ) -> Option<Queued> {
        let i = match self.queues.iter().position(|(t, _)| *t == timeout) {
            Some(i) => i,
            None if self.queues.len() < MAX_SWEPT_TIMEOUTS => {
                self.queues.push((timeout, VecDeque::new()));
                self.queues.len() - 1
            }
            None => return None,
        };
        let deadline = now + timeout;
        let q = &mut self.queues[i].1;
        while let Some(&(d, front)) = q.front() {
            if is_live(d, front) {
                break;
            }
            q.pop_front();
        }
        if q.len() > 2 * pending + 64 {
            // A long call at the front holds back the ones done behind it.
            q.retain(|&(d, sn)| is_live(d, sn));
        }
        q.push_back((deadline, sn));
        let wake = self.armed.is_none_or(|a| deadline < a);
        if wake {
            self.armed = Some(deadline);
        }
        Some(Queued { deadline, wake })
    }

    /// Takes every live deadline at or before `now` (their sns go to `due`, earliest first
    /// within a queue); returns the next deadline, which the sweeper then sleeps until.
    pub(crate) fn take_due(
        &mut self,
        now: Instant,
        is_live: impl Fn(Instant, u64) -> bool,
        due: &mut Vec<u64>,
    ) -> Option<Instant> {
        let mut next: Option<Instant> = None;
        for (_, q) in &mut self.queues {
            while let Some(&(d, sn)) = q.front() {
                if !is_live(d, sn) {
                    q.pop_front();
                    continue;
                }
                if d > now {
                    next = Some(next.map_or(d, |n| n.min(d)));
                    break;
                }
                q.pop_front();
                due.push(sn);
            }
        }
        self.armed = next;
        next
    }

    /// Forgets every queued deadline (every pending call was failed at once).
    pub(crate) fn clear(&mut self) {
        for (_, q) in &mut self.queues {
            q.clear();
        }
    }
}

/// The sweeper: calls `expire(now)` at once, then whenever the deadline it returned is reached
/// or `wake` is notified, until `stop` resolves.
///
/// `expire` takes the calls that are due (with [`Deadlines::take_due`]), times them out, and
/// returns the next deadline (`None`: sleep until woken). Whoever queues a deadline for which
/// [`Queued::wake`] is true notifies `wake` (a permit is kept if that happens before the
/// sweeper waits).
pub(crate) async fn sweep(
    wake: &Notify,
    stop: impl Future<Output = ()>,
    mut expire: impl FnMut(Instant) -> Option<Instant>,
) {
    let mut stop = pin!(stop);
    let mut sleep = pin!(tokio::time::sleep_until(Instant::now()));
    loop {
        let next = expire(Instant::now());
        if let Some(d) = next {
            sleep.as_mut().reset(d);
        }
        tokio::select! {
            biased;
            _ = &mut stop => return,
            _ = wake.notified() => {}
            _ = &mut sleep, if next.is_some() => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};

    use super::*;

    /// A pending-call table as the client keeps one: sn -> its deadline, plus what timed out.
    #[derive(Default)]
    struct Table {
        deadlines: Deadlines,
        calls: HashMap<u64, Instant>,
        timed_out: Vec<(u64, Instant)>,
    }

    impl Table {
        /// Starts call `sn` with this timeout (as the client does: queue, then insert).
        fn start(&mut self, now: Instant, timeout: Duration, sn: u64) -> Option<Queued> {
            let calls = &self.calls;
            let q = self
                .deadlines
                .push(now, timeout, sn, calls.len(), |d, sn| {
                    calls.get(&sn) == Some(&d)
                })?;
            self.calls.insert(sn, q.deadline);
            Some(q)
        }

        /// Times out what is due at `now`; the next deadline.
        fn expire(&mut self, now: Instant) -> Option<Instant> {
            let mut due = Vec::new();
            let calls = &self.calls;
            let next = self
                .deadlines
                .take_due(now, |d, sn| calls.get(&sn) == Some(&d), &mut due);
            for sn in due {
                self.calls.remove(&sn);
                self.timed_out.push((sn, now));
            }
            next
        }

        fn queued(&self) -> usize {
            self.deadlines.queues.iter().map(|(_, q)| q.len()).sum()
        }
    }

    /// A table with a running sweeper; drop the sender to stop it.
    struct Swept {
        table: Arc<Mutex<Table>>,
        wake: Arc<Notify>,
        stop: tokio::sync::oneshot::Sender<()>,
        task: tokio::task::JoinHandle<()>,
    }

    fn swept() -> Swept {
        let table = Arc::new(Mutex::new(Table::default()));
        let wake = Arc::new(Notify::new());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn({
            let table = table.clone();
            let wake = wake.clone();
            async move {
                let stopped = async move {
                    let _ = stopped.await;
                };
                sweep(&wake, stopped, |now| table.lock().unwrap().expire(now)).await
            }
        });
        Swept {
            table,
            wake,
            stop,
            task,
        }
    }

    impl Swept {
        fn start(&self, timeout_ms: u64, sn: u64) {
            let q = self
                .table
                .lock()
                .unwrap()
                .start(Instant::now(), Duration::from_millis(timeout_ms), sn)
                .expect("swept");
            if q.wake {
                self.wake.notify_one();
            }
        }

        /// Stops the sweeper and waits for it to end.
        async fn stop(self) -> Arc<Mutex<Table>> {
            drop(self.stop);
            self.task.await.unwrap();
            self.table
        }

        /// The sns timed out so far, with the milliseconds since `t0` when each was.
        fn timed_out(&self, t0: Instant) -> Vec<(u64, u128)> {
            let t = self.table.lock().unwrap();
            t.timed_out
                .iter()
                .map(|&(sn, at)| (sn, (at - t0).as_millis()))
                .collect()
        }
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn wakes_only_for_an_earlier_deadline() {
        let now = Instant::now();
        let mut t = Table::default();
        assert!(t.start(now, ms(100), 1).unwrap().wake, "nothing armed");
        assert!(!t.start(now, ms(100), 2).unwrap().wake, "same deadline");
        assert!(!t.start(now, ms(300), 3).unwrap().wake, "later");
        let q = t.start(now, ms(50), 4).unwrap();
        assert!(q.wake, "earlier");
        assert_eq!(q.deadline, now + ms(50));
    }

    #[test]
    fn at_most_eight_timeouts_are_swept() {
        let now = Instant::now();
        let mut t = Table::default();
        for i in 0..MAX_SWEPT_TIMEOUTS as u64 {
            assert!(t.start(now, ms(100 + i), i).is_some());
        }
        assert_eq!(t.start(now, ms(999), 100), None);
        // A timeout already in use still is.
        assert!(t.start(now, ms(100), 101).is_some());
    }

    #[test]
    fn due_in_deadline_order_across_queues() {
        let now = Instant::now();
        let mut t = Table::default();
        t.start(now, ms(30), 1);
        t.start(now, ms(10), 2);
        t.start(now, ms(20), 3);
        t.start(now + ms(5), ms(10), 4);
        assert_eq!(t.expire(now), Some(now + ms(10)));
        assert_eq!(t.expire(now + ms(12)), Some(now + ms(15)));
        assert_eq!(t.expire(now + ms(20)), Some(now + ms(30)));
        assert_eq!(t.expire(now + ms(30)), None);
        let sns: Vec<_> = t.timed_out.iter().map(|&(sn, _)| sn).collect();
        assert_eq!(sns, vec![2, 4, 3, 1]);
        assert!(t.calls.is_empty());
    }

    #[test]
    fn a_finished_call_is_never_due_and_is_dropped_from_the_queue() {
        let now = Instant::now();
        let mut t = Table::default();
        t.start(now, ms(10), 1);
        t.start(now, ms(10), 2);
        t.calls.remove(&1);
        assert_eq!(t.expire(now + ms(10)), None);
        assert_eq!(t.timed_out, vec![(2, now + ms(10))]);
        assert_eq!(t.queued(), 0);
    }

    #[test]
    fn a_long_call_does_not_let_finished_ones_pile_up() {
        let now = Instant::now();
        let mut t = Table::default();
        t.start(now, ms(1000), 0); // stays pending at the front
        for sn in 1..10_000 {
            t.start(now, ms(1000), sn);
            t.calls.remove(&sn);
        }
        // Compacted whenever the queue grew past 2 * pending + 64.
        assert!(t.queued() <= 2 + 64 + 1, "{} queued", t.queued());
        assert_eq!(t.expire(now + ms(1000)), None);
        assert_eq!(t.timed_out, vec![(0, now + ms(1000))]);
    }

    #[test]
    fn clear_forgets_every_deadline() {
        let now = Instant::now();
        let mut t = Table::default();
        t.start(now, ms(10), 1);
        t.start(now, ms(20), 2);
        t.deadlines.clear();
        t.calls.clear();
        assert_eq!(t.queued(), 0);
        assert_eq!(t.expire(now + ms(100)), None);
        assert!(t.timed_out.is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn sweeper_times_out_in_order_at_each_deadline() {
        let s = swept();
        let t0 = Instant::now();
        s.start(300, 1);
        s.start(100, 2);
        s.start(200, 3);
        tokio::time::sleep(ms(50)).await;
        s.start(100, 4); // due at 150
        tokio::time::sleep(ms(1000)).await;
        assert_eq!(
            s.timed_out(t0),
            vec![(2, 100), (4, 150), (3, 200), (1, 300)]
        );
        s.stop().await;
    }

    #[tokio::test(start_paused = true)]
    async fn sweeper_skips_a_call_that_finished() {
        let s = swept();
        let t0 = Instant::now();
        s.start(100, 1);
        s.start(100, 2);
        tokio::time::sleep(ms(50)).await;
        s.table.lock().unwrap().calls.remove(&1); // answered or aborted
        tokio::time::sleep(ms(100)).await;
        assert_eq!(s.timed_out(t0), vec![(2, 100)]);
        s.stop().await;
    }

    #[tokio::test(start_paused = true)]
    async fn sweeper_stops_and_times_out_nothing_after() {
        let s = swept();
        let t0 = Instant::now();
        s.start(100, 1);
        tokio::time::sleep(ms(10)).await;
        let table = s.stop().await;
        tokio::time::sleep(ms(200)).await;
        assert!(table.lock().unwrap().timed_out.is_empty());
        assert!(t0.elapsed() >= ms(200));
    }

    #[tokio::test(start_paused = true)]
    async fn sweeper_handles_many_deadlines() {
        let s = swept();
        let t0 = Instant::now();
        // 10,000 calls over 5 timeouts, started 1 ms apart in rounds.
        let timeouts = [50, 100, 150, 200, 250];
        let mut expected = Vec::new();
        for round in 0..2000u64 {
            for (i, &t) in timeouts.iter().enumerate() {
                let sn = round * 5 + i as u64 + 1;
                s.start(t, sn);
                expected.push((sn, u128::from(round + t)));
            }
            tokio::time::sleep(ms(1)).await;
        }
        tokio::time::sleep(ms(500)).await;
        let got = s.timed_out(t0);
        assert_eq!(got.len(), expected.len());
        // Each at its own deadline, and in deadline order.
        let mut by_sn = got.clone();
        by_sn.sort();
        assert_eq!(by_sn, expected);
        assert!(got.windows(2).all(|w| w[0].1 <= w[1].1), "out of order");
        assert!(s.table.lock().unwrap().calls.is_empty());
        s.stop().await;
    }

    #[tokio::test(start_paused = true)]
    async fn a_deadline_in_the_past_is_due_at_once() {
        let s = swept();
        tokio::time::sleep(ms(1000)).await;
        let t0 = Instant::now();
        // Queued as from a second ago with a 100 ms timeout: due 900 ms ago.
        let q = s
            .table
            .lock()
            .unwrap()
            .start(t0 - ms(1000), ms(100), 7)
            .unwrap();
        assert!(q.wake);
        assert!(q.deadline < t0);
        s.wake.notify_one();
        tokio::task::yield_now().await;
        tokio::task::yield_now().await;
        assert_eq!(s.timed_out(t0), vec![(7, 0)]);
        s.stop().await;
    }
}
