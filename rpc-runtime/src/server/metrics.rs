//! Counters a dashboard needs, read with [`ServerHandle::metrics`]: open connections, calls
//! and messages per service, errors by code, bytes queued to clients. Each call and message
//! costs one relaxed atomic add; errors (a rarer path) take a lock.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use super::conn::ConnKind;
use super::handle::ServerHandle;
use crate::error::{ErrorCode, TsrpcError};

/// A snapshot of a server's counters (since it started).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServerMetrics {
    /// WebSocket connections open now.
    pub open_connections: usize,
    /// API calls running now.
    pub pending_calls: usize,
    /// Bytes queued to be written to WebSocket clients now (all connections).
    pub queued_bytes: usize,
    /// API calls received, by API name (only APIs called at least once; bad input that names
    /// no API of the proto is not counted).
    pub calls: BTreeMap<String, u64>,
    /// Messages received, by message name (as `calls`).
    pub msgs: BTreeMap<String, u64>,
    /// API calls that returned an error, by error code (`""` for an error without a code).
    pub errors: BTreeMap<String, u64>,
}

/// Message counters by name, and the error counts.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    msgs: HashMap<String, AtomicU64, rustc_hash::FxBuildHasher>,
    errors: Mutex<BTreeMap<String, u64>>,
}

impl Counters {
    pub(crate) fn new<'a>(msg_names: impl Iterator<Item = &'a str>) -> Self {
        Counters {
            msgs: msg_names
                .map(|n| (n.to_owned(), AtomicU64::new(0)))
                .collect(),
            errors: Mutex::default(),
        }
    }

    pub(crate) fn msg(&self, name: &str) {
        if let Some(n) = self.msgs.get(name) {
            n.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub(crate) fn error(&self, err: &TsrpcError) {
        let code = code_text(err);
        *self
            .errors
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(code)
            .or_default() += 1;
    }
}

/// An error's code as text (`""` without one).
pub(crate) fn code_text(err: &TsrpcError) -> String {
    match &err.code {
        Some(ErrorCode::Str(s)) => s.clone(),
        Some(ErrorCode::Int(i)) => i.to_string(),
        None => String::new(),
    }
}

impl ServerHandle {
    /// The server's counters now.
    ///
    /// ```no_run
    /// # fn f(server: rpc_runtime::ServerHandle) {
    /// let m = server.metrics();
    /// println!("{} open, {:?} calls, {:?} errors", m.open_connections, m.calls, m.errors);
    /// # }
    /// ```
    pub fn metrics(&self) -> ServerMetrics {
        let core = &self.core;
        let conns = core.connections();
        let queued_bytes = conns
            .iter()
            .map(|c| match &c.inner.kind {
                ConnKind::Ws { link, .. } => link.queued_bytes(),
                ConnKind::Http { .. } => 0,
            })
            .sum();
        let nonzero = |n: &AtomicU64| Some(n.load(Ordering::Relaxed)).filter(|n| *n > 0);
        ServerMetrics {
            open_connections: conns.len(),
            pending_calls: core.pending_calls(),
            queued_bytes,
            calls: core
                .api_calls()
                .filter_map(|(name, n)| Some((name.to_owned(), nonzero(n)?)))
                .collect(),
            msgs: core
                .counters
                .msgs
                .iter()
                .filter_map(|(name, n)| Some((name.clone(), nonzero(n)?)))
                .collect(),
            errors: core
                .counters
                .errors
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone(),
        }
    }
}
