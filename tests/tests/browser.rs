//! TSRPC's browser client, the real npm `tsrpc-browser`, in headless Chromium against our
//! server: a page served by a test server of its own (another origin) loads a bundle of it
//! (built by `tests/interop/browser.js` with esbuild) and, in JSON and in binary mode, connects
//! over WebSocket (calls, a message and its echo, an error), calls and sends a message over
//! HTTP (cross-origin: preflighted), calls a server whose CORS origin list holds the page's
//! origin and one whose list does not (the browser refuses it), and checks the sub-protocol
//! echo with plain `WebSocket`s.
//!
//! Needs `node`, the npm packages of tests/interop and Debian's `chromium` (`scripts/test`
//! installs them); without them it fails, saying so.

use std::path::PathBuf;
use std::time::Duration;

use protocols::chat;
use rpc_examples::chat_server;
use rpc_runtime::server::{Cors, ServerOptions};
use rpc_tests::{any_port, node};
use serde_json::{json, Value};

/// Serves `dir`'s `index.html` and `bundle.js` on `listener` (the page's origin).
async fn serve_page(listener: tokio::net::TcpListener, dir: PathBuf) {
    let file = |dir: PathBuf, name: &'static str, ty: &'static str| {
        move || async move {
            match tokio::fs::read(dir.join(name)).await {
                Ok(bytes) => ([(axum::http::header::CONTENT_TYPE, ty)], bytes).into_response(),
                Err(_) => axum::http::StatusCode::NOT_FOUND.into_response(),
            }
        }
    };
    use axum::response::IntoResponse;
    let app = axum::Router::new()
        .route(
            "/",
            axum::routing::get(file(dir.clone(), "index.html", "text/html")),
        )
        .route(
            "/bundle.js",
            axum::routing::get(file(dir, "bundle.js", "text/javascript")),
        );
    let _ = axum::serve(listener, app).await;
}

fn find<'a>(lines: &'a [Value], step: &str) -> &'a Value {
    lines
        .iter()
        .find(|l| l["step"] == step)
        .unwrap_or_else(|| panic!("no {step} line in:\n{}", node::lines_text(lines)))
}

#[tokio::test]
async fn tsrpc_browser_in_chromium() {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        std::path::Path::new(&chromium).exists(),
        "{chromium} is missing: the browser test runs Debian's Chromium. Run `scripts/test` \
         (it installs it) or `apt-get install -y chromium chromium-driver`."
    );
    let page_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let page_origin = format!("http://{}", page_listener.local_addr().unwrap());
    let dir = std::env::temp_dir().join(format!(
        "rpc-browser-test-{}-{}",
        std::process::id(),
        page_listener.local_addr().unwrap().port()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let page_task = tokio::spawn(serve_page(page_listener, dir.clone()));

    let options = || ServerOptions::default().return_inner_error(true);
    let server = chat_server::start_ws_and_http(any_port(), options())
        .await
        .unwrap();
    let allowed = chat_server::start_http(
        any_port(),
        options().cors(Some(Cors::origins([page_origin.clone()]))),
    )
    .await
    .unwrap();
    let refused = chat_server::start_http(
        any_port(),
        options().cors(Some(Cors::origins(["http://elsewhere.example"]))),
    )
    .await
    .unwrap();
    let config = json!({
        "ws": format!("ws://{}", server.local_addr()),
        "http": format!("http://{}", server.local_addr()),
        "allowed": format!("http://{}", allowed.local_addr()),
        "refused": format!("http://{}", refused.local_addr()),
    });
    let args = [
        dir.display().to_string(),
        format!("{page_origin}/"),
        config.to_string(),
    ];
    let out = node::run_script("browser.js", &args, Duration::from_secs(60)).await;
    page_task.abort();
    let _ = std::fs::remove_dir_all(&dir);
    let lines = out.lines;
    let text = node::lines_text(&lines);
    assert!(
        out.status.success() && lines.last() == Some(&json!({"step": "done"})),
        "browser.js failed ({}):\n{text}\nstderr: {}",
        out.status,
        out.stderr
    );
    assert!(
        !lines.iter().any(|l| l["step"] == "error"),
        "{text}\nstderr: {}",
        out.stderr
    );
    let agent = find(&lines, "loaded")["userAgent"].as_str().unwrap_or("");
    assert!(agent.contains("Chrome/"), "{agent}");

    for mode in ["json", "binary"] {
        let ret = |step: String| find(&lines, &step)["ret"].clone();
        assert_eq!(ret(format!("ws.{mode}.connect")), json!({"isSucc": true}));
        assert_eq!(
            ret(format!("ws.{mode}.Add")),
            json!({"isSucc": true, "res": {"c": 3}})
        );
        assert_eq!(ret(format!("ws.{mode}.sendMsg")), json!({"isSucc": true}));
        assert_eq!(
            find(&lines, &format!("ws.{mode}.echo"))["msg"],
            json!({"name": "server", "content": "echo: hi"})
        );
        let fail = ret(format!("ws.{mode}.Fail"));
        assert_eq!(fail["isSucc"], false, "{fail}");
        assert_eq!(fail["err"]["code"], "E_FAIL", "{fail}");
        assert_eq!(fail["err"]["type"], "ApiError", "{fail}");

        assert_eq!(
            ret(format!("http.{mode}.Add")),
            json!({"isSucc": true, "res": {"c": 5}})
        );
        assert_eq!(ret(format!("http.{mode}.sendMsg")), json!({"isSucc": true}));
        assert_eq!(
            ret(format!("cors.allowed.{mode}")),
            json!({"isSucc": true, "res": {"c": 2}})
        );
        let refused = ret(format!("cors.refused.{mode}"));
        assert_eq!(refused["isSucc"], false, "{refused}");
        assert_eq!(refused["err"]["type"], "NetworkError", "{refused}");
    }
    for protocol in ["text", "buffer"] {
        let line = find(&lines, &format!("subprotocol.{protocol}"));
        assert_eq!(line["open"], true, "{line}");
        assert_eq!(line["protocol"], protocol, "{line}");
    }
    // Both HTTP messages (one per mode) reached the server.
    let stats = chat::Client::http(
        format!("http://{}", server.local_addr()),
        Default::default(),
    )
    .call_stats(chat::ReqStats {})
    .await
    .expect("Stats");
    assert!(stats.chat_count >= 4, "{stats:?}");
    server.stop().await;
    allowed.stop().await;
    refused.stop().await;
}
