//! The TypeScript export against the real tsrpc-cli 2.4.5 (`tests/interop/node_modules`).
//!
//! `rpc_codegen::export::typescript` writes the TypeScript protocol files of a Rust protocol
//! folder into a folder under `target/tmp`; the real `tsrpc-cli proto` compiles them into a
//! serviceProto. Then:
//!
//! * for `protocols/src/chat`, that proto must describe the same services (names, kinds) and
//!   the same types (every interface's properties: names, optional flags, types) as
//!   `tests/interop/protocols/serviceProto.json`, the proto of the hand-written TypeScript
//!   reference files. Ids, service order and where a type is declared legitimately differ: our
//!   helper structs are named interfaces (`Reference`s), the reference inlines type literals,
//!   so references are resolved before comparing.
//! * for the chat service and for the fixture that uses every mapping
//!   (`rpc-codegen/tests/fixtures/exports`), our proto (`rpc_codegen::export::service_proto`,
//!   fresh ids) must be tsrpc-cli's first generation byte for byte: the same services in the
//!   same order with the same ids, the same types in the same order. (`proto_lock.rs` checks
//!   the ids a lock keeps.)
//!
//! Needs `node` and the npm packages of `tests/interop` (`scripts/test` installs them);
//! without them the tests fail, saying so. They are never skipped.

use std::path::{Path, PathBuf};

use rpc_codegen::import::proto::Layout;
use rpc_tests::node::interop_dir;
use rpc_tests::tsrpc_cli;
use serde_json::{json, Map, Value};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// Exports `folder` (relative to the workspace) to `target/tmp/ts_export/<case>/protocols`,
/// runs `tsrpc-cli proto` on it (no old proto) and returns its proto and ours, as text.
fn export_and_compile(case: &str, folder: &str) -> (String, String) {
    let root = workspace().join(folder);
    let model = rpc_codegen::export::load_folder(&root, folder, case)
        .unwrap_or_else(|d| panic!("loading {folder}:\n{d}"));
    let files = rpc_codegen::export::typescript(&model)
        .unwrap_or_else(|d| panic!("exporting {folder}:\n{d}"));
    let ours = rpc_codegen::export::service_proto(&model)
        .expect("the proto exports too")
        .to_json_text(Layout::Indent(2));

    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("ts_export")
        .join(case);
    let _ = std::fs::remove_dir_all(&dir);
    let protocols = dir.join("protocols");
    rpc_codegen::export::write_files(&protocols, &files).expect("writing the TypeScript files");
    tsrpc_cli::link_node_modules(&dir);
    tsrpc_cli::proto(&dir, &["-i", "protocols", "-o", "serviceProto.json"]);
    let proto_path = dir.join("serviceProto.json");
    let theirs = std::fs::read_to_string(&proto_path).expect("reading tsrpc-cli's output");
    (theirs, ours)
}

/// The services as sorted `(name, type)` pairs.
fn services(proto: &Value) -> Vec<(String, String)> {
    let mut list: Vec<(String, String)> = proto["services"]
        .as_array()
        .expect("services")
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap_or_default().to_owned(),
                s["type"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    list.sort();
    list
}

/// The schema ids of a service's types, as the runtime derives them from its name
/// (TSRPC-WIRE.md c.6): `dir/PtlName/ReqName` + `ResName`, or `dir/MsgName/MsgName`.
fn schema_ids(name: &str, kind: &str) -> Vec<String> {
    let (dir, base) = match name.rsplit_once('/') {
        Some((d, b)) => (format!("{d}/"), b),
        None => (String::new(), name),
    };
    match kind {
        "api" => vec![
            format!("{dir}Ptl{base}/Req{base}"),
            format!("{dir}Ptl{base}/Res{base}"),
        ],
        _ => vec![format!("{dir}Msg{base}/Msg{base}")],
    }
}

/// A schema with references resolved and ids dropped: what the type means, not where its
/// parts are declared. Property order is kept (it is the declaration order on both sides).
fn meaning(types: &Value, schema: &Value, at: &str) -> Value {
    let Some(obj) = schema.as_object() else {
        panic!("{at}: not a schema: {schema}");
    };
    let kind = obj.get("type").and_then(Value::as_str).unwrap_or_default();
    if kind == "Reference" {
        let target = obj["target"].as_str().unwrap_or_default();
        let resolved = types
            .get(target)
            .unwrap_or_else(|| panic!("{at}: reference to a missing type {target}"));
        return meaning(types, resolved, &format!("{at} -> {target}"));
    }
    let mut out = Map::new();
    for (k, v) in obj {
        let v = match k.as_str() {
            "properties" => Value::Array(
                v.as_array()
                    .expect("properties")
                    .iter()
                    .map(|p| {
                        let name = p["name"].as_str().unwrap_or_default();
                        json!({
                            "name": name,
                            "optional": p.get("optional") == Some(&json!(true)),
                            "type": meaning(types, &p["type"], &format!("{at}.{name}")),
                        })
                    })
                    .collect(),
            ),
            "members" | "extends" => Value::Array(
                v.as_array()
                    .expect("members")
                    .iter()
                    .map(|m| meaning(types, &m["type"], at))
                    .collect(),
            ),
            "elementType" => meaning(types, v, &format!("{at}[]")),
            "elementTypes" => Value::Array(
                v.as_array()
                    .expect("elementTypes")
                    .iter()
                    .map(|e| meaning(types, e, at))
                    .collect(),
            ),
            "indexSignature" => json!({
                "keyType": v["keyType"],
                "type": meaning(types, &v["type"], &format!("{at}[key]")),
            }),
            _ => v.clone(),
        };
        out.insert(k.clone(), v);
    }
    Value::Object(out)
}

#[test]
fn chat_export_compiles_to_the_reference_proto() {
    let (theirs_text, ours_text) = export_and_compile("chat", "protocols/src/chat");
    // Our proto is tsrpc-cli's, byte for byte.
    assert_eq!(ours_text, theirs_text);
    let theirs: Value = serde_json::from_str(&theirs_text).expect("tsrpc-cli writes JSON");
    let reference: Value = serde_json::from_str(
        &std::fs::read_to_string(interop_dir().join("protocols/serviceProto.json"))
            .expect("reading tests/interop/protocols/serviceProto.json"),
    )
    .expect("the reference proto is JSON");

    let expected = services(&reference);
    assert_eq!(services(&theirs), expected, "services compiled from our TS");
    assert_eq!(
        expected.len(),
        14,
        "the reference's 13 and WhoAmI (needLogin)"
    );

    let mut compared = 0;
    for (name, kind) in &expected {
        for id in schema_ids(name, kind) {
            let want = reference["types"]
                .get(&id)
                .unwrap_or_else(|| panic!("the reference proto has no {id}"));
            let got = theirs["types"]
                .get(&id)
                .unwrap_or_else(|| panic!("tsrpc-cli found no {id} in our TS"));
            assert_eq!(
                meaning(&theirs["types"], got, &id),
                meaning(&reference["types"], want, &id),
                "{id}: our TS (left) means something else than the reference (right)"
            );
            compared += 1;
        }
    }
    // 8 APIs (request and response each), 6 messages.
    assert_eq!(compared, 8 * 2 + 6);
}

#[test]
fn every_mapping_compiles_to_our_proto() {
    let (theirs, ours) = export_and_compile("exports", "rpc-codegen/tests/fixtures/exports");
    assert_eq!(ours, theirs);
}
