//! Message listeners by exact name or by regex over names, shared by clients and servers.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use regex::Regex;

/// Returned when listening; give it back to unlisten.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ListenerHandle(u64);

/// Handlers by exact name. Hashed with rustc-hash's Fx: names are short, and set by the program,
/// not by peers (a peer's name is only looked up), so SipHash's flood resistance buys nothing
/// on this per-message lookup (bench/README.md, "Why the code is the way it is", has the
/// figures).
type ByName<H> = HashMap<String, Vec<(ListenerHandle, H)>, rustc_hash::FxBuildHasher>;

#[derive(Clone)]
struct Inner<H> {
    by_name: ByName<H>,
    patterns: Vec<(ListenerHandle, Regex, H)>,
}

/// A set of handlers `H` keyed by message name or regex.
///
/// The set is a shared snapshot, copied on write when a dispatch still holds the old one, so a
/// dispatch takes one read lock and one `Arc` clone and nothing is allocated per message.
pub(crate) struct Listeners<H> {
    inner: RwLock<Arc<Inner<H>>>,
    next_id: AtomicU64,
}

impl<H> fmt::Debug for Listeners<H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = self.inner.read().unwrap_or_else(|e| e.into_inner());
        f.debug_struct("Listeners")
            .field("names", &inner.by_name.keys().collect::<Vec<_>>())
            .field(
                "patterns",
                &inner
                    .patterns
                    .iter()
                    .map(|p| p.1.as_str())
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl<H: Clone> Listeners<H> {
    pub(crate) fn new() -> Self {
        Listeners {
            inner: RwLock::new(Arc::new(Inner {
                by_name: ByName::default(),
                patterns: Vec::new(),
            })),
            next_id: AtomicU64::new(1),
        }
    }

    fn handle(&self) -> ListenerHandle {
        ListenerHandle(self.next_id.fetch_add(1, Ordering::Relaxed))
    }

    pub(crate) fn add_name(&self, name: &str, h: H) -> ListenerHandle {
        let id = self.handle();
        let mut guard = self.inner.write().unwrap_or_else(|e| e.into_inner());
        let inner = Arc::make_mut(&mut guard);
        inner
            .by_name
            .entry(name.to_owned())
            .or_default()
            .push((id, h));
        id
    }

    pub(crate) fn add_pattern(&self, re: Regex, h: H) -> ListenerHandle {
        let id = self.handle();
        let mut guard = self.inner.write().unwrap_or_else(|e| e.into_inner());
        let inner = Arc::make_mut(&mut guard);
        inner.patterns.push((id, re, h));
        id
    }

    /// Removes one handler; false when it was not there.
    pub(crate) fn remove(&self, id: ListenerHandle) -> bool {
        let mut guard = self.inner.write().unwrap_or_else(|e| e.into_inner());
        let inner = Arc::make_mut(&mut guard);
        let mut found = false;
        inner.by_name.retain(|_, v| {
            let before = v.len();
            v.retain(|(i, _)| *i != id);
            found |= v.len() != before;
            !v.is_empty()
        });
        let before = inner.patterns.len();
        inner.patterns.retain(|(i, _, _)| *i != id);
        found || inner.patterns.len() != before
    }

    /// Removes every handler listening to exactly `name`, and every pattern whose source is
    /// `name`. Returns how many were removed.
    pub(crate) fn remove_all(&self, name_or_pattern: &str) -> usize {
        let mut guard = self.inner.write().unwrap_or_else(|e| e.into_inner());
        let inner = Arc::make_mut(&mut guard);
        let mut n = inner.by_name.remove(name_or_pattern).map_or(0, |v| v.len());
        let before = inner.patterns.len();
        inner
            .patterns
            .retain(|(_, re, _)| re.as_str() != name_or_pattern);
        n += before - inner.patterns.len();
        n
    }

    /// Removes every handler.
    pub(crate) fn clear(&self) {
        let mut guard = self.inner.write().unwrap_or_else(|e| e.into_inner());
        let inner = Arc::make_mut(&mut guard);
        inner.by_name.clear();
        inner.patterns.clear();
    }

    /// Removes every handler listening to a name `re` matches, and every pattern handler whose
    /// regex has `re`'s source. Returns how many were removed.
    pub(crate) fn remove_matching(&self, re: &Regex) -> usize {
        let mut guard = self.inner.write().unwrap_or_else(|e| e.into_inner());
        let inner = Arc::make_mut(&mut guard);
        let mut n = 0;
        inner.by_name.retain(|name, v| {
            let hit = re.is_match(name);
            if hit {
                n += v.len();
            }
            !hit
        });
        let before = inner.patterns.len();
        inner.patterns.retain(|(_, p, _)| p.as_str() != re.as_str());
        n + before - inner.patterns.len()
    }

    fn snapshot(&self) -> Arc<Inner<H>> {
        Arc::clone(&self.inner.read().unwrap_or_else(|e| e.into_inner()))
    }

    /// Calls `f` with each handler for `name`, exact listeners first, in the order they were
    /// added. The handlers are those registered when the call starts (no lock is held while `f`
    /// runs, so `f` may listen or unlisten).
    pub(crate) fn for_each_matching(&self, name: &str, mut f: impl FnMut(&H)) {
        let inner = self.snapshot();
        if let Some(v) = inner.by_name.get(name) {
            for (_, h) in v {
                f(h);
            }
        }
        for (_, re, h) in &inner.patterns {
            if re.is_match(name) {
                f(h);
            }
        }
    }

    /// Runs `f` over the handlers for `name` (same order and snapshot as `for_each_matching`).
    pub(crate) fn with_matching<R>(
        &self,
        name: &str,
        f: impl FnOnce(&mut dyn Iterator<Item = &H>) -> R,
    ) -> R {
        let inner = self.snapshot();
        let mut it = inner
            .by_name
            .get(name)
            .into_iter()
            .flatten()
            .map(|(_, h)| h)
            .chain(
                inner
                    .patterns
                    .iter()
                    .filter(|(_, re, _)| re.is_match(name))
                    .map(|(_, _, h)| h),
            );
        f(&mut it)
    }

    /// The handlers for `name`, exact listeners first, in the order they were added.
    pub(crate) fn matching(&self, name: &str) -> Vec<H> {
        let inner = self.snapshot();
        let mut out: Vec<H> = inner
            .by_name
            .get(name)
            .map(|v| v.iter().map(|(_, h)| h.clone()).collect())
            .unwrap_or_default();
        out.extend(
            inner
                .patterns
                .iter()
                .filter(|(_, re, _)| re.is_match(name))
                .map(|(_, _, h)| h.clone()),
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_and_pattern() {
        let l: Listeners<u32> = Listeners::new();
        let a = l.add_name("game/GameStart", 1);
        l.add_pattern(Regex::new("^game/").unwrap(), 2);
        l.add_name("room/UserJoin", 3);
        assert_eq!(l.matching("game/GameStart"), vec![1, 2]);
        assert_eq!(l.matching("game/GameOver"), vec![2]);
        assert_eq!(l.matching("room/UserJoin"), vec![3]);
        assert!(l.remove(a));
        assert!(!l.remove(a));
        assert_eq!(l.matching("game/GameStart"), vec![2]);
        assert_eq!(l.remove_all("^game/"), 1);
        assert!(l.matching("game/GameStart").is_empty());
        l.add_pattern(Regex::new("^room/").unwrap(), 4);
        l.add_name("room/UserLeave", 5);
        l.add_name("game/GameOver", 6);
        l.add_pattern(Regex::new("^game/").unwrap(), 7);
        // Names the regex matches, and a pattern of the same source; not other patterns.
        assert_eq!(l.remove_matching(&Regex::new("^room/").unwrap()), 3);
        assert!(l.matching("room/UserLeave").is_empty());
        assert_eq!(l.matching("game/GameOver"), vec![6, 7]);
        assert_eq!(l.remove_matching(&Regex::new("Over$").unwrap()), 1);
        assert_eq!(l.matching("game/GameOver"), vec![7]);
        l.add_name("room/UserJoin", 3);
        l.add_pattern(Regex::new("^room/").unwrap(), 4);
        let mut seen = Vec::new();
        l.for_each_matching("room/UserJoin", |h| seen.push(*h));
        assert_eq!(seen, vec![3, 4]);
        let all: Vec<u32> = l.with_matching("room/UserJoin", |it| it.copied().collect());
        assert_eq!(all, vec![3, 4]);
    }
}
