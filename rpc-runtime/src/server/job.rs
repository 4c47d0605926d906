//! An API call of a server, decoded and ready to run: its `pre_api_call` flows, its handler
//! (with the API timeout and panics caught), the `pre_api_return` flows and the reply.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures_util::FutureExt;
use serde_json::Value;
use tracing::Instrument;

use super::conn::Connection;
use super::core::ServerCore;
use super::flows::{ApiCallEvent, ApiReturnFlowEvent};
use super::handler::{BoxFuture, CallCtx, ErasedApi, HandlerResult};
use super::log::CallTrace;
use super::reply::Reply;
use super::state::Extensions;
use crate::codec::{Input, Out, OwnedInput, Payload};
use crate::error::{codes, TsrpcError};

/// The request of a call that goes through `pre_api_call`: as it came, and as the flows get it.
pub(super) struct FlowInput {
    pub(super) input: OwnedInput,
    /// The request as JSON (`Null` when it cannot be one, such as nesting too deep for
    /// `serde_json`: the handler decodes the input itself then, unless a flow changed it).
    pub(super) req: Value,
}

/// A decoded API call, ready to run.
pub(crate) struct ApiJob {
    pub(super) core: Arc<ServerCore>,
    pub(super) conn: Connection,
    pub(crate) name: Arc<str>,
    pub(super) sn: u64,
    pub(super) step: JobStep,
    /// How the response is written, and the service id a binary return frame carries.
    pub(crate) out: Out,
    pub(crate) service_id: u64,
    /// The call's span and log lines.
    pub(super) trace: CallTrace,
}

pub(super) enum JobStep {
    /// The handler's future, the request already decoded.
    Run(BoxFuture<HandlerResult<Payload>>),
    /// `pre_api_call` nodes run first, on the request as JSON (with the API's `conf`); the
    /// input is decoded again after them, from the flows' JSON if they changed it.
    Flow(ErasedApi, Box<FlowInput>, Option<Arc<Value>>),
    /// No handler: `UNHANDLED_API`.
    Unhandled,
}

impl ApiJob {
    /// Where the call's reply goes: a close its handler asked for waits for it.
    pub(crate) fn reply(&self) -> Reply {
        Reply::new(self.conn.clone())
    }

    /// [`reply`](Self::reply) and the API's name, for a call done with (no clone of either).
    pub(crate) fn into_reply(self) -> (Reply, Arc<str>) {
        (Reply::new(self.conn), self.name)
    }

    /// Polls the handler once when nothing else has to run (no flows): `Some` with its output
    /// when it finished. `None`: go on with [`run`](Self::run) (the handler may have been
    /// polled once: the API timeout starts after that first poll anyway).
    pub(crate) fn poll_once(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> Option<Result<Payload, TsrpcError>> {
        let core = &self.core;
        let flows = &core.flows;
        if !(flows.pre_api_return.is_empty()
            && flows.post_api_return.is_empty()
            && flows.post_api_call.is_empty())
        {
            return None;
        }
        let JobStep::Run(fut) = &mut self.step else {
            return None;
        };
        let _pending = core.call_pending();
        let _in = self.trace.span.enter();
        let polled = std::panic::catch_unwind(AssertUnwindSafe(|| fut.as_mut().poll(cx)));
        let ret = match polled {
            Ok(std::task::Poll::Pending) => return None,
            Ok(std::task::Poll::Ready(out)) => handler_output(core, Ok(out)),
            Err(panic) => handler_output(core, Err(panic)),
        };
        self.trace.end(core, &self.name, self.out, &ret);
        Some(ret)
    }

    /// Runs the call: flows, handler (with the API timeout, panics caught), return flows.
    /// The output is the response JSON text or the error to send.
    pub(crate) async fn run(mut self) -> Result<Payload, TsrpcError> {
        let trace = std::mem::replace(&mut self.trace, CallTrace::none());
        let span = trace.span.clone();
        let (core, name, out) = (self.core.clone(), self.name.clone(), self.out);
        let ret = self.run_inner().instrument(span).await;
        trace.end(&core, &name, out, &ret);
        ret
    }

    async fn run_inner(self) -> Result<Payload, TsrpcError> {
        let core = &self.core;
        let _pending = core.call_pending();
        let fut = match self.step {
            JobStep::Unhandled => {
                let ret = Err(TsrpcError::server(format!("Unhandled API: {}", self.name))
                    .with_code(codes::UNHANDLED_API));
                return finish(core, &self.conn, &self.name, self.sn, self.out, ret).await;
            }
            JobStep::Run(fut) => Some(fut),
            JobStep::Flow(handler, input, conf) => {
                let ev = ApiCallEvent {
                    conn: self.conn.clone(),
                    api_name: self.name.to_string(),
                    conf,
                    sn: self.sn,
                    req: input.req.clone(),
                    ret: None,
                    ext: Extensions::new(),
                };
                match core.flows.pre_api_call.exec(ev).await {
                    None => {
                        return Err(TsrpcError::server("Cancelled by pre_api_call flow")
                            .with_code(codes::CANCELLED))
                    }
                    Some(ApiCallEvent { ret: Some(ret), .. }) => {
                        let ret = ret_payload(self.out, ret);
                        return finish(core, &self.conn, &self.name, self.sn, self.out, ret).await;
                    }
                    Some(ev) => {
                        let ctx = CallCtx {
                            conn: self.conn.clone(),
                            sn: self.sn,
                            out: self.out,
                            ext: ev.ext,
                        };
                        let decoded = if ev.req == input.req {
                            // Unchanged: the input as it came (decoded once already).
                            handler(input.input.as_input(), ctx)
                        } else {
                            let body = crate::json::to_string_untyped(&ev.req)
                                .unwrap_or_else(|_| "null".into());
                            handler(Input::json(&body), ctx)
                        };
                        match decoded {
                            Ok(fut) => Some(fut),
                            Err(e) => return Err(TsrpcError::input_data(e)),
                        }
                    }
                }
            }
        };
        let ret = match fut {
            Some(fut) => run_handler(core, fut).await,
            None => unreachable!(),
        };
        finish(core, &self.conn, &self.name, self.sn, self.out, ret).await
    }
}

/// A return given as a JSON value (by a flow), encoded as `out` says.
fn ret_payload(out: Out, ret: Result<Value, TsrpcError>) -> Result<Payload, TsrpcError> {
    ret.and_then(|v| {
        out.encode_value(&v)
            .map_err(|e| TsrpcError::internal(Some(e.to_string())))
    })
}

async fn run_handler(
    core: &ServerCore,
    fut: BoxFuture<HandlerResult<Payload>>,
) -> Result<Payload, TsrpcError> {
    let mut guarded = AssertUnwindSafe(fut).catch_unwind();
    // Most handlers finish on their first poll: no timer for those (the timeout starts at once
    // after it otherwise).
    let first = std::future::poll_fn(|cx| std::task::Poll::Ready(guarded.poll_unpin(cx))).await;
    let out = match (first, core.options.api_timeout) {
        (std::task::Poll::Ready(out), _) => out,
        (_, Some(t)) if !t.is_zero() => match tokio::time::timeout(t, guarded).await {
            Ok(r) => r,
            Err(_) => {
                return Err(TsrpcError::server("Server Timeout").with_code(codes::SERVER_TIMEOUT))
            }
        },
        _ => guarded.await,
    };
    handler_output(core, out)
}

/// The handler's output (or its panic) as the return to send.
fn handler_output(
    core: &ServerCore,
    out: Result<HandlerResult<Payload>, Box<dyn std::any::Any + Send>>,
) -> Result<Payload, TsrpcError> {
    let inner = core.options.return_inner_error;
    match out {
        Ok(Ok(json)) => Ok(json),
        Ok(Err(e)) => Err(e.into_tsrpc(inner)),
        Err(panic) => {
            let msg = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "handler panicked".into());
            tracing::error!("API handler panicked: {msg}");
            Err(TsrpcError::internal(inner.then_some(msg)))
        }
    }
}

async fn finish(
    core: &ServerCore,
    conn: &Connection,
    name: &str,
    sn: u64,
    out: Out,
    ret: Result<Payload, TsrpcError>,
) -> Result<Payload, TsrpcError> {
    let flows = &core.flows;
    if flows.pre_api_return.is_empty()
        && flows.post_api_return.is_empty()
        && flows.post_api_call.is_empty()
    {
        return ret;
    }
    let ev = ApiReturnFlowEvent {
        conn: conn.clone(),
        api_name: name.to_owned(),
        sn,
        ret: ret.map(|p| out.value(&p)),
    };
    let Some(ev) = flows.pre_api_return.exec(ev).await else {
        return Err(
            TsrpcError::server("Cancelled by pre_api_return flow").with_code(codes::CANCELLED)
        );
    };
    let ret = ret_payload(out, ev.ret.clone());
    if flows.post_api_call.is_empty() {
        flows.post_api_return.exec(ev).await;
    } else {
        flows.post_api_return.exec(ev.clone()).await;
        flows.post_api_call.exec(ev).await;
    }
    ret
}
