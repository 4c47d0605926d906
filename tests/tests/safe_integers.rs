//! Integers beyond JavaScript's safe range (2^53 - 1) are refused when encoded, on both sides,
//! with an error naming the field: a TypeScript peer would read them rounded.

use rpc_runtime::json::MAX_SAFE_INTEGER;
use rpc_runtime::proto::ServiceProto;
use rpc_runtime::server::ServerOptions;
use rpc_runtime::{codes, ApiCall, ErrorType, RpcClient, Server};
use rpc_tests::hand::*;
use rpc_tests::{any_port, connected, start_hand_server, within};

#[tokio::test]
async fn a_request_beyond_the_safe_range_is_refused_before_it_is_sent() {
    let server = start_hand_server(ServerOptions::default()).await;
    let client = connected(&server.url()).await;
    let err = within(
        5,
        "call",
        client.call_api(ReqSlow {
            ms: MAX_SAFE_INTEGER + 1,
        }),
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind, ErrorType::ClientError, "{err:?}");
    assert!(err.is_code(codes::INPUT_DATA_ERR), "{err:?}");
    assert_eq!(
        err.message,
        "field `ms` of `ReqSlow`: the integer 9007199254740992 is beyond JavaScript's safe range \
         (-(2^53 - 1) to 2^53 - 1), so a TypeScript peer would read it rounded; not sent"
    );
    // Nothing went out: the connection still serves, and the largest safe value is sent as is.
    let res = within(5, "call", client.call_api(ReqAdd { a: 1.0, b: 2.0 }))
        .await
        .unwrap();
    assert_eq!(res.c, 3.0);
    server.stop().await;
}

#[tokio::test]
async fn a_reply_beyond_the_safe_range_is_an_internal_error_naming_the_field() {
    // The handler answers twice the request: safe in, unsafe out. The field is named as on
    // the wire (`sleptMs`).
    let proto = ServiceProto::new("big").with_api::<ReqSlow>();
    let server = Server::ws(
        proto,
        any_port(),
        ServerOptions::default().return_inner_error(true),
    )
    .implement_api(|call: ApiCall<ReqSlow>| async move {
        Ok(ResSlow {
            slept_ms: call.req.ms.saturating_mul(2),
        })
    })
    .start()
    .await
    .expect("server starts");
    let client = connected(&server.url()).await;
    let ok = within(5, "call", client.call_api(ReqSlow { ms: 21 }))
        .await
        .unwrap();
    assert_eq!(ok.slept_ms, 42);

    let err = within(
        5,
        "call",
        client.call_api(ReqSlow {
            ms: MAX_SAFE_INTEGER,
        }),
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind, ErrorType::ServerError, "{err:?}");
    assert!(err.is_code(codes::INTERNAL_ERR), "{err:?}");
    let inner = err.extra["innerErr"].as_str().unwrap_or_default();
    assert!(
        inner.starts_with("field `sleptMs` of `ResSlow`: the integer 18014398509481982 "),
        "{err:?}"
    );
    server.stop().await;
}

/// `Tick`: a message with a signed 64-bit field, for the message paths.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
struct MsgTick {
    at: i64,
}
impl rpc_runtime::Message for MsgTick {
    const NAME: &'static str = "Tick";
}

#[tokio::test]
async fn a_message_beyond_the_safe_range_is_not_sent_by_either_side() {
    // The server's handler tries to push an unsafe message first, then a safe one, and
    // reports what the unsafe send returned.
    let (report, reported) = tokio::sync::oneshot::channel::<rpc_runtime::TsrpcError>();
    let report = std::sync::Mutex::new(Some(report));
    let proto = ServiceProto::new("tick")
        .with_api::<ReqSlow>()
        .with_msg::<MsgTick>();
    let server = Server::ws(proto, any_port(), ServerOptions::default())
        .implement_api(move |call: ApiCall<ReqSlow>| {
            let report = report.lock().unwrap().take();
            async move {
                let err = call
                    .conn
                    .send_msg(&MsgTick { at: -(1i64 << 60) })
                    .await
                    .unwrap_err();
                if let Some(report) = report {
                    let _ = report.send(err);
                }
                call.conn.send_msg(&MsgTick { at: -7 }).await?;
                Ok(ResSlow { slept_ms: 0 })
            }
        })
        .start()
        .await
        .expect("server starts");
    let client = connected(&server.url()).await;
    let (tick, mut ticks) = tokio::sync::mpsc::unbounded_channel();
    client.listen_msg(move |m: MsgTick| {
        let _ = tick.send(m.at);
    });

    let err = within(5, "send", client.send_msg(&MsgTick { at: i64::MIN }))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorType::ClientError, "{err:?}");
    assert!(err.is_code(codes::ENCODE_MSG_ERR), "{err:?}");
    assert!(
        err.message
            .starts_with("field `at` of `MsgTick`: the integer -9223372036854775808 is beyond"),
        "{err:?}"
    );

    within(5, "call", client.call_api(ReqSlow { ms: 1 }))
        .await
        .unwrap();
    let err = within(5, "report", reported).await.unwrap();
    assert!(err.is_code(codes::ENCODE_MSG_ERR), "{err:?}");
    assert!(
        err.message
            .starts_with("field `at` of `MsgTick`: the integer -1152921504606846976 is beyond"),
        "{err:?}"
    );
    // Only the safe message arrived.
    assert_eq!(within(5, "tick", ticks.recv()).await, Some(-7));
    assert!(ticks.try_recv().is_err());
    server.stop().await;
}
