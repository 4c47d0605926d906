//! The call pipeline every client transport shares: sn, flows, timeout, abort.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::task::Poll;
use std::time::Duration;

use serde_json::Value;
use tokio::sync::{oneshot, Notify};
use tokio::time::Instant;

use super::deadline::{self, Deadlines, Queued};
use super::flows::{ApiReturnEvent, ClientFlows, MsgEvent, PreCallApiEvent};
use super::CallOptions;
use crate::codec::{Binary, Payload};
use crate::error::{ApiReturn, TsrpcError};
use crate::tsbuffer::SchemaId;
use serde::de::DeserializeOwned;
use serde::Serialize;

/// What a transport does: carry one call or one message.
pub(crate) trait Transport: Send + Sync {
    /// Sends the call. `Some`: its return (the encoded response) or why it failed. `None`:
    /// the frame is sent, the return comes through [`ClientCore::complete`] (or the call is
    /// failed by [`ClientCore::fail_all`]).
    fn send_call(
        &self,
        name: &str,
        req: Payload,
        sn: u64,
    ) -> impl Future<Output = Option<ApiReturn<Payload>>> + Send;
    /// True when [`ClientCore::sweep_loop`] runs while calls can be pending (the WebSocket
    /// client runs one per connection): call timeouts then need no timer of their own.
    const SWEPT: bool = false;
    /// Sends a message.
    fn send_msg(
        &self,
        name: &str,
        msg: Payload,
    ) -> impl Future<Output = Result<(), TsrpcError>> + Send;
    /// The client's call, message and data flows, which the pipeline runs.
    fn flows(&self) -> &ClientFlows;
    /// True when a call that finds no connection may wait for a reconnect (the pipeline then
    /// asks [`retry_after`](Self::retry_after) about `WS_NOT_OPEN`).
    fn waits_for_reconnect(&self) -> bool {
        false
    }
    /// After a call failed with `err` (`resend`: the call asked to be re-sent after a
    /// reconnect): resolves true once it may be sent again, false when it returns `err`.
    fn retry_after(&self, err: &TsrpcError, resend: bool) -> impl Future<Output = bool> + Send {
        let _ = (err, resend);
        std::future::ready(false)
    }
}

/// Hashes serial numbers (our own sequential integers) with one multiply instead of SipHash:
/// the pending-call tables are touched several times per call. Kept rather than rustc-hash's
/// `FxHasher` or fnv's `FnvHasher`: on this table (a lookup, an insert and a remove per call,
/// 64 calls in flight) both measured slower, Fx by a little and FNV (a multiply per byte) by
/// much (bench/README.md, "Why the code is the way it is").
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

/// One pending call: where its return goes (the reply, or ABORTED, LOST_CONN...), and its
/// abort key.
struct CallEntry {
    key: Option<String>,
    tx: oneshot::Sender<ApiReturn<Payload>>,
    /// When the sweeper times it out (`None`: never, or a timer of its own does).
    deadline: Option<Instant>,
}

/// The pending calls, and the deadlines the sweeper watches.
#[derive(Default)]
struct Calls {
    map: SnMap<CallEntry>,
    deadlines: Deadlines,
}

impl Calls {
    /// Whether call `sn` is still pending with this deadline (what the sweeper asks).
    fn is_live(map: &SnMap<CallEntry>, deadline: Instant, sn: u64) -> bool {
        map.get(&sn).is_some_and(|e| e.deadline == Some(deadline))
    }

    /// Queues a deadline `timeout` from now; `None` when too many timeouts are in use.
    fn push_deadline(&mut self, timeout: Duration, sn: u64) -> Option<Queued> {
        let map = &self.map;
        self.deadlines
            .push(Instant::now(), timeout, sn, map.len(), |d, sn| {
                Self::is_live(map, d, sn)
            })
    }

    /// Takes every call whose deadline is past (into `due`); the next deadline.
    fn take_due(
        &mut self,
        now: Instant,
        sns: &mut Vec<u64>,
        due: &mut Vec<CallEntry>,
    ) -> Option<Instant> {
        let map = &self.map;
        let next = self
            .deadlines
            .take_due(now, |d, sn| Self::is_live(map, d, sn), sns);
        due.extend(sns.drain(..).filter_map(|sn| self.map.remove(&sn)));
        next
    }
}

/// State shared by every client transport.
pub struct ClientCore {
    /// JSON mode asked for (`json: true`), else binary when the proto allows it.
    json: bool,
    tsrpc_proto: Option<&'static str>,
    /// The binary tables, read on first use; `None`: JSON mode.
    binary: OnceLock<Option<&'static Binary>>,
    sn: AtomicU64,
    timeout: Option<Duration>,
    calls: Mutex<Calls>,
    /// Wakes the sweeper: a deadline earlier than the one it sleeps until.
    sweep: Notify,
    /// Log calls / messages (TSRPC's `logApi` / `logMsg`), when tracing wants them.
    log: Log,
}

/// What a client logs (at DEBUG, target [`LOG_TARGET`]): calls and their returns, messages.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Log {
    pub(crate) api: bool,
    pub(crate) msg: bool,
}

/// The tracing target of a client's call and message log.
pub(crate) const LOG_TARGET: &str = "rpc_runtime::client";

impl fmt::Debug for ClientCore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientCore")
            .field("last_sn", &self.last_sn())
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// Removes the entry of a call when its future ends or is dropped, unless its return came
/// through the entry (whoever sends through it removes it first).
struct CallGuard<'a> {
    core: &'a ClientCore,
    sn: u64,
    armed: bool,
}

impl Drop for CallGuard<'_> {
    fn drop(&mut self) {
        if self.armed {
            self.core.lock_calls().map.remove(&self.sn);
        }
    }
}

/// What a body is: a request or a message (its schema), or a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Part {
    Req,
    Res,
    Msg,
}

impl ClientCore {
    /// `timeout`: the default call timeout (`None` or zero: no timeout). `json`: JSON mode;
    /// else binary, with the TSRPC proto `tsrpc_proto` (without one the client speaks JSON).
    pub(crate) fn new(
        timeout: Option<Duration>,
        json: bool,
        tsrpc_proto: Option<&'static str>,
        log: Log,
    ) -> Self {
        ClientCore {
            json,
            tsrpc_proto,
            binary: OnceLock::new(),
            sn: AtomicU64::new(0),
            timeout: timeout.filter(|t| !t.is_zero()),
            calls: Mutex::new(Calls::default()),
            sweep: Notify::new(),
            log,
        }
    }

    /// The binary tables when the client speaks binary; `None`: JSON. A proto that cannot be
    /// read leaves the client in JSON mode (and says so in the log, once).
    pub(crate) fn binary(&self) -> Option<&'static Binary> {
        *self.binary.get_or_init(|| {
            if self.json {
                return None;
            }
            let json = self.tsrpc_proto?;
            match crate::codec::binary::tables(json) {
                Ok(b) => Some(b),
                Err(e) => {
                    tracing::warn!("binary mode unavailable, the client speaks JSON: {e}");
                    None
                }
            }
        })
    }

    /// True when the client speaks JSON (asked for, or no TSRPC proto to speak binary with).
    pub(crate) fn is_json(&self) -> bool {
        self.binary().is_none()
    }

    /// The schema of `name`'s `part` in binary mode. `Err`: the service is not in the proto.
    fn schema(&self, bin: &Binary, name: &str, part: Part) -> Result<SchemaId, TsrpcError> {
        let s = match part {
            Part::Msg => bin.msg(name),
            _ => bin.api(name),
        };
        let missing = || {
            TsrpcError::client(format!("{name} is not in the service's TSRPC proto"))
                .with_code(crate::error::codes::INPUT_DATA_ERR)
        };
        let s = s.ok_or_else(missing)?;
        match part {
            Part::Res => s.res.ok_or_else(missing),
            _ => Ok(s.req),
        }
    }

    /// Encodes a request or a message (`Err`: it cannot be, a ClientError).
    pub(crate) fn encode<T: Serialize + ?Sized>(
        &self,
        name: &str,
        part: Part,
        value: &T,
        typed: bool,
    ) -> Result<Payload, TsrpcError> {
        let code = match part {
            Part::Msg => crate::error::codes::ENCODE_MSG_ERR,
            _ => crate::error::codes::INPUT_DATA_ERR,
        };
        match self.binary() {
            Some(bin) => {
                let schema = self.schema(bin, name, part)?;
                bin.encode(schema, value)
                    .map(Payload::Bin)
                    .map_err(|e| TsrpcError::client(e).with_code(code))
            }
            None => if typed {
                crate::json::to_string(value)
            } else {
                crate::json::to_string_untyped(value)
            }
            .map(Payload::Json)
            .map_err(|e| TsrpcError::client(e.to_string()).with_code(code)),
        }
    }

    /// Decodes a response (`Err`: ServerError `Parse server output error: ..`).
    pub(crate) fn decode_res<T: DeserializeOwned + schemars::JsonSchema>(
        &self,
        name: &str,
        res: &Payload,
    ) -> Result<T, TsrpcError> {
        let parse_error = |e: String| TsrpcError::server(format!("Parse server output error: {e}"));
        match (res, self.binary()) {
            (Payload::Json(json), _) => crate::validate::decode::<T>(json).map_err(parse_error),
            (Payload::Bin(bytes), Some(bin)) => {
                let schema = self.schema(bin, name, Part::Res)?;
                bin.decode::<T>(schema, bytes).map_err(parse_error)
            }
            (Payload::Bin(_), None) => Err(parse_error("a binary response".into())),
        }
    }

    /// A body as a JSON value (flows, the untyped layer).
    pub(crate) fn value(&self, name: &str, part: Part, p: &Payload) -> Value {
        match (p, self.binary()) {
            (Payload::Json(json), _) => serde_json::from_str(json).unwrap_or(Value::Null),
            (Payload::Bin(bytes), Some(bin)) => self
                .schema(bin, name, part)
                .ok()
                .and_then(|schema| bin.decode_value(schema, bytes).ok())
                .unwrap_or(Value::Null),
            (Payload::Bin(_), None) => Value::Null,
        }
    }

    /// A JSON value (from a flow) encoded as this client's bodies are.
    fn encode_value(&self, name: &str, part: Part, v: &Value) -> Result<Payload, TsrpcError> {
        self.encode(name, part, v, false)
    }

    fn lock_calls(&self) -> std::sync::MutexGuard<'_, Calls> {
        self.calls.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Hands a call its return; false when the call is no longer pending.
    pub(crate) fn complete(&self, sn: u64, ret: ApiReturn<Payload>) -> bool {
        let entry = self.lock_calls().map.remove(&sn);
        match entry {
            Some(e) => e.tx.send(ret).is_ok(),
            None => false,
        }
    }

    /// Fails every pending call with this error (the connection was lost).
    pub(crate) fn fail_all(&self, err: impl Fn() -> TsrpcError) {
        let all: Vec<CallEntry> = {
            let mut calls = self.lock_calls();
            calls.deadlines.clear();
            calls.map.drain().map(|(_, e)| e).collect()
        };
        for e in all {
            let _ = e.tx.send(Err(err()));
        }
    }

    pub(crate) fn last_sn(&self) -> u64 {
        self.sn.load(Ordering::Relaxed)
    }

    /// The sn [`next_sn`](Self::next_sn) would take now.
    pub(crate) fn peek_next_sn(&self) -> u64 {
        match self.sn.load(Ordering::Relaxed) {
            cur if cur >= (1u64 << 53) => 1,
            cur => cur + 1,
        }
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
        let entry = self.lock_calls().map.remove(&sn);
        match entry {
            Some(e) => e.tx.send(Err(TsrpcError::aborted())).is_ok(),
            None => false,
        }
    }

    pub(crate) fn abort_by_key(&self, key: &str) -> usize {
        let mut calls = self.lock_calls();
        let sns: Vec<u64> = calls
            .map
            .iter()
            .filter(|(_, e)| e.key.as_deref() == Some(key))
            .map(|(sn, _)| *sn)
            .collect();
        let hit: Vec<CallEntry> = sns.iter().filter_map(|sn| calls.map.remove(sn)).collect();
        drop(calls);
        hit.into_iter()
            .filter_map(|e| e.tx.send(Err(TsrpcError::aborted())).ok())
            .count()
    }

    pub(crate) fn abort_all(&self) -> usize {
        let all: Vec<CallEntry> = self.lock_calls().map.drain().map(|(_, e)| e).collect();
        all.into_iter()
            .filter_map(|e| e.tx.send(Err(TsrpcError::aborted())).ok())
            .count()
    }

    /// True when messages are logged (`log_msg`, and tracing wants DEBUG for the target).
    pub(crate) fn logs_msgs(&self) -> bool {
        self.log.msg && tracing::enabled!(target: LOG_TARGET, tracing::Level::DEBUG)
    }

    /// A body as text for the log.
    pub(crate) fn log_text(&self, name: &str, part: Part, p: &Payload) -> String {
        match p {
            Payload::Json(json) => json.clone(),
            bin => self.value(name, part, bin).to_string(),
        }
    }

    /// Runs one call through the flows and the transport.
    pub(crate) async fn call<T: Transport>(
        &self,
        transport: &T,
        name: &str,
        req: Payload,
        options: CallOptions,
    ) -> ApiReturn<Payload> {
        let sn = self.next_sn();
        if self.log.api && tracing::enabled!(target: LOG_TARGET, tracing::Level::DEBUG) {
            return Box::pin(async move {
                let text = self.log_text(name, Part::Req, &req);
                tracing::debug!(target: LOG_TARGET, "[ApiReq] #{sn} {name} {text}");
                let ret = self.call_sn(transport, name, req, sn, options).await;
                match &ret {
                    Ok(res) => {
                        let text = self.log_text(name, Part::Res, res);
                        tracing::debug!(target: LOG_TARGET, "[ApiRes] #{sn} {name} {text}");
                    }
                    Err(e) => tracing::debug!(target: LOG_TARGET, "[ApiErr] #{sn} {name} {e}"),
                }
                ret
            })
            .await;
        }
        self.call_sn(transport, name, req, sn, options).await
    }

    async fn call_sn<T: Transport>(
        &self,
        transport: &T,
        name: &str,
        req: Payload,
        sn: u64,
        options: CallOptions,
    ) -> ApiReturn<Payload> {
        let flows = transport.flows();
        if flows.pre_call_api.is_empty()
            && flows.pre_api_return.is_empty()
            && flows.post_api_return.is_empty()
        {
            return self.send_retrying(transport, name, req, sn, &options).await;
        }
        // The flows' state lives in a box of its own: a call without flows (the usual one)
        // stays a small future.
        Box::pin(self.call_with_flows(transport, name, req, sn, options)).await
    }

    async fn call_with_flows<T: Transport>(
        &self,
        transport: &T,
        name: &str,
        req: Payload,
        sn: u64,
        options: CallOptions,
    ) -> ApiReturn<Payload> {
        let mut req = req;
        let mut options = options;
        let mut short_circuit = None;
        let flows = transport.flows();
        if !flows.pre_call_api.is_empty() {
            let ev = PreCallApiEvent {
                api_name: name.to_owned(),
                req: self.value(name, Part::Req, &req),
                options: options.clone(),
                ret: None,
            };
            match flows.pre_call_api.exec(ev).await {
                None => return Err(TsrpcError::cancelled("pre_call_api flow")),
                Some(ev) => {
                    req = self.encode_value(name, Part::Req, &ev.req)?;
                    options = ev.options;
                    short_circuit = ev.ret;
                }
            }
        }
        let ret_flows = !(flows.pre_api_return.is_empty() && flows.post_api_return.is_empty());
        let ret = match short_circuit {
            Some(ret) => ret.and_then(|v| self.encode_value(name, Part::Res, &v)),
            None if !ret_flows => {
                return self.send_retrying(transport, name, req, sn, &options).await
            }
            None => {
                self.send_retrying(transport, name, req.clone(), sn, &options)
                    .await
            }
        };
        if !ret_flows {
            return ret;
        }
        let ev = ApiReturnEvent {
            api_name: name.to_owned(),
            req: self.value(name, Part::Req, &req),
            options,
            ret: ret.map(|p| self.value(name, Part::Res, &p)),
        };
        let Some(ev) = flows.pre_api_return.exec(ev).await else {
            return Err(TsrpcError::cancelled("pre_api_return flow"));
        };
        let ret = ev
            .ret
            .clone()
            .and_then(|v| self.encode_value(name, Part::Res, &v));
        flows.post_api_return.exec(ev).await;
        ret
    }

    /// The call's effective timeout (`None`: none).
    fn timeout_of(&self, options: &CallOptions) -> Option<Duration> {
        match options.timeout {
            Some(t) if t.is_zero() => None,
            Some(t) => Some(t),
            None => self.timeout,
        }
    }

    /// Sends a call; when it may outlive a connection (re-sent after a reconnect, or waiting
    /// for one), sends it again on the next connection while its timeout allows.
    async fn send_retrying<T: Transport>(
        &self,
        transport: &T,
        name: &str,
        req: Payload,
        sn: u64,
        options: &CallOptions,
    ) -> ApiReturn<Payload> {
        if !options.resend_on_reconnect && !transport.waits_for_reconnect() {
            return self.send_abortable(transport, name, req, sn, options).await;
        }
        // Boxed: the usual call's future stays the size of `send_abortable`'s.
        Box::pin(self.send_again_after_reconnect(transport, name, req, sn, options)).await
    }

    /// [`send_retrying`](Self::send_retrying)'s loop: send, wait for the next connection,
    /// send again, until a return, an error that is not about the connection, or the deadline.
    async fn send_again_after_reconnect<T: Transport>(
        &self,
        transport: &T,
        name: &str,
        req: Payload,
        sn: u64,
        options: &CallOptions,
    ) -> ApiReturn<Payload> {
        let deadline = self.timeout_of(options).map(|t| Instant::now() + t);
        let mut options = options.clone();
        loop {
            options.timeout = match deadline {
                Some(d) => match d.checked_duration_since(Instant::now()) {
                    Some(left) if !left.is_zero() => Some(left),
                    _ => return Err(TsrpcError::timeout()),
                },
                None => Some(Duration::ZERO),
            };
            let err = match self
                .send_abortable(transport, name, req.clone(), sn, &options)
                .await
            {
                Err(e)
                    if e.is_code(crate::error::codes::LOST_CONN)
                        || e.is_code(crate::error::codes::WS_NOT_OPEN) =>
                {
                    e
                }
                ret => return ret,
            };
            if let Err(ret) = self
                .wait_to_retry(transport, err, sn, &options, deadline)
                .await
            {
                return ret;
            }
        }
    }

    /// Waits until a call that failed with `err` may be sent again (`Ok`), or for what it
    /// returns: `err` itself, TIMEOUT at `deadline`, or an abort. The call keeps its entry (with
    /// no deadline of the sweeper's) meanwhile, so the abort methods reach it.
    async fn wait_to_retry<T: Transport>(
        &self,
        transport: &T,
        err: TsrpcError,
        sn: u64,
        options: &CallOptions,
        deadline: Option<Instant>,
    ) -> Result<(), ApiReturn<Payload>> {
        let (tx, rx) = oneshot::channel();
        self.lock_calls().map.insert(
            sn,
            CallEntry {
                key: options.abort_key.clone(),
                tx,
                deadline: None,
            },
        );
        let mut guard = CallGuard {
            core: self,
            sn,
            armed: true,
        };
        let until = async {
            match deadline {
                Some(d) => tokio::time::sleep_until(d).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            retry = transport.retry_after(&err, options.resend_on_reconnect) => {
                if retry { Ok(()) } else { Err(Err(err)) }
            }
            r = rx => {
                // Whoever sent through the entry removed it.
                guard.armed = false;
                Err(r.unwrap_or_else(|_| Err(TsrpcError::lost_conn(""))))
            }
            _ = until => Err(Err(TsrpcError::timeout())),
        }
    }

    async fn send_abortable<T: Transport>(
        &self,
        transport: &T,
        name: &str,
        req: Payload,
        sn: u64,
        options: &CallOptions,
    ) -> ApiReturn<Payload> {
        // One entry per call: the transport's reply, an abort or a lost connection all come
        // through its one channel.
        let timeout = self.timeout_of(options);
        let (tx, mut rx) = oneshot::channel();
        let mut timer = timeout;
        let mut wake = false;
        {
            let mut calls = self.lock_calls();
            let mut deadline = None;
            if let (true, Some(t)) = (T::SWEPT, timeout) {
                // The sweeper times it out: no timer registered and cleared per call.
                if let Some(q) = calls.push_deadline(t, sn) {
                    (deadline, wake, timer) = (Some(q.deadline), q.wake, None);
                }
            }
            calls.map.insert(
                sn,
                CallEntry {
                    key: options.abort_key.clone(),
                    tx,
                    deadline,
                },
            );
        }
        if wake {
            self.sweep.notify_one();
        }
        let mut guard = CallGuard {
            core: self,
            sn,
            armed: true,
        };
        let mut send = pin!(transport.send_call(name, req, sn));
        let mut sent = false;
        let wait = std::future::poll_fn(|cx| {
            if !sent {
                if let Poll::Ready(r) = send.as_mut().poll(cx) {
                    match r {
                        Some(ret) => return Poll::Ready(ret),
                        None => sent = true,
                    }
                }
            }
            match std::pin::Pin::new(&mut rx).poll(cx) {
                Poll::Ready(r) => {
                    // Whoever sent through the entry removed it.
                    guard.armed = false;
                    Poll::Ready(r.unwrap_or_else(|_| Err(TsrpcError::lost_conn(""))))
                }
                Poll::Pending => Poll::Pending,
            }
        });
        match timer {
            // Boxed: only calls the sweeper does not time out need a timer.
            Some(t) => Box::pin(tokio::time::timeout(t, wait))
                .await
                .unwrap_or_else(|_| Err(TsrpcError::timeout())),
            None => wait.await,
        }
    }

    /// Times out calls at their deadlines (with TIMEOUT) until `stop` resolves. One per
    /// connection of a transport whose `SWEPT` is true.
    pub(crate) async fn sweep_loop(&self, stop: impl Future<Output = ()>) {
        let mut sns = Vec::new();
        let mut due = Vec::new();
        deadline::sweep(&self.sweep, stop, |now| {
            let next = self.lock_calls().take_due(now, &mut sns, &mut due);
            for e in due.drain(..) {
                let _ = e.tx.send(Err(TsrpcError::timeout()));
            }
            next
        })
        .await
    }

    /// Runs one message through the flows and the transport.
    pub(crate) async fn send<T: Transport>(
        &self,
        transport: &T,
        name: &str,
        msg: Payload,
    ) -> Result<(), TsrpcError> {
        if self.logs_msgs() {
            let text = self.log_text(name, Part::Msg, &msg);
            tracing::debug!(target: LOG_TARGET, "[SendMsg] {name} {text}");
        }
        let flows = transport.flows();
        if flows.pre_send_msg.is_empty() && flows.post_send_msg.is_empty() {
            return transport.send_msg(name, msg).await;
        }
        let ev = MsgEvent {
            msg_name: name.to_owned(),
            msg: self.value(name, Part::Msg, &msg),
        };
        let Some(ev) = flows.pre_send_msg.exec(ev).await else {
            return Err(TsrpcError::cancelled("pre_send_msg flow"));
        };
        let msg = self.encode_value(name, Part::Msg, &ev.msg)?;
        transport.send_msg(name, msg).await?;
        flows.post_send_msg.exec(ev).await;
        Ok(())
    }
}
