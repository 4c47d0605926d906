//! The HTTP path prefix (TSRPC's `jsonHostPath`, `ServerOptions::json_host_path`) and CORS
//! (`ServerOptions::cors`): each setting checked against TSRPC's `HttpServer` given the same
//! option (`server.js --json-host-path / --cors / --cors-max-age`), with raw requests
//! (`rawhttp.js`: status, body and the CORS headers must be equal), and TSRPC's `HttpClient`
//! under the prefix. The origin list, which TSRPC lacks, is checked on its own.

use std::time::Duration;

use protocols::chat;
use rpc_examples::chat_server;
use rpc_runtime::server::{Cors, ServerOptions};
use rpc_tests::node::{self, Kind, TsrpcServer};
use rpc_tests::{any_port, within};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn ours(options: ServerOptions) -> chat::RunningServer {
    chat_server::start_http(any_port(), options.return_inner_error(true))
        .await
        .expect("our http server starts")
}

/// The same raw request to both servers: their answers must be equal; returns ours.
async fn same(ours: &str, theirs: &str, method: &str, path: &str, ct: &str, body: &str) -> Value {
    let (a, b) = tokio::join!(
        node::raw_http(method, ours, path, ct, body),
        node::raw_http(method, theirs, path, ct, body)
    );
    assert_eq!(
        a, b,
        "{method} {path} ({ct}): ours (left) differs from TSRPC's (right)"
    );
    a
}

#[tokio::test]
async fn json_host_path_as_tsrpc() {
    let server = ours(ServerOptions::default().json_host_path("api")).await;
    let theirs = TsrpcServer::start(Kind::Http, &["--json-host-path", "api"]).await;
    let url = format!("http://{}", server.local_addr());
    let json = "application/json";

    let ok = same(
        &url,
        theirs.url(),
        "POST",
        "/api/Add",
        json,
        r#"{"a":1,"b":2}"#,
    )
    .await;
    assert_eq!(ok["body"], r#"{"isSucc":true,"res":{"c":3}}"#);
    let unknown = same(&url, theirs.url(), "POST", "/api/Nope", json, "{}").await;
    assert!(
        unknown["body"]
            .as_str()
            .unwrap()
            .contains("Invalid URL path: /api/Nope"),
        "{unknown}"
    );
    let msg = same(
        &url,
        theirs.url(),
        "POST",
        "/api/Chat?type=msg",
        json,
        r#"{"name":"a","content":"b"}"#,
    )
    .await;
    assert_eq!(msg["status"], 200);
    // Outside the prefix a JSON POST is read as a binary request.
    let outside = same(&url, theirs.url(), "POST", "/Add", json, r#"{"a":1,"b":2}"#).await;
    assert!(
        outside["headers"].get("content-type").is_none(),
        "{outside}"
    );
    assert_ne!(outside["body"], ok["body"]);

    // TSRPC's own HttpClient, given the prefix in its URL, in JSON and in binary mode.
    for json in [true, false] {
        let lines = node::tsrpc_client_in(&format!("{url}/api"), "apis", json).await;
        let text = node::lines_text(&lines);
        assert!(text.contains(r#"{"c":3}"#), "{text}");
        assert!(text.contains("BAD_PASSWORD"), "{text}");
    }
    // And ours.
    let client = chat::Client::http(format!("{url}/api/"), Default::default());
    let sum = client
        .call_add(chat::ReqAdd { a: 2.0, b: 2.0 })
        .await
        .expect("Add");
    assert_eq!(sum.c, 4.0);
    server.stop().await;
    theirs.stop().await;
}

#[tokio::test]
async fn cors_as_tsrpc() {
    let json = "application/json";
    let cases: [(ServerOptions, &[&str]); 4] = [
        (ServerOptions::default(), &[]),
        (
            ServerOptions::default().cors(Some(Cors::any().max_age(None))),
            &["--cors-max-age", "0"],
        ),
        (
            ServerOptions::default().cors(Some(Cors::any().max_age(Some(Duration::from_secs(60))))),
            &["--cors-max-age", "60"],
        ),
        (ServerOptions::default().cors(None), &["--cors", "off"]),
    ];
    for (options, args) in cases {
        let server = ours(options.clone()).await;
        let theirs = TsrpcServer::start(Kind::Http, args).await;
        let url = format!("http://{}", server.local_addr());
        let pre = same(&url, theirs.url(), "OPTIONS", "/Add", "", "").await;
        let call = same(&url, theirs.url(), "POST", "/Add", json, r#"{"a":1,"b":2}"#).await;
        assert_eq!(call["body"], r#"{"isSucc":true,"res":{"c":3}}"#);
        let h = &call["headers"];
        match &options.cors {
            Some(cors) => {
                assert_eq!(pre["status"], 200);
                assert_eq!(pre["body"], "");
                assert_eq!(h["access-control-allow-origin"], "*");
                assert_eq!(h["access-control-allow-headers"], "Content-Type,*");
                let age = cors.max_age.map(|d| d.as_secs().to_string());
                assert_eq!(
                    h.get("access-control-max-age").and_then(Value::as_str),
                    age.as_deref()
                );
            }
            None => {
                // No CORS headers; the preflight is an ordinary (binary) request.
                assert!(h.get("access-control-allow-origin").is_none(), "{call}");
                assert_ne!(pre["body"], "", "{pre}");
            }
        }
        server.stop().await;
        theirs.stop().await;
    }
}

/// A raw request with `Origin: origin`; returns the lower-cased head.
async fn head_for(addr: std::net::SocketAddr, method: &str, origin: &str) -> String {
    let mut s = TcpStream::connect(addr).await.unwrap();
    let req = format!(
        "{method} /Add HTTP/1.1\r\nHost: x\r\nOrigin: {origin}\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: 13\r\n\r\n{{\"a\":1,\"b\":2}}"
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    within(5, "answer", s.read_to_end(&mut buf)).await.unwrap();
    let text = String::from_utf8_lossy(&buf).to_ascii_lowercase();
    text.split("\r\n\r\n").next().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn cors_origin_list() {
    let cors = Cors::origins(["http://a.example", "https://b.example:8443"]);
    let server = ours(ServerOptions::default().cors(Some(cors))).await;
    let addr = server.local_addr();
    for method in ["OPTIONS", "POST"] {
        let head = head_for(addr, method, "https://B.example:8443").await;
        assert!(head.starts_with("http/1.1 200"), "{head}");
        assert!(
            head.contains("access-control-allow-origin: https://b.example:8443"),
            "{head}"
        );
        assert!(head.contains("access-control-max-age: 3600"), "{head}");
        assert!(head.contains("vary: origin"), "{head}");

        let head = head_for(addr, method, "http://evil.example").await;
        assert!(head.starts_with("http/1.1 200"), "{head}");
        assert!(!head.contains("access-control-allow-origin"), "{head}");
        assert!(head.contains("vary: origin"), "{head}");
    }
    server.stop().await;
}
