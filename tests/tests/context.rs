//! Sessions and call context: typed per-connection state, values a flow attaches to a call for
//! its handler, the API's `conf` read typed, and the login guard of the example chat server.

use std::sync::Arc;
use std::time::Duration;

use protocols::chat;
use rpc_runtime::client::{HttpClientOptions, WsClientOptions};
use rpc_runtime::server::ServerOptions;
use rpc_runtime::{codes, ApiCall, ErrorType, MsgCall, RpcClient, Server, TsrpcError};
use rpc_tests::hand::*;
use rpc_tests::{any_port, both_modes, connected_in, within};

/// Calls counted per connection, in its typed state.
#[derive(Clone, Default)]
struct Calls(u32);

/// Dropped with the connection: the test watches the `Arc`'s count.
#[derive(Clone)]
struct Marker(#[allow(dead_code)] Arc<()>);

async fn state_is_per_connection_and_dropped_with_it(json: bool) {
    let marker = Arc::new(());
    let server = Server::ws(
        rpc_tests::hand::proto(),
        any_port(),
        ServerOptions::default(),
    )
    .implement_api(|call: ApiCall<ReqAdd>| async move {
        // Read-modify-write under the state's lock: calls run concurrently.
        let n = call.conn.with_state(|s| {
            let calls = s.get_or_insert_default::<Calls>();
            calls.0 += 1;
            calls.0
        });
        Ok(ResAdd {
            c: call.req.a + call.req.b + f64::from(n) * 100.0,
        })
    })
    .allow_unimplemented()
    .start()
    .await
    .unwrap();
    let m = marker.clone();
    server.flows().post_connect.push(move |conn| {
        assert!(conn.set_state(Marker(m.clone())).is_none());
        Some(conn)
    });
    let base = Arc::strong_count(&marker);
    let a = connected_in(&server.url(), json).await;
    let b = connected_in(&server.url(), json).await;
    for expected in [103.0, 203.0, 303.0] {
        assert_eq!(
            a.call_api(ReqAdd { a: 1.0, b: 2.0 }).await.unwrap().c,
            expected
        );
    }
    // `b` counts on its own.
    assert_eq!(
        b.call_api(ReqAdd { a: 1.0, b: 2.0 }).await.unwrap().c,
        103.0
    );
    // Concurrent calls on one connection each count once.
    let calls: Vec<_> = (0..20)
        .map(|_| a.call_api(ReqAdd { a: 0.0, b: 0.0 }))
        .collect();
    let mut seen: Vec<f64> = futures_util::future::join_all(calls)
        .await
        .into_iter()
        .map(|r| r.unwrap().c)
        .collect();
    seen.sort_by(f64::total_cmp);
    let want: Vec<f64> = (4..24).map(|n| f64::from(n) * 100.0).collect();
    assert_eq!(seen, want);
    let conns = server.connections();
    assert_eq!(conns.len(), 2);
    assert_eq!(conns[0].state::<Calls>().map(|c| c.0), Some(23));
    assert_eq!(conns[1].state::<Calls>().map(|c| c.0), Some(1));
    assert_eq!(conns[1].remove_state::<Calls>().map(|c| c.0), Some(1));
    assert!(conns[1].state::<Calls>().is_none());
    drop(conns);
    assert_eq!(
        Arc::strong_count(&marker),
        base + 2,
        "one marker per connection"
    );
    a.disconnect().await;
    b.disconnect().await;
    within(5, "the state dropped with its connection", async {
        while Arc::strong_count(&marker) > base {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    server.stop().await;
}
both_modes!(state_is_per_connection_and_dropped_with_it);

/// The user a flow found, for the handler.
#[derive(Clone, Debug, PartialEq)]
struct CurrentUser(String);

#[derive(serde::Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct Conf {
    need_login: bool,
    tag: Option<String>,
}

/// `Slow` needs a login (its conf says so), `Add` not; a flow reads the conf typed, refuses
/// `Slow` without a user, attaches the user otherwise; a message flow attaches a value for the
/// listeners and reads the message's conf.
async fn flow_attaches_values_and_refuses_by_conf(json: bool) {
    let mut proto = rpc_tests::hand::proto();
    for def in &mut proto.services {
        match def.name.as_str() {
            "Slow" => def.conf = Some(serde_json::json!({"needLogin": true})),
            "Chat" => def.conf = Some(serde_json::json!({"tag": "chat-conf"})),
            "Kick" => def.conf = Some(serde_json::json!({"needLogin": "yes"})), // not a bool
            _ => {}
        }
    }
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let server = Server::ws(proto, any_port(), ServerOptions::default())
        .implement_api(|call: ApiCall<ReqAdd>| async move {
            let user = call.ext::<CurrentUser>().map(|u| u.0.len()).unwrap_or(0);
            Ok(ResAdd {
                c: call.req.a + call.req.b + user as f64,
            })
        })
        .implement_api(|call: ApiCall<ReqSlow>| async move {
            let user = call.ext::<CurrentUser>().cloned();
            assert_eq!(user, Some(CurrentUser("ann".into())), "only with a user");
            Ok(ResSlow {
                slept_ms: call.req.ms,
            })
        })
        .implement_api(|_call: ApiCall<ReqKick>| async move { Ok(ResKick {}) })
        .listen_msg(move |call: MsgCall<MsgChat>| {
            let tx = tx.clone();
            async move {
                let tag = call.ext::<String>().cloned();
                let _ = tx.send((call.msg.content, tag));
            }
        })
        .allow_unimplemented()
        .start()
        .await
        .unwrap();
    server.flows().pre_api_call.push(|mut ev| {
        let conf = match ev.conf_as::<Conf>() {
            Ok(c) => c,
            Err(e) => {
                ev.refuse(e);
                return Some(ev);
            }
        };
        match ev.conn.state::<CurrentUser>() {
            Some(u) => {
                ev.ext.insert(u);
            }
            None if conf.need_login => {
                ev.refuse(TsrpcError::api("Need login").with_code("NEED_LOGIN"));
            }
            None => {}
        }
        Some(ev)
    });
    server.flows().pre_msg_call.push(|mut ev| {
        let conf = ev.conf_as::<Conf>().expect("the Chat conf fits");
        ev.ext.insert(conf.tag.unwrap_or_default());
        Some(ev)
    });

    let client = connected_in(&server.url(), json).await;
    assert_eq!(
        client.call_api(ReqAdd { a: 1.0, b: 2.0 }).await.unwrap().c,
        3.0
    );
    let err = client.call_api(ReqSlow { ms: 1 }).await.unwrap_err();
    assert_eq!(err.kind, ErrorType::ApiError, "{err:?}");
    assert!(err.is_code("NEED_LOGIN"), "{err:?}");
    // A conf that does not fit the type read refuses the call (fail closed).
    let err = client
        .call_api(ReqKick { reason: "x".into() })
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorType::ServerError, "{err:?}");
    assert!(err.message.contains("Invalid conf of Kick"), "{err:?}");

    // Log in: the connection's state gets the user.
    server.connections()[0].set_state(CurrentUser("ann".into()));
    assert_eq!(
        client.call_api(ReqSlow { ms: 1 }).await.unwrap().slept_ms,
        1
    );
    assert_eq!(
        client.call_api(ReqAdd { a: 1.0, b: 2.0 }).await.unwrap().c,
        6.0
    );

    client
        .send_msg(&MsgChat {
            name: "ann".into(),
            content: "hi".into(),
        })
        .await
        .unwrap();
    let (content, tag) = within(5, "the message", rx.recv()).await.unwrap();
    assert_eq!(content, "hi");
    assert_eq!(tag.as_deref(), Some("chat-conf"));
    client.disconnect().await;
    server.stop().await;
}
both_modes!(flow_attaches_values_and_refuses_by_conf);

/// The example chat server's login guard: `WhoAmI` (conf `needLogin`) is refused before
/// `Login` and served after, on that connection only; over HTTP every request is a connection
/// of its own, so it stays refused.
async fn chat_who_am_i_needs_login(json: bool) {
    let server = rpc_examples::chat_server::start_ws_and_http(any_port(), ServerOptions::default())
        .await
        .unwrap();
    let url = server.url();
    let client = chat::Client::ws(&url, WsClientOptions::default().json(json));
    client.connect().await.unwrap();
    let err = client.call_who_am_i(chat::ReqWhoAmI {}).await.unwrap_err();
    assert_eq!(err.kind, ErrorType::ApiError, "{err:?}");
    assert!(err.is_code("NEED_LOGIN"), "{err:?}");
    let login = client
        .call_login(chat::ReqLogin {
            username: "ann".into(),
            password: "pw".into(),
        })
        .await
        .unwrap();
    let me = client.call_who_am_i(chat::ReqWhoAmI {}).await.unwrap();
    assert_eq!((me.id, me.name.as_str()), (login.user.id, "ann"));

    // Another connection has no session.
    let other = chat::Client::ws(&url, WsClientOptions::default().json(json));
    other.connect().await.unwrap();
    let err = other.call_who_am_i(chat::ReqWhoAmI {}).await.unwrap_err();
    assert!(err.is_code("NEED_LOGIN"), "{err:?}");
    // Unguarded APIs are served without a login.
    assert_eq!(
        other
            .call_add(chat::ReqAdd { a: 1.0, b: 1.0 })
            .await
            .unwrap()
            .c,
        2.0
    );

    let http_url = url.replacen("ws://", "http://", 1);
    let http = chat::Client::http(&http_url, HttpClientOptions::default().json(json));
    http.call_login(chat::ReqLogin {
        username: "bob".into(),
        password: "pw".into(),
    })
    .await
    .unwrap();
    let err = http.call_who_am_i(chat::ReqWhoAmI {}).await.unwrap_err();
    assert!(err.is_code("NEED_LOGIN"), "{err:?}");
    assert!(!err.is_code(codes::INPUT_DATA_ERR));
    client.disconnect().await;
    other.disconnect().await;
    server.stop().await;
}
both_modes!(chat_who_am_i_needs_login);

/// What the `Add` handler of [`echo_request_server`] saw of the HTTP request behind its call.
#[derive(Debug, PartialEq)]
struct Seen {
    method: String,
    path: String,
    token: Option<String>,
    sid: Option<String>,
    app: Option<String>,
    ip: String,
}

async fn echo_request_server(
    server: Server,
) -> (
    rpc_runtime::RunningServer,
    tokio::sync::mpsc::UnboundedReceiver<Seen>,
) {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let server = server
        .implement_api(move |call: ApiCall<ReqAdd>| {
            let req = call
                .conn
                .http_request()
                .expect("a request behind every connection");
            let _ = tx.send(Seen {
                method: req.method().to_string(),
                path: req.uri().path().to_owned(),
                token: req.query("token"),
                sid: req.cookie("sid").map(str::to_owned),
                app: req.header("x-app").map(str::to_owned),
                ip: call.conn.ip().to_owned(),
            });
            async move {
                Ok(ResAdd {
                    c: call.req.a + call.req.b,
                })
            }
        })
        .allow_unimplemented()
        .start()
        .await
        .unwrap();
    (server, rx)
}

/// A raw WebSocket handshake to `url` with these headers; `Err` with the HTTP status when the
/// server refuses the upgrade.
async fn ws_with_headers(url: &str, headers: &[(&str, &str)]) -> Result<rpc_tests::RawWs, u16> {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    use tokio_tungstenite::tungstenite::Error;
    let mut req = url.into_client_request().unwrap();
    req.headers_mut()
        .insert("sec-websocket-protocol", "text".parse().unwrap());
    for (k, v) in headers {
        req.headers_mut().insert(
            k.parse::<tokio_tungstenite::tungstenite::http::HeaderName>()
                .unwrap(),
            v.parse().unwrap(),
        );
    }
    match within(5, "handshake", tokio_tungstenite::connect_async(req)).await {
        Ok((ws, _)) => Ok(ws),
        Err(Error::Http(resp)) => Err(resp.status().as_u16()),
        Err(e) => panic!("handshake: {e}"),
    }
}

/// One `Add` call over a raw WebSocket, in JSON mode.
async fn raw_add(ws: &mut rpc_tests::RawWs) {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message as WsMessage;
    ws.send(WsMessage::text(r#"["Add",{"a":1,"b":2},1]"#))
        .await
        .unwrap();
    let reply = within(5, "the reply", ws.next()).await.unwrap().unwrap();
    assert_eq!(
        reply.into_text().unwrap().as_str(),
        r#"["Add",{"isSucc":true,"res":{"c":3}},1]"#
    );
}

const HEADERS: [(&str, &str); 3] = [
    ("cookie", "theme=dark; sid=42"),
    ("x-forwarded-for", "1.1.1.1, 6.6.6.6"),
    ("x-app", "demo"),
];

/// The request head behind a WebSocket (on a WebSocket-only server, and upgraded on a
/// WebSocket + HTTP one) and behind an HTTP call; `X-Forwarded-For` believed only from a
/// trusted proxy, and then only its rightmost untrusted entry (`1.1.1.1` is the client's own
/// claim).
#[tokio::test]
async fn http_request_and_ip_behind_every_connection() {
    let expected = |method: &str, path: &str, ip: &str| Seen {
        method: method.into(),
        path: path.into(),
        token: Some("t 1".into()),
        sid: Some("42".into()),
        app: Some("demo".into()),
        ip: ip.into(),
    };
    // WebSocket only, no trusted proxy: the socket's address.
    let (server, mut seen) = echo_request_server(Server::ws(
        rpc_tests::hand::proto(),
        any_port(),
        ServerOptions::default(),
    ))
    .await;
    let url = format!("{}/rpc?token=t%201", server.url());
    let mut ws = ws_with_headers(&url, &HEADERS).await.unwrap();
    raw_add(&mut ws).await;
    assert_eq!(
        seen.recv().await.unwrap(),
        expected("GET", "/rpc", "127.0.0.1")
    );
    drop(ws);
    server.stop().await;

    // WebSocket and HTTP, behind a trusted proxy (this test, from 127.0.0.1).
    let options = ServerOptions::default().trusted_proxies(["127.0.0.1".parse().unwrap()]);
    let (server, mut seen) = echo_request_server(Server::ws_and_http(
        rpc_tests::hand::proto(),
        any_port(),
        options,
    ))
    .await;
    let url = format!("{}/rpc?token=t%201", server.url());
    let mut ws = ws_with_headers(&url, &HEADERS).await.unwrap();
    raw_add(&mut ws).await;
    assert_eq!(
        seen.recv().await.unwrap(),
        expected("GET", "/rpc", "6.6.6.6")
    );
    let mut headers = HEADERS.to_vec();
    headers.push(("content-type", "application/json"));
    let resp = rpc_tests::raw::http_request(
        server.local_addr(),
        "POST",
        "/Add?token=t+1",
        &headers,
        br#"{"a":1,"b":2}"#,
    )
    .await
    .unwrap();
    assert_eq!(resp.status, 200);
    assert_eq!(
        seen.recv().await.unwrap(),
        expected("POST", "/Add", "6.6.6.6")
    );
    drop(ws);
    server.stop().await;
}

/// `ws_allowed_origins`: an upgrade from another origin is refused with 403 (on both server
/// kinds), a listed origin and a client that sends none (not a browser) get in; by default any
/// origin does.
#[tokio::test]
async fn websocket_origin_allow_list() {
    for both in [false, true] {
        let options = ServerOptions::default().ws_allowed_origins(["https://app.example"]);
        let proto = rpc_tests::hand::proto();
        let server = if both {
            Server::ws_and_http(proto, any_port(), options)
        } else {
            Server::ws(proto, any_port(), options)
        };
        let (server, _seen) = echo_request_server(server).await;
        let url = server.url();
        let evil = ws_with_headers(&url, &[("origin", "https://evil.example")]).await;
        assert_eq!(evil.err(), Some(403), "both: {both}");
        let mut ok = ws_with_headers(&url, &[("origin", "https://App.example")])
            .await
            .unwrap();
        raw_add(&mut ok).await;
        let mut none = ws_with_headers(&url, &[]).await.unwrap();
        raw_add(&mut none).await;
        assert_eq!(
            server.connections().len(),
            2,
            "the refused one never counted"
        );
        drop((ok, none));
        server.stop().await;

        // The default: any origin.
        let (server, _seen) = echo_request_server(Server::ws(
            rpc_tests::hand::proto(),
            any_port(),
            ServerOptions::default(),
        ))
        .await;
        let mut any = ws_with_headers(&server.url(), &[("origin", "https://evil.example")])
            .await
            .unwrap();
        raw_add(&mut any).await;
        drop(any);
        server.stop().await;
    }
}
