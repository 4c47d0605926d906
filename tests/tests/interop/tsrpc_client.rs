//! TSRPC's own `WsClient` and `HttpClient` (the `client.js` scenarios, in JSON mode, in binary
//! mode, and in binary mode against binary-only servers: `Modes`) against our server
//! (`rpc_examples::chat_server`). Each scenario also runs against TSRPC's server: both outputs
//! must be equal once normalised, and equal to the lines written here.
//!
//! Compiled twice by interop.rs: on `protocols::chat` and on the service imported from
//! its TypeScript proto (`imported`); `chat` and `chat_server` are the parent's.

use super::*;

/// Replaces what legitimately differs between two runs: game ids (`g-<ms>`), the heartbeat
/// latency and the time a close took.
fn normalise(lines: &[Value]) -> Vec<Value> {
    fn walk(v: &mut Value) {
        match v {
            Value::Object(map) => {
                for (k, v) in map.iter_mut() {
                    match (k.as_str(), &*v) {
                        ("gameId", Value::String(s)) if s.starts_with("g-") => *v = json!("g-<ms>"),
                        ("lastHeartbeatLatency" | "ms", Value::Number(_)) => *v = json!("<ms>"),
                        _ => walk(v),
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(walk),
            _ => {}
        }
    }
    let mut lines = lines.to_vec();
    lines.iter_mut().for_each(walk);
    lines
}

/// Runs `scenario` against our server and TSRPC's (at once); asserts both outputs are
/// equal once normalised, and equal to `expected`. Returns our raw lines.
async fn same_as_tsrpc(
    m: Modes,
    scenario: &str,
    ours: &str,
    theirs: &str,
    expected: &[Value],
) -> Vec<Value> {
    let (our_lines, their_lines) = tokio::join!(
        node::tsrpc_client_in(ours, scenario, m.client_json),
        node::tsrpc_client_in(theirs, scenario, m.client_json)
    );
    let (our_norm, their_norm) = (normalise(&our_lines), normalise(&their_lines));
    assert_eq!(
        their_norm,
        expected,
        "TSRPC's own server no longer gives the expected {scenario} lines ({m:?}):\n{}",
        node::lines_text(&their_lines)
    );
    assert_eq!(
        our_norm,
        their_norm,
        "scenario {scenario} ({m:?}): our server (left) differs from TSRPC's (right).\nours:\n{}\nTSRPC:\n{}",
        node::lines_text(&our_lines),
        node::lines_text(&their_lines)
    );
    our_lines
}

fn step(step: &str, ret: Value) -> Value {
    json!({"step": step, "ret": ret})
}

fn connect() -> Value {
    step("connect", json!({"isSucc": true}))
}

/// The `apis` scenario's lines after `connect` (a fresh server). `WhoAmI` (conf `needLogin`)
/// is refused before `Login`, and after it too over HTTP (each request a connection).
fn api_lines(ws: bool) -> Vec<Value> {
    let need_login = json!({"isSucc": false, "err": {"message": "Need login",
                                                    "type": "ApiError", "code": "NEED_LOGIN"}});
    let who = if ws {
        json!({"isSucc": true, "res": {"id": 1000, "name": "alice"}})
    } else {
        need_login.clone()
    };
    vec![
        step("WhoAmI.before", need_login),
        step(
            "Login",
            json!({"isSucc": true, "res": {"token": "token-alice-1000",
                                                    "user": {"id": 1000, "name": "alice"}}}),
        ),
        step("WhoAmI", who),
        step(
            "Login.wrong",
            json!({"isSucc": false, "err": {"message": "Wrong password",
                                    "type": "ApiError", "code": "BAD_PASSWORD"}}),
        ),
        step("Add", json!({"isSucc": true, "res": {"c": 3}})),
        step(
            "Fail",
            json!({"isSucc": false, "err": {"message": "Failed on purpose",
                             "type": "ApiError", "code": "E_FAIL", "detail": "extra field"}}),
        ),
        step(
            "Fail.number",
            json!({"isSucc": false, "err": {
            "message": "Failed with a numeric code", "type": "ApiError", "code": 42}}),
        ),
        step(
            "Fail.throw",
            json!({"isSucc": false, "err": {
            "message": "Internal Server Error", "type": "ServerError", "code": "INTERNAL_ERR",
            "innerErr": "Intentional exception from PtlFail"}}),
        ),
        step("Slow", json!({"isSucc": true, "res": {"sleptMs": 50}})),
        step("Stats", json!({"isSucc": true, "res": {"chatCount": 0}})),
    ]
}

fn post_disconnect(reason: &str, is_manual: bool) -> Value {
    json!({"step": "postDisconnect", "event": {"reason": reason, "isManual": is_manual}})
}

fn kick() -> Value {
    step("Kick", json!({"isSucc": true, "res": {}}))
}

async fn apis_over_ws(m: Modes) {
    let ours = our_ws(m.ours()).await;
    let theirs = TsrpcServer::start(Kind::Ws, &m.server_args()).await;
    let mut expected = vec![connect()];
    expected.extend(api_lines(true));
    same_as_tsrpc(m, "apis", &ours.url(), theirs.url(), &expected).await;
    ours.stop().await;
    theirs.stop().await;
}
in_modes!(apis_over_ws);

async fn apis_over_http(m: Modes) {
    let ours = our_http_with(m.ours()).await;
    let theirs = TsrpcServer::start(Kind::Http, &m.server_args()).await;
    same_as_tsrpc(m, "apis", &http_url(&ours), theirs.url(), &api_lines(false)).await;
    ours.stop().await;
    theirs.stop().await;
}
in_modes!(apis_over_http);

/// The `msgs` scenario's lines.
fn msgs_lines() -> Vec<Value> {
    let send = |name: &str| json!({"step": "sendMsg", "name": name, "ret": {"isSucc": true}});
    let recv = |name: &str, msg: Value| json!({"step": "recv", "name": name, "msg": msg});
    let frame = |i: i64| {
        let mut f = json!({"frame": i, "inputs": [{"playerId": 1, "dx": i, "dy": -i},
                                                 {"playerId": 2, "dx": -1, "dy": 1}]});
        if i % 2 == 0 {
            f["checksum"] = json!(format!("ck{i}"));
        }
        recv("game/GameFrame", f)
    };
    let expected = vec![
        connect(),
        send("Chat"),
        recv("Chat", json!({"name": "server", "content": "echo: hi"})),
        send("room/UserJoin"),
        recv(
            "room/UserJoin",
            json!({"roomId": "r1", "user": {"id": 7, "name": "bob"},
                                     "tags": ["x"]}),
        ),
        send("room/UserLeave"),
        recv("room/UserLeave", json!({"roomId": "r1", "userId": 7})),
        recv(
            "game/GameStart",
            json!({"gameId": "g-<ms>", "seed": 123456789,
            "players": [{"id": 1, "name": "alice"}, {"id": 2, "name": "bob"}]}),
        ),
        frame(0),
        frame(1),
        frame(2),
        recv(
            "game/GameOver",
            json!({"gameId": "g-<ms>", "winner": 1, "result": "win",
                                     "draw": false, "scores": [10.5, -3]}),
        ),
        step("GameBurst", json!({"isSucc": true, "res": {"sent": 5}})),
    ];
    expected
}

async fn msgs_over_ws(m: Modes) {
    let ours = our_ws(m.ours()).await;
    let theirs = TsrpcServer::start(Kind::Ws, &m.server_args()).await;
    let expected = msgs_lines();
    let lines = same_as_tsrpc(m, "msgs", &ours.url(), theirs.url(), &expected).await;
    // The burst's GameStart and GameOver carry the same game id.
    assert_eq!(lines[7]["msg"]["gameId"], lines[11]["msg"]["gameId"]);
    ours.stop().await;
    theirs.stop().await;
}
in_modes!(msgs_over_ws);

async fn http_msg(m: Modes) {
    let ours = our_http_with(m.ours()).await;
    let theirs = TsrpcServer::start(Kind::Http, &m.server_args()).await;
    let expected = [
        json!({"step": "sendMsg", "name": "Chat", "ret": {"isSucc": true}}),
        step(
            "Stats",
            json!({"isSucc": true, "res": {"chatCount": 1,
                             "lastChat": {"name": "alice", "content": "hi"}}}),
        ),
    ];
    same_as_tsrpc(m, "http-msg", &http_url(&ours), theirs.url(), &expected).await;
    ours.stop().await;
    theirs.stop().await;
}
in_modes!(http_msg);

async fn kick_over_ws(m: Modes) {
    let ours = our_ws(m.ours()).await;
    let theirs = TsrpcServer::start(Kind::Ws, &m.server_args()).await;
    let expected = [connect(), kick(), post_disconnect("kicked-by-test", false)];
    same_as_tsrpc(m, "kick", &ours.url(), theirs.url(), &expected).await;
    ours.stop().await;
    theirs.stop().await;
}
in_modes!(kick_over_ws);

async fn reconnect_over_ws(m: Modes) {
    let ours = our_ws(m.ours()).await;
    let theirs = TsrpcServer::start(Kind::Ws, &m.server_args()).await;
    let expected = [
        connect(),
        kick(),
        post_disconnect("kicked-by-test", false),
        step("reconnect", json!({"isSucc": true})),
        step("Add", json!({"isSucc": true, "res": {"c": 3}})),
        json!({"step": "disconnectCount", "count": 1}),
        post_disconnect("", true),
        json!({"step": "disconnectCount", "count": 2}),
    ];
    same_as_tsrpc(m, "reconnect", &ours.url(), theirs.url(), &expected).await;
    ours.stop().await;
    theirs.stop().await;
}
in_modes!(reconnect_over_ws);

/// Both servers wait 300 ms for heartbeats: TSRPC's client beating every 100 ms stays.
async fn heartbeat_over_ws(m: Modes) {
    let wait = Some(Duration::from_millis(300));
    let ours = our_ws(m.ours().heartbeat_wait(wait)).await;
    let theirs =
        TsrpcServer::start(Kind::Ws, &m.server_args_with(&["--heartbeat-wait", "300"])).await;
    let expected = [
        connect(),
        json!({"step": "heartbeat", "latencyIsNumber": true, "lastHeartbeatLatency": "<ms>",
               "status": "OPENED"}),
        post_disconnect("", true),
    ];
    same_as_tsrpc(m, "heartbeat", &ours.url(), theirs.url(), &expected).await;
    ours.stop().await;
    theirs.stop().await;
}
in_modes!(heartbeat_over_ws);

/// Both servers wait 300 ms for heartbeats: TSRPC's client without one is closed.
async fn no_heartbeat_over_ws(m: Modes) {
    let wait = Some(Duration::from_millis(300));
    let ours = our_ws(m.ours().heartbeat_wait(wait)).await;
    let theirs =
        TsrpcServer::start(Kind::Ws, &m.server_args_with(&["--heartbeat-wait", "300"])).await;
    let expected = [
        connect(),
        post_disconnect("Receive heartbeat timeout", false),
        json!({"step": "closedAfter", "ms": "<ms>"}),
    ];
    let lines = same_as_tsrpc(m, "no-heartbeat", &ours.url(), theirs.url(), &expected).await;
    // Closed at the first check (300 ms) or the second one, as TSRPC does.
    let ms = lines[2]["ms"].as_u64().expect("closedAfter.ms");
    assert!(ms < 1500, "closed after {ms} ms");
    ours.stop().await;
    theirs.stop().await;
}
in_modes!(no_heartbeat_over_ws);

/// TSRPC's clients in JSON mode against binary-only servers (`json: false`, ours and TSRPC's):
/// refused the same way, with TSRPC's texts (a WebSocket closed with `JSON mode is not
/// enabled, please use binary instead.`; over HTTP a binary error body the JSON client cannot
/// parse).
#[tokio::test]
async fn json_clients_against_binary_only_servers() {
    let ws = our_ws(our_options().json(false)).await;
    let http = our_http_with(our_options().json(false)).await;
    let their_ws = TsrpcServer::start(Kind::Ws, &["--json", "false"]).await;
    let their_http = TsrpcServer::start(Kind::Http, &["--json", "false"]).await;
    let run = |url: String| async move {
        let args = [url, "apis".into(), "--json".into(), "true".into()];
        let out = node::run_script("client.js", &args, Duration::from_secs(30)).await;
        assert!(out.status.success(), "{out:?}");
        out.lines
    };
    let (ws_lines, http_lines, their_ws_lines, their_http_lines) = tokio::join!(
        run(ws.url()),
        run(http_url(&http)),
        run(their_ws.url().to_owned()),
        run(their_http.url().to_owned())
    );
    let lost = json!({"isSucc": false, "err": {"message": rpc_runtime::reasons::JSON_DISABLED_REASON,
                      "type": "NetworkError", "code": "LOST_CONN"}});
    assert_eq!(
        their_ws_lines[..2],
        [connect(), step("WhoAmI.before", lost)],
        "{their_ws_lines:?}"
    );
    assert_eq!(ws_lines[..2], their_ws_lines[..2], "{ws_lines:?}");
    let unparsable = json!({"isSucc": false, "err": {"message": "Parse server output error",
                            "type": "ServerError"}});
    assert_eq!(
        their_http_lines[0],
        step("WhoAmI.before", unparsable),
        "{their_http_lines:?}"
    );
    assert_eq!(http_lines[0], their_http_lines[0], "{http_lines:?}");
    ws.stop().await;
    http.stop().await;
    their_ws.stop().await;
    their_http.stop().await;
}

/// Our server may serve WebSocket and HTTP on one port (TSRPC cannot): TSRPC's `WsClient`
/// and `HttpClient` both talk to it.
#[tokio::test]
async fn ws_and_http_on_one_port() {
    let server = chat_server::start_ws_and_http(any_port(), our_options())
        .await
        .expect("our ws+http server starts");
    let mut expected = vec![connect()];
    expected.extend(api_lines(true));
    assert_eq!(node::tsrpc_client(&server.url(), "apis").await, expected);
    let lines = node::tsrpc_client(&http_url(&server), "http-msg").await;
    assert_eq!(
        lines,
        [
            json!({"step": "sendMsg", "name": "Chat", "ret": {"isSucc": true}}),
            step(
                "Stats",
                json!({"isSucc": true, "res": {"chatCount": 1,
                                 "lastChat": {"name": "alice", "content": "hi"}}})
            ),
        ]
    );
    server.stop().await;
}

/// Mixed modes on one server, ours and TSRPC's: while TSRPC's client (binary, then JSON)
/// runs the `msgs` scenario, two of our clients, one in each mode, hear its `room/*`
/// broadcasts, each decoded from its own data type.
#[tokio::test]
async fn mixed_modes_on_one_server() {
    for ts_json in [false, true] {
        let ours = our_ws(our_options()).await;
        let theirs = TsrpcServer::start(Kind::Ws, &[]).await;
        for url in [ours.url(), theirs.url().to_owned()] {
            let mut joins = Events::new();
            let mut clients = Vec::new();
            for json in [true, false] {
                let client = chat::Client::ws(&url, WsClientOptions::default().json(json));
                within(EVENT_SECS, "connect", client.connect())
                    .await
                    .expect("connects");
                let sink = joins.sink();
                client.listen_msg_room_user_join(move |m| sink((json, m.room_id, m.user.name)));
                clients.push(client);
            }
            let lines = node::tsrpc_client_in(&url, "msgs", ts_json).await;
            assert_eq!(
                normalise(&lines),
                msgs_lines(),
                "{url}, TSRPC client json {ts_json}"
            );
            let mut got = vec![
                joins.next("a join").await,
                joins.next("the other join").await,
            ];
            got.sort_by_key(|j| j.0);
            assert_eq!(
                got,
                [
                    (false, "r1".to_owned(), "bob".to_owned()),
                    (true, "r1".to_owned(), "bob".to_owned())
                ],
                "{url}, TSRPC client json {ts_json}"
            );
            for c in clients {
                c.disconnect().await;
            }
        }
        ours.stop().await;
        theirs.stop().await;
    }
}
