//! Import of a TSRPC service proto (`#[service(tsrpc_proto = "..")]`) against the
//! kitchen-sink corpus (`tests/kitchen-sink`, made by the real tsrpc-cli and tsbuffer): every
//! golden vector's JSON decodes into the imported type and encodes back to the same text, key
//! order included; the services keep the proto's names and ids; the copy of the corpus is the
//! one in `../shared` when that folder is there.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rpc_runtime::client::WsClientOptions;
use rpc_runtime::server::ServerOptions;
use rpc_runtime::{ApiCall, RpcClient, Server, WsClient};
use rpc_tests::{any_port, within};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// The kitchen sink, imported. `shop/Buy`'s response holds an optional `OnChainBalance` of
/// `bigint` fields, which TSRPC cannot send: the option leaves those fields out.
#[rpc_runtime::service(
    tsrpc_proto = "kitchen-sink/protocols/serviceProto.ts",
    skip_unsupported_optional_fields = true
)]
pub mod kitchen {}

/// A hand-made proto with what a real project's proto has and a fresh one lacks: ids with
/// gaps, a `version`, types from outside the protocol folder, names that are not Rust names,
/// recursive types, `ObjectID`, several optional tuple elements, float enums.
#[rpc_runtime::service(tsrpc_proto = "import-fixtures/oddities.json")]
pub mod oddities {}

const VECTORS: &str = include_str!("../kitchen-sink/vectors.json");

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Vector<'a> {
    r#type: String,
    service: String,
    service_id: u32,
    name: String,
    #[serde(borrow)]
    json: Option<&'a RawValue>,
    json_error: Option<String>,
    binary_error: Option<String>,
}

#[derive(Deserialize)]
struct Vectors<'a> {
    #[serde(borrow)]
    vectors: Vec<Vector<'a>>,
}

/// Decodes `json` as the server does (`decode_json`: serde plus TSRPC's validation) and as
/// plain serde does, and encodes it back as the runtime sends it (JavaScript number format).
fn round_trip<
    T: Serialize + DeserializeOwned + schemars::JsonSchema + PartialEq + std::fmt::Debug,
>(
    json: &str,
) -> Result<String, String> {
    let decoded: T = rpc_runtime::proto::decode_json(json)?;
    let plain: T = serde_json::from_str(json).map_err(|e| format!("serde_json: {e}"))?;
    if decoded != plain {
        return Err(format!(
            "decode_json and serde_json disagree: {decoded:?} / {plain:?}"
        ));
    }
    rpc_runtime::json::to_string(&decoded).map_err(|e| e.to_string())
}

/// The round trip for the type with this proto id.
fn round_trip_by_id(id: &str, json: &str) -> Result<String, String> {
    use kitchen::*;
    macro_rules! by_id {
        ($($id:literal => $ty:ty,)*) => {
            match id {
                $($id => round_trip::<$ty>(json),)*
                other => Err(format!("no Rust type mapped for `{other}`")),
            }
        };
    }
    rpc_tests::kitchen_types!(by_id)
}

#[test]
fn every_golden_vector_round_trips_to_the_same_text() {
    let vectors: Vectors = serde_json::from_str(VECTORS).unwrap();
    assert_eq!(vectors.vectors.len(), 48);
    let mut failures = Vec::new();
    let mut checked = 0;
    for v in &vectors.vectors {
        let Some(json) = v.json else {
            continue;
        };
        checked += 1;
        match round_trip_by_id(&v.r#type, json.get()) {
            Ok(text) if text == json.get() => {}
            Ok(text) => failures.push(format!(
                "{} / {}:\n  vector: {}\n  ours:   {text}",
                v.r#type,
                v.name,
                json.get()
            )),
            Err(e) => failures.push(format!("{} / {}: {e}", v.r#type, v.name)),
        }
    }
    assert_eq!(checked, 47, "every vector but the bigint one");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The one vector without JSON is the bigint sample: TSRPC itself cannot send it in either
/// mode, which is why the import may leave those fields out.
#[test]
fn the_bigint_vector_says_why_it_has_no_json() {
    let vectors: Vectors = serde_json::from_str(VECTORS).unwrap();
    let skipped: Vec<&Vector> = vectors
        .vectors
        .iter()
        .filter(|v| v.json.is_none())
        .collect();
    assert_eq!(skipped.len(), 1);
    let v = skipped[0];
    assert_eq!(v.r#type, "shop/PtlBuy/ResBuy");
    assert!(v.name.contains("bigint"), "{}", v.name);
    let json_error = v.json_error.as_deref().unwrap();
    assert!(
        json_error.contains("Do not know how to serialize a BigInt"),
        "{json_error}"
    );
    assert_eq!(
        v.binary_error.as_deref(),
        Some("Scalar type not support : bigint")
    );
    // What is left of `OnChainBalance` once its bigint fields are left out.
    let chain = kitchen::shop::OnChainBalance {};
    assert_eq!(rpc_runtime::json::to_string(&chain).unwrap(), "{}");
}

#[test]
fn services_keep_the_proto_names_and_ids() {
    let proto: serde_json::Value = serde_json::from_str(kitchen::TSRPC_PROTO).unwrap();
    let services = proto["services"].as_array().unwrap();
    assert_eq!(services.len(), 12);
    let vectors: Vectors = serde_json::from_str(VECTORS).unwrap();
    // Every vector's service id is the proto's id for that name.
    let ids: BTreeMap<&str, u64> = services
        .iter()
        .map(|s| (s["name"].as_str().unwrap(), s["id"].as_u64().unwrap()))
        .collect();
    for v in &vectors.vectors {
        assert_eq!(
            ids[v.service.as_str()],
            u64::from(v.service_id),
            "{}",
            v.service
        );
    }
    // The run-time proto has the same names, APIs and messages.
    let runtime = kitchen::service_proto();
    let mut apis: Vec<&str> = runtime.api_names().collect();
    let mut msgs: Vec<&str> = runtime.msg_names().collect();
    apis.sort_unstable();
    msgs.sort_unstable();
    let of_kind = |kind: &str| {
        let mut v: Vec<&str> = services
            .iter()
            .filter(|s| s["type"] == kind)
            .map(|s| s["name"].as_str().unwrap())
            .collect();
        v.sort_unstable();
        v
    };
    assert_eq!(apis, of_kind("api"));
    assert_eq!(msgs, of_kind("msg"));
    // ... with the proto's ids (binary mode sends them), and the proto itself.
    for s in services {
        let kind = match s["type"].as_str().unwrap() {
            "api" => rpc_runtime::proto::ServiceKind::Api,
            _ => rpc_runtime::proto::ServiceKind::Msg,
        };
        let name = s["name"].as_str().unwrap();
        let def = runtime.find(name, kind).unwrap();
        assert_eq!(def.id.map(u64::from), s["id"].as_u64(), "{name}");
    }
    assert_eq!(runtime.tsrpc_proto, Some(kitchen::TSRPC_PROTO));
    assert_eq!(
        <kitchen::shop::ReqBuy as rpc_runtime::Api>::NAME,
        "shop/Buy"
    );
    assert_eq!(
        <kitchen::room::MsgRoomState as rpc_runtime::Message>::NAME,
        "room/RoomState"
    );
}

#[test]
fn the_exposed_proto_is_the_source_proto() {
    let source = include_str!("../kitchen-sink/protocols/serviceProto.ts");
    let start = source.find("= {").unwrap() + 2;
    assert_eq!(kitchen::TSRPC_PROTO, source[start..].trim_end_matches(';'));
}

#[test]
fn imported_types_are_plain_rust() {
    use kitchen::room::{DashInput, DashInputKind, MoveInput, MsgPlayerMove};
    let msg = MsgPlayerMove {
        player_id: 3,
        frame: 7,
        input: MoveInput::DashInput(DashInput {
            kind: DashInputKind::Dash,
            dir: (0, -1),
            charge: 1.0,
        }),
        path: Some(rpc_runtime::types::Float32Array::from(vec![0.5, -1.25])),
    };
    assert_eq!(
        rpc_runtime::json::to_string(&msg).unwrap(),
        r#"{"playerId":3,"frame":7,"input":{"kind":"dash","dir":[0,-1],"charge":1},"path":"AAAAPwAAoL8="}"#
    );
    // A literal tag refuses another value; an enum refuses a value it does not have.
    let err =
        rpc_runtime::proto::decode_json::<DashInput>(r#"{"kind":"walk","dir":[0,0],"charge":1}"#)
            .unwrap_err();
    assert!(err.contains("kind"), "{err}");
    let err = rpc_runtime::proto::decode_json::<kitchen::Role>("7").unwrap_err();
    assert!(err.contains("7"), "{err}");
}

/// In JSON and in binary mode (the imported proto's ids and schemas).
async fn an_imported_service_serves_a_call(json: bool) {
    use kitchen::{ReqLogin, ResLogin};
    let vectors: Vectors = serde_json::from_str(VECTORS).unwrap();
    let res_json = vectors
        .vectors
        .iter()
        .find(|v| v.r#type == "PtlLogin/ResLogin")
        .and_then(|v| v.json)
        .unwrap()
        .get()
        .to_owned();
    let res: ResLogin = serde_json::from_str(&res_json).unwrap();
    let reply = res.clone();
    // A server of this one API (the whole service would need a handler for each).
    let proto = rpc_runtime::proto::ServiceProto::new("kitchen")
        .with_api::<ReqLogin>()
        .with_tsrpc_proto(kitchen::TSRPC_PROTO);
    let server = Server::ws(proto, any_port(), ServerOptions::default())
        .implement_api(move |call: ApiCall<ReqLogin>| {
            let mut reply = reply.clone();
            async move {
                reply.token = call.req.account.clone();
                Ok(reply)
            }
        })
        .start()
        .await
        .unwrap();
    let options = WsClientOptions::default()
        .proto(&proto_of_kitchen())
        .json(json);
    let client = WsClient::new(server.url(), options);
    within(5, "connect", client.connect()).await.unwrap();
    assert_eq!(client.is_json(), json);
    let req: ReqLogin = serde_json::from_str(
        r#"{"account":"ada@example.com","platform":"steam","clientVersion":[1,4,2],"rememberMe":true}"#,
    )
    .unwrap();
    let got = within(5, "call", client.call_api(req)).await.unwrap();
    assert_eq!(got.token, "ada@example.com");
    assert_eq!(got.user, res.user);
    client.disconnect().await;
    server.stop().await;
}
rpc_tests::both_modes!(an_imported_service_serves_a_call);

fn proto_of_kitchen() -> rpc_runtime::proto::ServiceProto {
    rpc_runtime::proto::ServiceProto::new("kitchen").with_tsrpc_proto(kitchen::TSRPC_PROTO)
}

/// The repository's copy of the corpus (`tests/kitchen-sink`) is the shared one, file for file
/// (without `node_modules`). Skipped where `../shared` is not there.
#[test]
fn the_corpus_copy_matches_the_shared_one() {
    let ours = Path::new(env!("CARGO_MANIFEST_DIR")).join("kitchen-sink");
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/tsrpc-kitchen-sink");
    if !shared.is_dir() {
        eprintln!("skipped: {} is not there", shared.display());
        return;
    }
    let (a, b) = (files(&ours), files(&shared));
    assert_eq!(
        a.keys().collect::<Vec<_>>(),
        b.keys().collect::<Vec<_>>(),
        "the same files"
    );
    for (rel, bytes) in &a {
        assert!(
            b[rel] == *bytes,
            "{} differs from the shared copy",
            rel.display()
        );
    }
}

fn files(root: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.file_name().is_some_and(|n| n == "node_modules") {
                continue;
            }
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path.strip_prefix(root).unwrap().to_path_buf();
                out.insert(rel, std::fs::read(&path).unwrap());
            }
        }
    }
    out
}

#[test]
fn oddities_import_and_keep_the_wire_names() {
    use oddities::my_room::{
        GetHttpDataEither, GetHttpDataPair, Node, Ratio, ReqGetHttpData, Tree,
    };
    assert_eq!(
        <ReqGetHttpData as rpc_runtime::Api>::NAME,
        "my-room/GetHTTPData"
    );
    assert_eq!(
        <oddities::room::MsgNotice as rpc_runtime::Message>::NAME,
        "room/Notice"
    );
    let text = r#"{"user":{"id":1,"friends":[{"id":2,"friends":[]}],"best":{"id":3,"friends":[]}},"oid":"65a1f0c2e4b0a1b2c3d4e5f6","tree":[[],[[]]],"node":{"next":{"next":{}}},"pair":["a",2],"ratio":1.5,"either":"none","a-b":"x","type":-3,"self":true,"ints":"AQD+/w=="}"#;
    let req: ReqGetHttpData = rpc_runtime::proto::decode_json(text).unwrap();
    assert_eq!(rpc_runtime::json::to_string(&req).unwrap(), text);
    assert_eq!(req.ratio, Ratio::V1_5);
    assert_eq!(req.pair, GetHttpDataPair("a".into(), Some(2), None));
    // Members are tried in proto order, as TSBuffer picks the first member that matches: the
    // string member takes "none" before the literal does.
    assert_eq!(req.either, GetHttpDataEither::String("none".into()));
    assert_eq!(
        req.tree,
        Some(Tree(vec![Tree(vec![]), Tree(vec![Tree(vec![])])]))
    );
    assert!(matches!(&req.node.next, Some(n) if matches!(**n, Node { next: Some(_) })));
    // A middle optional element left out is written `null`, trailing ones are dropped.
    let pair = GetHttpDataPair("a".into(), None, Some(true));
    assert_eq!(
        rpc_runtime::json::to_string(&pair).unwrap(),
        r#"["a",null,true]"#
    );
    assert_eq!(
        rpc_runtime::json::to_string(&GetHttpDataPair("a".into(), None, None)).unwrap(),
        r#"["a"]"#
    );
    // Named `Client | null` and `Client | undefined`.
    let text = r#"{"client":{"x":"a"},"maybe":null,"later":{"x":"b"}}"#;
    let res: oddities::ResLogin = rpc_runtime::proto::decode_json(text).unwrap();
    assert_eq!(rpc_runtime::json::to_string(&res).unwrap(), text);
    let res: oddities::ResLogin =
        rpc_runtime::proto::decode_json(r#"{"client":{"x":"a"}}"#).unwrap();
    assert_eq!(
        rpc_runtime::json::to_string(&res).unwrap(),
        r#"{"client":{"x":"a"},"maybe":null}"#
    );
    let err = rpc_runtime::proto::decode_json::<Ratio>("0.25").unwrap_err();
    assert!(err.contains("0.25"), "{err}");
    // The proto keeps its version and ids.
    assert!(oddities::TSRPC_PROTO.starts_with("{\n    \"version\": 12,"));
    let runtime = oddities::service_proto();
    let mut apis: Vec<&str> = runtime.api_names().collect();
    apis.sort_unstable();
    assert_eq!(apis, ["Login", "my-room/GetHTTPData"]);
}

/// TSRPC's per-API `conf` (`export const conf = { needLogin: true }`) reaches the service
/// proto and, through it, the server's flows: a `pre_api_call` flow refuses the APIs whose
/// conf asks for a login, the others run. In JSON and in binary mode (the flow sees the binary
/// request as JSON).
async fn a_flow_reads_the_conf_of_the_called_api(json: bool) {
    use kitchen::{ReqGetProfile, ReqLogin, ResGetProfile, ResLogin};
    use rpc_runtime::proto::ServiceKind;
    use rpc_runtime::TsrpcError;
    let proto = kitchen::service_proto();
    let conf = |name: &str| {
        proto
            .find(name, ServiceKind::Api)
            .and_then(|d| d.conf())
            .map(ToString::to_string)
    };
    // The confs are the proto's, key order aside.
    assert_eq!(conf("GetProfile").as_deref(), Some(r#"{"needLogin":true}"#));
    assert_eq!(
        conf("Login").as_deref(),
        Some(r#"{"needLogin":false,"rateLimit":10}"#)
    );
    assert_eq!(conf("shop/ListItems"), None);

    let login: ResLogin = serde_json::from_str(&vector_json("PtlLogin/ResLogin").unwrap()).unwrap();
    let profile: ResGetProfile =
        serde_json::from_str(&vector_json("PtlGetProfile/ResGetProfile").unwrap()).unwrap();
    // A server of two APIs (the whole service would need a handler for each), their entries
    // as the generated proto has them.
    let two = ["Login", "GetProfile"]
        .into_iter()
        .filter_map(|n| proto.find(n, ServiceKind::Api).cloned())
        .fold(proto_of_kitchen(), |p, d| p.with(d));
    assert_eq!(two.services.len(), 2);
    let server = Server::ws(two, any_port(), ServerOptions::default())
        .implement_api(move |_: ApiCall<ReqLogin>| {
            let login = login.clone();
            async move { Ok(login) }
        })
        .implement_api(move |_: ApiCall<ReqGetProfile>| {
            let profile = profile.clone();
            async move { Ok(profile) }
        })
        .start()
        .await
        .unwrap();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen_by_flow = seen.clone();
    server.flows().pre_api_call.push(move |mut ev| {
        seen_by_flow.lock().unwrap().push(ev.req.clone());
        let need_login = ev
            .conf
            .as_ref()
            .and_then(|c| c["needLogin"].as_bool())
            .unwrap_or(false);
        if need_login {
            ev.ret = Some(Err(TsrpcError::api("Need login").with_code("NEED_LOGIN")));
        }
        Some(ev)
    });
    let options = WsClientOptions::default()
        .proto(&proto_of_kitchen())
        .json(json);
    let client = WsClient::new(server.url(), options);
    within(5, "connect", client.connect()).await.unwrap();
    assert_eq!(client.is_json(), json);
    let login_json = r#"{"account":"ada@example.com","platform":"steam","clientVersion":[1,4,2],"rememberMe":true}"#;
    let req: ReqLogin = serde_json::from_str(login_json).unwrap();
    // `Login` says `needLogin: false`: it runs.
    within(5, "login", client.call_api(req)).await.unwrap();
    let login_value: serde_json::Value = serde_json::from_str(login_json).unwrap();
    assert_eq!(seen.lock().unwrap()[0], login_value);
    // `GetProfile` says `needLogin: true`: refused before its handler.
    let req: ReqGetProfile = serde_json::from_str(r#"{"userId":7}"#).unwrap();
    let err = within(5, "profile", client.call_api(req))
        .await
        .unwrap_err();
    assert_eq!(err.message, "Need login");
    client.disconnect().await;
    server.stop().await;
}
rpc_tests::both_modes!(a_flow_reads_the_conf_of_the_called_api);

/// The JSON of the first golden vector of type `ty`.
fn vector_json(ty: &str) -> Option<String> {
    let vectors: Vectors = serde_json::from_str(VECTORS).unwrap();
    vectors
        .vectors
        .iter()
        .find(|v| v.r#type == ty)
        .and_then(|v| v.json)
        .map(|j| j.get().to_owned())
}
