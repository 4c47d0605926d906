//! Replays the fuzz corpus that is committed (`fuzz/seeds/<target>/`: the captures and the
//! bad-input rows; `fuzz/regressions/<target>/`: inputs that found a bug) through the same
//! entry points as the cargo-fuzz targets, and pins each bug the fuzzers found with an asserted
//! outcome. See `fuzz/README.md`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use protocols::chat;
use rpc_runtime::__fuzz::FuzzServer;
use rpc_runtime::server::ServerOptions;

/// The server of the fuzz targets (`fuzz/src/lib.rs`).
fn server() -> FuzzServer {
    let options = ServerOptions::default()
        .api_timeout(Some(Duration::from_millis(200)))
        .max_frame_size(64 * 1024)
        .max_body_size(64 * 1024);
    let addr = ([127, 0, 0, 1], 0).into();
    FuzzServer::new(rpc_examples::chat_server::build(chat::Server::ws(addr, options)).into_inner())
}

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

/// Every file of `fuzz/<kind>/<target>/`, sorted.
fn inputs(kind: &str, target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = fuzz_dir().join(kind).join(target);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let data = std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            (p, data)
        })
        .collect()
}

fn assert_still_serves(s: &FuzzServer, after: &Path) {
    assert!(
        s.handle().connections().is_empty(),
        "a connection left open after {}",
        after.display()
    );
    let ws = s.ws_text(br#"["Add",{"a":1,"b":2},1]"#);
    assert!(
        ws.texts()
            .iter()
            .any(|t| t == r#"["Add",{"isSucc":true,"res":{"c":3}},1]"#),
        "no answer over WebSocket after {}: {ws:?}",
        after.display()
    );
    let http = s.http_request(
        b"POST /Add HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 13\r\n\r\n{\"a\":1,\"b\":2}",
    );
    assert!(
        String::from_utf8_lossy(&http).contains(r#"{"isSucc":true,"res":{"c":3}}"#),
        "no answer over HTTP after {}",
        after.display()
    );
}

/// Replays `fuzz/seeds/<target>` and `fuzz/regressions/<target>`; returns how many inputs ran.
fn replay(target: &str, feed: impl Fn(&FuzzServer, &[u8])) -> usize {
    let s = server();
    let mut n = 0;
    for kind in ["seeds", "regressions"] {
        for (path, data) in inputs(kind, target) {
            feed(&s, &data);
            assert_still_serves(&s, &path);
            n += 1;
        }
    }
    n
}

#[test]
fn corpus_ws_frames() {
    let n = replay("ws_frames", |s, d| {
        s.ws_frames(d);
    });
    assert!(n >= 50, "only {n} inputs under fuzz/seeds/ws_frames");
}

#[test]
fn corpus_ws_text() {
    let n = replay("ws_text", |s, d| {
        s.ws_text(d);
    });
    assert!(n >= 40, "only {n} inputs under fuzz/seeds/ws_text");
}

#[test]
fn corpus_http_request() {
    let n = replay("http_request", |s, d| {
        s.http_request(d);
    });
    assert!(n >= 30, "only {n} inputs under fuzz/seeds/http_request");
}

/// The seeds of the a.7 rows get TSRPC's close reasons (the replay above only checks that the
/// server survives them).
#[test]
fn seeds_of_a7_close_as_tsrpc_does() {
    let s = server();
    let cases: [(&str, &str); 5] = [
        ("a7-unknown-api", "Invalid api path: Nope"),
        ("a7-api-without-sn", "Invalid msg path: Add"),
        ("a7-missing-property", "Missing required property `b`."),
        (
            "a7-not-an-array",
            "Invalid request format: unresolved service name.",
        ),
        ("a7-long-name", "Invalid api path: NNNN"),
    ];
    for (seed, reason) in cases {
        let data = std::fs::read(fuzz_dir().join("seeds/ws_text").join(seed)).unwrap();
        let ex = s.ws_text(&data);
        let (code, got) = ex
            .close()
            .unwrap_or_else(|| panic!("{seed}: no close: {ex:?}"));
        assert_eq!(code, 1000, "{seed}");
        assert!(got.starts_with(reason), "{seed}: {got}");
        assert!(got.len() <= 123, "{seed}: reason of {} bytes", got.len());
    }
}

/// The harness goes all the way: handlers run and their replies come back, over WebSocket,
/// over HTTP, and over a WebSocket upgraded from HTTP on the same input.
#[test]
fn seeds_reach_the_handlers() {
    let s = server();
    let seed = |target: &str, name: &str| {
        std::fs::read(fuzz_dir().join("seeds").join(target).join(name)).unwrap()
    };

    let ex = s.ws_frames(&seed("ws_frames", "session"));
    let texts = ex.texts();
    assert!(
        texts
            .iter()
            .any(|t| t.starts_with(r#"["Login",{"isSucc":true"#)),
        "{texts:?}"
    );
    assert!(
        texts
            .iter()
            .any(|t| t == r#"["Add",{"isSucc":true,"res":{"c":3}},2]"#),
        "{texts:?}"
    );
    // The heartbeat is answered.
    assert!(
        ex.frames
            .iter()
            .any(|f| f.opcode == 0x2 && f.payload == [0]),
        "{ex:?}"
    );
    // A close right behind the calls: echoed (the calls' answers may be lost: the connection
    // is closed before they are sent).
    let ex = s.ws_frames(&seed("ws_frames", "session-then-close"));
    assert_eq!(ex.close(), Some((1000, String::new())), "{ex:?}");

    let burst = s.ws_text(&seed("ws_text", "game-burst")).texts();
    assert_eq!(burst.len(), 6, "{burst:?}");
    assert_eq!(
        burst[5],
        r#"["GameBurst",{"isSucc":true,"res":{"sent":5}},13]"#
    );

    let http = String::from_utf8_lossy(&s.http_request(&seed("http_request", "keep-alive-two")))
        .into_owned();
    assert_eq!(http.matches("HTTP/1.1 200 OK").count(), 2, "{http}");
    assert!(http.contains(r#"{"isSucc":true,"res":{"c":3}}"#), "{http}");
    assert!(
        http.contains(r#"{"isSucc":true,"res":{"chatCount":"#),
        "{http}"
    );

    let up = s.http_request(&seed("http_request", "upgrade"));
    let head_end = up
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a response head")
        + 4;
    let head = String::from_utf8_lossy(&up[..head_end]);
    assert!(
        head.starts_with("HTTP/1.1 101 Switching Protocols"),
        "{head}"
    );
    assert!(String::from_utf8_lossy(&up[head_end..])
        .contains(r#"["Add",{"isSucc":true,"res":{"c":3}},1]"#));
}

/// The harness itself: a panic inside a task the server spawned (which tokio would swallow)
/// fails the call, so the fuzzers and the property tests see it.
#[test]
fn a_panic_in_a_spawned_task_fails_the_call() {
    use rpc_runtime::proto::{ServiceDef, ServiceKind, ServiceProto};
    use rpc_runtime::Server;
    let proto = ServiceProto::new("t").with(ServiceDef::named("Boom", ServiceKind::Api));
    let addr = ([127, 0, 0, 1], 0).into();
    let server = Server::ws(proto, addr, ServerOptions::default()).implement_api_raw(
        "Boom",
        |_call| async {
            let _ = tokio::spawn(async { panic!("boom in a task") }).await;
            Ok(serde_json::json!({}))
        },
    );
    let s = FuzzServer::new(server);
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        s.ws_text(br#"["Boom",{},1]"#)
    }));
    let err = caught.expect_err("the call should fail");
    let msg = err.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(msg.contains("the server panicked"), "{msg}");
    assert!(msg.contains("boom in a task"), "{msg}");
    // The harness is usable again afterwards.
    let ex = s.ws_text(br#"["Nope",{},1]"#);
    assert_eq!(
        ex.close(),
        Some((1000, "Invalid api path: Nope".to_owned()))
    );
}
