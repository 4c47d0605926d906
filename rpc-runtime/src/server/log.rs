//! TSRPC-style log lines and `tracing` spans.
//!
//! Every line is a `tracing` event of target `rpc_runtime::server`, at `INFO` (an API error at
//! `WARN`), with the fields as structured data: `conn` (the connection id), `ip`, `transport`,
//! `code`, and the bodies when the options say so (`req`, `res`, `msg`, as JSON text); a call's
//! `service`, `sn`, `conn`, `transport`, `duration_ms` and `outcome` (`succ` or `error`) are
//! the fields of its span, around its lines. The lines, as TSRPC's (with the service name):
//!
//! | line | when | option |
//! | --- | --- | --- |
//! | `[Connected]`, `[Disconnected]` (with `reason`) | a WebSocket opens, closes | `log_connect` |
//! | `[ApiReq]` (with `req`) | an API call is received | `log_api` (`log_req_body`) |
//! | `[ApiRes]` (with `res`), `[ApiErr]` (with `err`, `code`) | its return is ready | `log_api` (`log_res_body`) |
//! | `[RecvMsg]` (with `msg`) | a message is received | `log_msg` |
//!
//! Spans: `conn` (fields `conn`, `ip`, `transport`) around everything a WebSocket connection's
//! reader does, and `call` (fields `service`, `sn`, `conn`, `transport`, then `duration_ms` and
//! `outcome`) around each API call, its flows and handler: a handler's own events nest in it.
//!
//! Without a subscriber that wants them (or with the options off), a line costs a check of a
//! flag and of `tracing`'s cached interest; no text is made. Bodies are JSON text; a binary
//! body is decoded to JSON for its line only when that line is written.

use std::time::Instant;

use tracing::{field, Level, Span};

use super::conn::{ConnType, Connection};
use super::core::ServerCore;
use crate::codec::{Input, Out, Payload};
use crate::error::TsrpcError;

/// The target of every line.
pub(crate) const TARGET: &str = "rpc_runtime::server";

fn transport(conn: &Connection) -> &'static str {
    match conn.conn_type() {
        ConnType::WebSocket => "ws",
        ConnType::Http => "http",
    }
}

/// The span of a WebSocket connection.
pub(crate) fn conn_span(conn: &Connection) -> Span {
    tracing::info_span!(target: TARGET, "conn", conn = conn.id(), ip = conn.ip(), transport = transport(conn))
}

pub(crate) fn connected(core: &ServerCore, conn: &Connection) {
    if core.options.log_connect {
        tracing::info!(target: TARGET, conn = conn.id(), ip = conn.ip(), transport = transport(conn), "[Connected]");
    }
}

pub(crate) fn disconnected(core: &ServerCore, conn: &Connection, reason: Option<&str>) {
    if core.options.log_connect {
        tracing::info!(target: TARGET, conn = conn.id(), ip = conn.ip(), reason, "[Disconnected]");
    }
}

fn body_text(body: &Input<'_>) -> String {
    body.json_text().map(|t| t.into_owned()).unwrap_or_default()
}

pub(crate) fn recv_msg(core: &ServerCore, conn: &Connection, name: &str, body: &Input<'_>) {
    if core.options.log_msg && tracing::enabled!(target: TARGET, Level::INFO) {
        let msg = core.options.log_req_body.then(|| body_text(body));
        tracing::info!(target: TARGET, conn = conn.id(), msg, "[RecvMsg] {name}");
    }
}

/// One call's span, start time and what its return line needs.
pub(crate) struct CallTrace {
    pub(crate) span: Span,
    started: Option<Instant>,
    log: bool,
}

impl CallTrace {
    /// No span, no line (what a call's trace is once taken out of it).
    pub(crate) fn none() -> Self {
        CallTrace {
            span: Span::none(),
            started: None,
            log: false,
        }
    }

    /// Opens the call's span and writes `[ApiReq]`.
    pub(crate) fn start(
        core: &ServerCore,
        conn: &Connection,
        name: &str,
        sn: u64,
        body: &Input<'_>,
    ) -> Self {
        let span = tracing::info_span!(target: TARGET, "call", service = name, sn, conn = conn.id(),
            transport = transport(conn), duration_ms = field::Empty, outcome = field::Empty);
        let log = core.options.log_api && tracing::enabled!(target: TARGET, Level::INFO);
        if log {
            let req = core.options.log_req_body.then(|| body_text(body));
            span.in_scope(
                || tracing::info!(target: TARGET, ip = conn.ip(), req, "[ApiReq] {name}"),
            );
        }
        let started = (log || !span.is_disabled()).then(Instant::now);
        CallTrace { span, started, log }
    }

    /// The call's return is ready: counts an error, records the span's outcome, writes
    /// `[ApiRes]` or `[ApiErr]`.
    pub(crate) fn end(
        &self,
        core: &ServerCore,
        name: &str,
        out: Out,
        ret: &Result<Payload, TsrpcError>,
    ) {
        if let Err(e) = ret {
            core.counters.error(e);
        }
        let Some(started) = self.started else { return };
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        let outcome = if ret.is_ok() { "succ" } else { "error" };
        self.span.record("duration_ms", ms);
        self.span.record("outcome", outcome);
        if !self.log {
            return;
        }
        let _in = self.span.enter();
        match ret {
            Ok(p) => {
                let res = core.options.log_res_body.then(|| match p {
                    Payload::Json(t) => t.clone(),
                    Payload::Bin(_) => out.value(p).to_string(),
                });
                tracing::info!(target: TARGET, res, "[ApiRes] {name}");
            }
            Err(e) => {
                let code = super::metrics::code_text(e);
                tracing::warn!(target: TARGET, code, err = %e.message, "[ApiErr] {name}");
            }
        }
    }
}
