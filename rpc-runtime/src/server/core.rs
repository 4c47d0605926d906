//! The transport-independent part of a server: dispatch, flows, the connection registry.

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde_json::Value;
use tokio::sync::Notify;

use super::conn::{ConnDataEvent, ConnHost, ConnInner, ConnKind, Connection};
use super::flows::{MsgCallEvent, ServerFlows};
use super::handler::{BoxFuture, CallCtx, ErasedApi, ErasedMsg};
use super::http_req::{client_ip, HttpRequest};
use super::job::{ApiJob, FlowInput, JobStep};
use super::log::CallTrace;
use super::metrics::Counters;
use super::options::ServerOptions;
use super::state::Extensions;
use crate::codec::{Binary, Codec, Input, Out};
use crate::flow::Flow;
use crate::listener::Listeners;
use crate::proto::{ServiceKind, ServiceProto};

/// Bad input: what TSRPC closes a WebSocket with, or answers `INPUT_DATA_ERR` to over HTTP.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum InputError {
    /// No API of that name.
    UnknownApi(String),
    /// No message of that name.
    UnknownMsg(String),
    /// The body does not decode (validator text, or TSRPC's generic text for binary).
    Invalid(String),
}

impl InputError {
    /// The close reason on a WebSocket.
    pub(crate) fn ws_reason(&self) -> String {
        match self {
            InputError::UnknownApi(n) => format!("Invalid api path: {n}"),
            InputError::UnknownMsg(n) => format!("Invalid msg path: {n}"),
            InputError::Invalid(m) => m.clone(),
        }
    }
}

/// An API of the proto, found by name in one lookup.
struct ApiEntry {
    /// The name, shared by every call's job (no String per call).
    name: Arc<str>,
    /// Its entry in `proto.services`.
    def: usize,
    handler: Option<ErasedApi>,
    /// Its `conf`, shared by every call's `pre_api_call` event.
    conf: Option<Arc<Value>>,
    /// Calls received (`metrics`).
    calls: AtomicU64,
}

pub(crate) struct ServerCore {
    pub(crate) proto: ServiceProto,
    /// Every API of the proto, with its handler (a handler outside the proto is never called).
    api_index: HashMap<String, ApiEntry>,
    pub(crate) msgs: Listeners<ErasedMsg>,
    pub(crate) flows: Arc<ServerFlows>,
    pub(crate) options: ServerOptions,
    pub(crate) codec: Codec,
    /// The binary tables of the proto, read the first time binary mode needs them (`Err`: the
    /// proto has no TSRPC proto, or it cannot be read).
    binary: std::sync::OnceLock<Result<&'static Binary, String>>,
    conns: Mutex<HashMap<u64, Connection>>,
    next_conn_id: AtomicU64,
    pending: AtomicUsize,
    /// Permits for API calls running in tasks of their own, server-wide
    /// (`max_pending_calls_total`).
    pub(crate) calls_total: Arc<tokio::sync::Semaphore>,
    /// Accepted TCP connections still open (WebSocket, HTTP, or in a handshake).
    sockets: AtomicUsize,
    idle: Notify,
    /// Tasks in `wait_idle`: the last call to finish notifies only when there is one.
    idle_waiters: AtomicUsize,
    pub(crate) stopping: AtomicBool,
    /// Woken once, when the server starts stopping (every keep-alive HTTP connection waits).
    stop_notify: Notify,
    /// Woken when the last registered connection is unregistered (`stop` waits for that).
    conns_gone: Notify,
    /// Message and error counters (`metrics`).
    pub(crate) counters: Counters,
    /// Rooms of the WebSocket connections.
    pub(crate) rooms: super::rooms::Rooms,
    /// The cluster adapter, set once before the server serves (`Server::cluster`).
    pub(crate) cluster: std::sync::OnceLock<Arc<dyn super::cluster::ClusterAdapter>>,
}

impl fmt::Debug for ServerCore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerCore")
            .field("service", &self.proto.name)
            .field("connections", &self.lock_conns().len())
            .finish()
    }
}

/// Counts an accepted socket as open until dropped.
pub(crate) struct SocketGuard(Arc<ServerCore>);

impl Drop for SocketGuard {
    fn drop(&mut self) {
        self.0.sockets.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Counts a call as pending until dropped ([`ServerCore::call_pending`]).
pub(super) struct PendingGuard<'a>(&'a ServerCore);

impl Drop for PendingGuard<'_> {
    fn drop(&mut self) {
        // SeqCst here and in `wait_idle`: either the waiter sees no call pending, or this
        // sees the waiter.
        if self.0.pending.fetch_sub(1, Ordering::SeqCst) == 1
            && self.0.idle_waiters.load(Ordering::SeqCst) > 0
        {
            self.0.idle.notify_waiters();
        }
    }
}

impl ConnHost for ServerCore {
    fn codec(&self) -> Codec {
        self.codec
    }
    fn binary(&self) -> Result<&'static Binary, &str> {
        ServerCore::binary(self)
    }
    fn pre_send_data(&self) -> &Flow<ConnDataEvent> {
        &self.flows.pre_send_data
    }
    fn flows(&self) -> &ServerFlows {
        &self.flows
    }
}

impl ServerCore {
    pub(crate) fn new(
        proto: ServiceProto,
        apis: HashMap<String, ErasedApi>,
        msgs: Listeners<ErasedMsg>,
        flows: Arc<ServerFlows>,
        mut options: ServerOptions,
    ) -> Self {
        options.json_host_path = super::cors::normalize_host_path(&options.json_host_path);
        let mut api_index = HashMap::new();
        for (i, def) in proto.services.iter().enumerate() {
            if def.kind == ServiceKind::Api && !api_index.contains_key(&def.name) {
                api_index.insert(
                    def.name.clone(),
                    ApiEntry {
                        name: def.name.as_str().into(),
                        def: i,
                        handler: apis.get(&def.name).cloned(),
                        conf: def.conf.clone().map(Arc::new),
                        calls: AtomicU64::new(0),
                    },
                );
            }
        }
        let calls_total = Arc::new(tokio::sync::Semaphore::new(
            options.max_pending_calls_total.max(1),
        ));
        let counters = Counters::new(
            proto
                .services
                .iter()
                .filter(|d| d.kind == ServiceKind::Msg)
                .map(|d| d.name.as_str()),
        );
        ServerCore {
            counters,
            proto,
            calls_total,
            api_index,
            msgs,
            flows,
            options,
            codec: Codec::Json,
            binary: std::sync::OnceLock::new(),
            conns: Mutex::new(HashMap::new()),
            next_conn_id: AtomicU64::new(1),
            pending: AtomicUsize::new(0),
            sockets: AtomicUsize::new(0),
            idle: Notify::new(),
            idle_waiters: AtomicUsize::new(0),
            stop_notify: Notify::new(),
            conns_gone: Notify::new(),
            stopping: AtomicBool::new(false),
            rooms: Default::default(),
            cluster: std::sync::OnceLock::new(),
        }
    }

    /// Plugs in a cluster adapter before the server serves: connection ids carry its
    /// instance id from now on.
    pub(crate) fn set_cluster(&self, cluster: Arc<dyn super::cluster::ClusterAdapter>) {
        let base = u64::from(cluster.instance_id()) << super::cluster::CONN_COUNTER_BITS;
        self.next_conn_id.store(base | 1, Ordering::Relaxed);
        let _ = self.cluster.set(cluster);
    }

    /// Calls received, by API.
    pub(crate) fn api_calls(&self) -> impl Iterator<Item = (&str, &AtomicU64)> {
        self.api_index.iter().map(|(n, e)| (n.as_str(), &e.calls))
    }

    /// The binary tables (read on first use). `Err`: why binary mode is not available.
    pub(crate) fn binary(&self) -> Result<&'static Binary, &str> {
        self.binary
            .get_or_init(|| match self.proto.tsrpc_proto {
                Some(json) => crate::codec::binary::tables(json),
                None => Err("the service proto has no TSRPC proto".into()),
            })
            .as_ref()
            .map(|b| *b)
            .map_err(String::as_str)
    }

    /// How the return of API `name` is written on a connection of this data type, and the
    /// service id its binary frame carries.
    pub(crate) fn api_out(&self, binary: bool, name: &str) -> (Out, u64) {
        if binary {
            if let Some(s) = self.binary().ok().and_then(|b| Some((b, b.api(name)?))) {
                if let Some(res) = s.1.res {
                    return (s.0.out(res), s.1.id);
                }
            }
        }
        (Out::Json, 0)
    }

    fn lock_conns(&self) -> MutexGuard<'_, HashMap<u64, Connection>> {
        self.conns.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Creates a connection; WebSocket ones are registered until [`unregister`](Self::unregister).
    pub(crate) fn new_conn(
        self: &Arc<Self>,
        remote: SocketAddr,
        http_req: Option<HttpRequest>,
        kind: ConnKind,
    ) -> Connection {
        let ip = match &http_req {
            // The headers only from a trusted proxy (read, they are unpacked for good).
            Some(req) if (self.options.trusted_proxies).contains(&remote.ip().to_canonical()) => {
                client_ip(remote, req.headers(), &self.options.trusted_proxies)
            }
            _ => remote.ip().to_canonical().to_string(),
        };
        let id = self.next_conn_id.fetch_add(1, Ordering::Relaxed);
        let is_ws = matches!(kind, ConnKind::Ws { .. });
        let conn = Connection {
            inner: Arc::new(ConnInner {
                id,
                remote,
                ip,
                kind,
                http_req,
                host: self.clone(),
                state: Default::default(),
                msgs: Default::default(),
            }),
            call: None,
        };
        if is_ws {
            self.lock_conns().insert(id, conn.clone());
            if let Some(c) = self.cluster.get() {
                c.conn_opened(id);
            }
        }
        conn
    }

    pub(crate) fn unregister(&self, id: u64) {
        let none_left = {
            let mut conns = self.lock_conns();
            conns.remove(&id);
            conns.is_empty()
        };
        // After the removal above: a `join_room` racing it sees the connection gone.
        self.rooms.remove_conn(id);
        if let Some(c) = self.cluster.get() {
            c.conn_closed(id);
        }
        if none_left {
            self.conns_gone.notify_waiters();
        }
    }

    /// True while the WebSocket connection `id` is registered (open).
    pub(crate) fn is_registered(&self, id: u64) -> bool {
        self.lock_conns().contains_key(&id)
    }

    /// The open WebSocket connection `id`.
    pub(crate) fn connection(&self, id: u64) -> Option<Connection> {
        self.lock_conns().get(&id).cloned()
    }

    /// Every open WebSocket connection, oldest first.
    pub(crate) fn connections(&self) -> Vec<Connection> {
        let mut v = self.connections_unordered();
        v.sort_by_key(|c| c.id());
        v
    }

    /// Every open WebSocket connection, in no order (a broadcast's: the sort was 2.1% of the
    /// server's time in W4's profile).
    pub(crate) fn connections_unordered(&self) -> Vec<Connection> {
        self.lock_conns().values().cloned().collect()
    }

    /// Counts an accepted socket as open until the guard drops; `None` when `max_connections`
    /// sockets are open already.
    pub(crate) fn open_socket(self: &Arc<Self>) -> Option<SocketGuard> {
        let max = self.options.max_connections;
        self.sockets
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < max).then_some(n + 1)
            })
            .ok()
            .map(|_| SocketGuard(self.clone()))
    }

    /// Marks the server as stopping and wakes whoever waits for that.
    pub(crate) fn begin_stop(&self) {
        self.stopping.store(true, Ordering::SeqCst);
        self.stop_notify.notify_waiters();
    }

    /// Stops: no new connection or request is served; every connection is closed with
    /// `Server stopped`; waits (up to the close timeout) for them to go.
    pub(crate) async fn stop(&self) {
        self.begin_stop();
        if let Some(c) = self.cluster.get() {
            c.detach();
        }
        for c in self.connections() {
            c.close("Server stopped");
        }
        let wait = self.options.close_timeout + Duration::from_millis(500);
        let _ = tokio::time::timeout(wait, self.connections_gone()).await;
    }

    /// Refuses new work, waits for pending API calls (at most `max_wait`), then
    /// [`stop`](Self::stop)s. True when every pending call finished in time.
    pub(crate) async fn graceful_stop(&self, max_wait: Duration) -> bool {
        self.begin_stop();
        let finished = tokio::time::timeout(max_wait, self.wait_idle())
            .await
            .is_ok();
        self.stop().await;
        finished
    }

    /// Resolves once the server is stopping (at once if it already is).
    pub(crate) async fn stopped(&self) {
        // A `Notified` gets `notify_waiters` from its creation on: created before the flag is
        // read, it cannot miss a stop that comes after.
        let notified = self.stop_notify.notified();
        if self.stopping.load(Ordering::SeqCst) {
            return;
        }
        notified.await
    }

    pub(crate) fn connection_count(&self) -> usize {
        self.lock_conns().len()
    }

    /// Resolves once no connection is registered (at once if none is).
    pub(crate) async fn connections_gone(&self) {
        loop {
            // Created before the count is read, it cannot miss the last unregister after it.
            let notified = self.conns_gone.notified();
            if self.connection_count() == 0 {
                return;
            }
            notified.await;
        }
    }

    /// Counts a call as pending until the guard drops (`pending_calls`, `wait_idle`).
    pub(super) fn call_pending(&self) -> PendingGuard<'_> {
        self.pending.fetch_add(1, Ordering::AcqRel);
        PendingGuard(self)
    }

    pub(crate) fn pending_calls(&self) -> usize {
        self.pending.load(Ordering::Acquire)
    }

    /// Waits until no call is pending.
    pub(crate) async fn wait_idle(&self) {
        struct Waiting<'a>(&'a AtomicUsize);
        impl Drop for Waiting<'_> {
            fn drop(&mut self) {
                self.0.fetch_sub(1, Ordering::SeqCst);
            }
        }
        self.idle_waiters.fetch_add(1, Ordering::SeqCst);
        let _waiting = Waiting(&self.idle_waiters);
        loop {
            // A `Notified` gets `notify_waiters` from its creation on, polled or not.
            let notified = self.idle.notified();
            if self.pending.load(Ordering::SeqCst) == 0 {
                return;
            }
            notified.await;
        }
    }

    /// Decodes an API call (`Err`: bad input). A body split out of its frame by scanning is
    /// accepted only when it is shown to be one JSON value: decoded by the handler, or parsed
    /// (against the schema, or as JSON) when nothing decodes it.
    pub(crate) fn dispatch_api(
        self: &Arc<Self>,
        conn: &Connection,
        name: &str,
        sn: u64,
        body: Input<'_>,
        (out, service_id): (Out, u64),
    ) -> Result<ApiJob, InputError> {
        let Some(entry) = self.api_index.get(name) else {
            return Err(InputError::UnknownApi(name.to_owned()));
        };
        entry.calls.fetch_add(1, Ordering::Relaxed);
        let trace = CallTrace::start(self, conn, name, sn, &body);
        let _in = trace.span.enter();
        // The call's own handle: a close asked for through it waits for the reply (`reply`).
        let conn = conn.for_call();
        let step = match &entry.handler {
            None => {
                // TSRPC decodes the request before looking for a handler.
                match body.as_json() {
                    Some(json) => {
                        let def = &self.proto.services[entry.def];
                        check_schema(def.req_schema.as_ref(), json.text())?;
                        if json.is_split() {
                            serde_json::from_str::<serde::de::IgnoredAny>(json.text())
                                .map_err(|e| InputError::Invalid(e.to_string()))?;
                        }
                    }
                    None => body.check_binary().map_err(InputError::Invalid)?,
                }
                JobStep::Unhandled
            }
            Some(handler) => {
                let ctx = CallCtx {
                    conn: conn.clone(),
                    sn,
                    out,
                    ext: Extensions::new(),
                };
                let fut = handler(body, ctx).map_err(InputError::Invalid)?;
                if self.flows.pre_api_call.is_empty() {
                    JobStep::Run(fut)
                } else {
                    let input = Box::new(FlowInput {
                        input: body.to_owned_input(),
                        req: body.value().unwrap_or(Value::Null),
                    });
                    JobStep::Flow(handler.clone(), input, entry.conf.clone())
                }
            }
        };
        drop(_in);
        Ok(ApiJob {
            core: self.clone(),
            conn,
            name: entry.name.clone(),
            sn,
            step,
            out,
            service_id,
            trace,
        })
    }

    /// Decodes a message for every listener (`Err`: bad input); the futures run the listeners.
    pub(crate) async fn dispatch_msg(
        self: &Arc<Self>,
        conn: &Connection,
        name: &str,
        body: Input<'_>,
    ) -> Result<Vec<BoxFuture<()>>, InputError> {
        let Some(def) = self.proto.find(name, ServiceKind::Msg) else {
            return Err(InputError::UnknownMsg(name.to_owned()));
        };
        self.counters.msg(name);
        super::log::recv_msg(self, conn, name, &body);
        // The connection's own listeners first, then the server's (TSRPC's order).
        let handlers = match conn.inner.msgs.matching(name) {
            Some(mut own) => {
                own.extend(self.msgs.matching(name));
                own
            }
            None => self.msgs.matching(name),
        };
        if handlers.is_empty() {
            // Nobody decodes it, but TSRPC validates every message it receives.
            match body.as_json() {
                Some(json) => check_schema(def.req_schema.as_ref(), json.text())?,
                None => body.check_binary().map_err(InputError::Invalid)?,
            }
        }
        let event = || MsgCallEvent {
            conn: conn.clone(),
            msg_name: name.to_owned(),
            msg: body.value().unwrap_or(Value::Null),
            conf: def.conf.clone().map(Arc::new),
            ext: Extensions::new(),
        };
        let no_ext = Extensions::new();
        let mut futures: Vec<BoxFuture<()>> = if !self.flows.pre_msg_call.is_empty() {
            // Validate first, so a bad message is refused whatever the flow does.
            for h in &handlers {
                drop(h(name, body, conn.clone(), &no_ext).map_err(InputError::Invalid)?);
            }
            // Boxed: a connection's task does not carry the flow's state while idle.
            let Some(ev) = Box::pin(self.flows.pre_msg_call.exec(event())).await else {
                return Ok(Vec::new());
            };
            let text = crate::json::to_string_untyped(&ev.msg).unwrap_or_else(|_| "null".into());
            let futures = handlers
                .iter()
                .map(|h| {
                    h(name, Input::json(&text), conn.clone(), &ev.ext).map_err(InputError::Invalid)
                })
                .collect::<Result<_, _>>()?;
            if !self.flows.post_msg_call.is_empty() {
                let mut futures: Vec<BoxFuture<()>> = futures;
                futures.push(self.post_msg_call(ev));
                return Ok(futures);
            }
            futures
        } else {
            handlers
                .iter()
                .map(|h| h(name, body, conn.clone(), &no_ext).map_err(InputError::Invalid))
                .collect::<Result<_, _>>()?
        };
        if !self.flows.post_msg_call.is_empty() {
            // Runs after the listeners: the futures run in order.
            futures.push(self.post_msg_call(event()));
        }
        Ok(futures)
    }

    /// `post_msg_call` on `ev`, as a future to run after a message's listeners.
    fn post_msg_call(self: &Arc<Self>, ev: MsgCallEvent) -> BoxFuture<()> {
        let core = self.clone();
        Box::pin(async move {
            core.flows.post_msg_call.exec(ev).await;
        })
    }
}

/// Validates `body` against a service's JSON Schema (when it has one), for input that no typed
/// handler decodes: the error is the validator's text.
fn check_schema(schema: Option<&Value>, body: &str) -> Result<(), InputError> {
    let Some(schema) = schema else { return Ok(()) };
    let value: Value = serde_json::from_str(body)
        .map_err(|e| InputError::Invalid(format!("Input is not a valid JSON string: {e}")))?;
    match crate::validate::explain(schema, &value) {
        Some(msg) => Err(InputError::Invalid(msg)),
        None => Ok(()),
    }
}
