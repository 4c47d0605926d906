//! The bad-input catalogue: each malformed input gets its defined outcome, and afterwards the
//! server still serves other connections.

use protocols::chat::{self, ReqAdd};
use rpc_tests::bad_input::{cases, server_options};
use rpc_tests::{any_port, within};

#[tokio::test]
async fn every_case_has_its_outcome_and_the_server_keeps_serving() {
    let server = rpc_examples::chat_server::start_ws_and_http(any_port(), server_options())
        .await
        .unwrap();
    let addr = server.local_addr();
    let good = chat::Client::ws(format!("ws://{addr}"), Default::default());
    good.connect().await.unwrap();
    let mut failures = Vec::new();
    for case in cases() {
        if let Err(e) = within(20, case.name, (case.run)(addr)).await {
            failures.push(format!("{}: {e}", case.name));
        }
        let sum = within(5, "good call", good.call_add(ReqAdd { a: 1.0, b: 2.0 })).await;
        assert_eq!(sum.map(|r| r.c), Ok(3.0), "after case {:?}", case.name);
    }
    assert!(
        failures.is_empty(),
        "{} case(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    good.disconnect().await;
    server.stop().await;
}
