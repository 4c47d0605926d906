// The helpers that name the service (`chat`, `chat_server`): included by interop.rs at its
// root (`protocols::chat`) and again in `imported` (the service imported from its proto).

/// Our reference server over WebSocket (`chat_server`).
async fn our_ws(options: ServerOptions) -> chat::RunningServer {
    chat_server::start_ws(any_port(), options)
        .await
        .expect("our ws server starts")
}

/// Our reference server over HTTP with these options.
async fn our_http_with(options: ServerOptions) -> chat::RunningServer {
    chat_server::start_http(any_port(), options)
        .await
        .expect("our http server starts")
}

/// `http://<addr>` of a running server of ours.
fn http_url(server: &chat::RunningServer) -> String {
    format!("http://{}", server.local_addr())
}

/// Records `(reason, is_manual)` of every `post_disconnect` of `client`.
fn record_disconnects(client: &chat::Client) -> Events<(Option<String>, bool)> {
    let events = Events::new();
    let sink = events.sink();
    client.flows().post_disconnect.push(move |ev| {
        sink((ev.reason.clone(), ev.is_manual));
        Some(ev)
    });
    events
}
