//! The call pipeline every client transport shares: sn, flows, timeout, abort.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use serde_json::Value;
use tokio::sync::oneshot;

use super::flows::{ApiReturnEvent, ClientFlows, MsgEvent, PreCallApiEvent};
use super::CallOptions;
use crate::error::{ApiReturn, TsrpcError};

/// What a transport does: carry one call or one message.
pub(crate) trait Transport: Send + Sync {
    /// Sends the call and waits for its return (JSON text of the response).
    fn send_call(
        &self,
        name: &str,
        req_json: String,
        sn: u64,
    ) -> impl Future<Output = ApiReturn<String>> + Send;
    /// Sends a message.
    fn send_msg(
        &self,
        name: &str,
        msg_json: String,
    ) -> impl Future<Output = Result<(), TsrpcError>> + Send;
}

/// Hashes serial numbers (our own sequential integers) with one multiply instead of SipHash:
/// the pending-call tables are touched several times per call.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct SnHasher(u64);

impl std::hash::Hasher for SnHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0 ^ n).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// A map keyed by sn.
pub(crate) type SnMap<V> = HashMap<u64, V, std::hash::BuildHasherDefault<SnHasher>>;

struct AbortEntry {
    key: Option<String>,
    tx: oneshot::Sender<()>,
}

/// State shared by every client transport.
pub struct ClientCore {
    pub(crate) flows: ClientFlows,
    sn: AtomicU64,
    timeout: Option<Duration>,
    aborts: Mutex<SnMap<AbortEntry>>,
}

impl fmt::Debug for ClientCore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientCore")
            .field("last_sn", &self.last_sn())
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// Removes the abort entry of a call when its future ends or is dropped.
struct AbortGuard<'a> {
    core: &'a ClientCore,
    sn: u64,
}

impl Drop for AbortGuard<'_> {
    fn drop(&mut self) {
        self.core.lock_aborts().remove(&self.sn);
    }
}

fn parse_value(json: &str) -> Value {
    serde_json::from_str(json).unwrap_or(Value::Null)
}

fn value_json(v: &Value) -> String {
    crate::json::to_string(v).unwrap_or_else(|_| "null".into())
}

impl ClientCore {
    /// `timeout`: the default call timeout (`None` or zero: no timeout).
    pub(crate) fn new(timeout: Option<Duration>) -> Self {
        ClientCore {
            flows: ClientFlows::default(),
            sn: AtomicU64::new(0),
            timeout: timeout.filter(|t| !t.is_zero()),
            aborts: Mutex::new(SnMap::default()),
        }
    }

    fn lock_aborts(&self) -> std::sync::MutexGuard<'_, SnMap<AbortEntry>> {
        self.aborts.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn last_sn(&self) -> u64 {
        self.sn.load(Ordering::Relaxed)
    }

    fn next_sn(&self) -> u64 {
        // Starts at 1; wraps to 1 after 2^53 like TSRPC's counter, never 0.
        loop {
            let cur = self.sn.load(Ordering::Relaxed);
            let next = if cur >= (1u64 << 53) { 1 } else { cur + 1 };
            if self
                .sn
                .compare_exchange(cur, next, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
            {
                return next;
            }
        }
    }

    pub(crate) fn abort(&self, sn: u64) -> bool {
        match self.lock_aborts().remove(&sn) {
            Some(e) => e.tx.send(()).is_ok(),
            None => false,
        }
    }

    pub(crate) fn abort_by_key(&self, key: &str) -> usize {
        let mut aborts = self.lock_aborts();
        let sns: Vec<u64> = aborts
            .iter()
            .filter(|(_, e)| e.key.as_deref() == Some(key))
            .map(|(sn, _)| *sn)
            .collect();
        let hit: Vec<AbortEntry> = sns.iter().filter_map(|sn| aborts.remove(sn)).collect();
        drop(aborts);
        hit.into_iter().filter_map(|e| e.tx.send(()).ok()).count()
    }

    pub(crate) fn abort_all(&self) -> usize {
        let all: Vec<AbortEntry> = self.lock_aborts().drain().map(|(_, e)| e).collect();
        all.into_iter().filter_map(|e| e.tx.send(()).ok()).count()
    }

    /// Runs one call through the flows and the transport.
    pub(crate) async fn call<T: Transport>(
        &self,
        transport: &T,
        name: &str,
        req_json: String,
        options: CallOptions,
    ) -> ApiReturn<String> {
        let sn = self.next_sn();
        let mut req_json = req_json;
        let mut options = options;
        let mut short_circuit = None;
        if !self.flows.pre_call_api.is_empty() {
            let ev = PreCallApiEvent {
                api_name: name.to_owned(),
                req: parse_value(&req_json),
                options: options.clone(),
                ret: None,
            };
            match self.flows.pre_call_api.exec(ev).await {
                None => return Err(TsrpcError::cancelled("pre_call_api flow")),
                Some(ev) => {
                    req_json = value_json(&ev.req);
                    options = ev.options;
                    short_circuit = ev.ret;
                }
            }
        }
        let ret = match short_circuit {
            Some(ret) => ret.map(|v| value_json(&v)),
            None => {
                self.send_abortable(transport, name, &req_json, sn, &options)
                    .await
            }
        };
        if self.flows.pre_api_return.is_empty() && self.flows.post_api_return.is_empty() {
            return ret;
        }
        let ev = ApiReturnEvent {
            api_name: name.to_owned(),
            req: parse_value(&req_json),
            options,
            ret: ret.map(|s| parse_value(&s)),
        };
        let Some(ev) = self.flows.pre_api_return.exec(ev).await else {
            return Err(TsrpcError::cancelled("pre_api_return flow"));
        };
        let ret = ev.ret.clone().map(|v| value_json(&v));
        self.flows.post_api_return.exec(ev).await;
        ret
    }

    async fn send_abortable<T: Transport>(
        &self,
        transport: &T,
        name: &str,
        req_json: &str,
        sn: u64,
        options: &CallOptions,
    ) -> ApiReturn<String> {
        let (tx, rx) = oneshot::channel();
        self.lock_aborts().insert(
            sn,
            AbortEntry {
                key: options.abort_key.clone(),
                tx,
            },
        );
        let _guard = AbortGuard { core: self, sn };
        let timeout = match options.timeout {
            Some(t) if t.is_zero() => None,
            Some(t) => Some(t),
            None => self.timeout,
        };
        let send = transport.send_call(name, req_json.to_owned(), sn);
        let with_timeout = async {
            match timeout {
                Some(t) => tokio::time::timeout(t, send)
                    .await
                    .unwrap_or_else(|_| Err(TsrpcError::timeout())),
                None => send.await,
            }
        };
        tokio::select! {
            biased; // no random branch order per call
            ret = with_timeout => ret,
            Ok(()) = rx => Err(TsrpcError::aborted()),
        }
    }

    /// Runs one message through the flows and the transport.
    pub(crate) async fn send<T: Transport>(
        &self,
        transport: &T,
        name: &str,
        msg_json: String,
    ) -> Result<(), TsrpcError> {
        if self.flows.pre_send_msg.is_empty() && self.flows.post_send_msg.is_empty() {
            return transport.send_msg(name, msg_json).await;
        }
        let ev = MsgEvent {
            msg_name: name.to_owned(),
            msg: parse_value(&msg_json),
        };
        let Some(ev) = self.flows.pre_send_msg.exec(ev).await else {
            return Err(TsrpcError::cancelled("pre_send_msg flow"));
        };
        transport.send_msg(name, value_json(&ev.msg)).await?;
        self.flows.post_send_msg.exec(ev).await;
        Ok(())
    }
}
