//! Rooms: named groups of this server's WebSocket connections, for broadcasts to a group
//! (cluster-wide with a cluster adapter: every instance delivers to its own members).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};

use super::conn::Connection;

#[derive(Default)]
struct Inner {
    /// Members of each room (no empty room is kept).
    members: HashMap<Arc<str>, HashSet<u64>>,
    /// Rooms of each connection (for the clean-up when it closes).
    joined: HashMap<u64, Vec<Arc<str>>>,
}

/// The rooms of one server.
#[derive(Default)]
pub(crate) struct Rooms(Mutex<Inner>);

impl Rooms {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds `conn` to `room`; false when it was a member already.
    pub(crate) fn join(&self, conn: u64, room: &str) -> bool {
        let mut inner = self.lock();
        let key: Arc<str> = match inner.members.get_key_value(room) {
            Some((k, _)) => k.clone(),
            None => room.into(),
        };
        if !inner.members.entry(key.clone()).or_default().insert(conn) {
            return false;
        }
        inner.joined.entry(conn).or_default().push(key);
        true
    }

    /// Removes `conn` from `room`; false when it was not a member.
    pub(crate) fn leave(&self, conn: u64, room: &str) -> bool {
        let mut inner = self.lock();
        let Some(set) = inner.members.get_mut(room) else {
            return false;
        };
        if !set.remove(&conn) {
            return false;
        }
        if set.is_empty() {
            inner.members.remove(room);
        }
        if let Some(rooms) = inner.joined.get_mut(&conn) {
            rooms.retain(|r| &**r != room);
            if rooms.is_empty() {
                inner.joined.remove(&conn);
            }
        }
        true
    }

    /// Removes a closed connection from every room.
    pub(crate) fn remove_conn(&self, conn: u64) {
        let mut inner = self.lock();
        let Some(rooms) = inner.joined.remove(&conn) else {
            return;
        };
        for room in rooms {
            if let Some(set) = inner.members.get_mut(&room) {
                set.remove(&conn);
                if set.is_empty() {
                    inner.members.remove(&room);
                }
            }
        }
    }

    /// Ids of the members of `room`.
    pub(crate) fn members(&self, room: &str) -> Vec<u64> {
        self.lock()
            .members
            .get(room)
            .map(|s| s.iter().copied().collect())
            .unwrap_or_default()
    }

    /// Rooms `conn` joined.
    pub(crate) fn rooms_of(&self, conn: u64) -> Vec<String> {
        self.lock()
            .joined
            .get(&conn)
            .map(|r| r.iter().map(|s| s.to_string()).collect())
            .unwrap_or_default()
    }
}

impl Connection {
    /// Joins a room of its server (a WebSocket connection; it leaves every room when it
    /// closes). False when it was in the room already, or is closed.
    pub fn join_room(&self, room: &str) -> bool {
        let server = self.server();
        if self.is_closed() || !server.core.is_registered(self.id()) {
            return false;
        }
        let joined = server.core.rooms.join(self.id(), room);
        // A close that raced the join: its clean-up (after the unregister) may have run first.
        if joined && !server.core.is_registered(self.id()) {
            server.core.rooms.remove_conn(self.id());
            return false;
        }
        joined
    }

    /// Leaves a room; false when it was not in it.
    pub fn leave_room(&self, room: &str) -> bool {
        self.server().core.rooms.leave(self.id(), room)
    }

    /// The rooms it joined.
    pub fn rooms(&self) -> Vec<String> {
        self.server().core.rooms.rooms_of(self.id())
    }
}
