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
//!   (`rpc-codegen/tests/fixtures/exports`), our static proto
//!   (`rpc_codegen::export::service_proto_json`) must equal tsrpc-cli's `types` exactly.
//!
//! Needs `node` and the npm packages of `tests/interop` (`scripts/test` installs them);
//! without them the tests fail, saying so. They are never skipped.

use std::path::{Path, PathBuf};
use std::process::Command;

use rpc_tests::node::{interop_dir, require_node};
use serde_json::{json, Map, Value};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// `tests/interop/node_modules/.bin/tsrpc-cli`, or a failure that says how to install it.
fn tsrpc_cli() -> PathBuf {
    require_node();
    let cli = interop_dir().join("node_modules/.bin/tsrpc-cli");
    assert!(
        cli.exists(),
        "{} is missing: the TypeScript export is checked with the real tsrpc-cli. Run \
         `scripts/test` (it runs `npm ci` in tests/interop), or `cd tests/interop && npm ci`.",
        cli.display()
    );
    cli
}

/// Exports `folder` (relative to the workspace) to `target/tmp/ts_export/<case>/protocols`,
/// runs `tsrpc-cli proto` on it and returns its proto, with our static proto.
fn export_and_compile(case: &str, folder: &str) -> (Value, Value) {
    let cli = tsrpc_cli();
    let root = workspace().join(folder);
    let model = rpc_codegen::export::load_folder(&root, folder, case)
        .unwrap_or_else(|d| panic!("loading {folder}:\n{d}"));
    let files = rpc_codegen::export::typescript(&model)
        .unwrap_or_else(|d| panic!("exporting {folder}:\n{d}"));
    let ours: Value = serde_json::from_str(
        &rpc_codegen::export::service_proto_json(&model).expect("the proto exports too"),
    )
    .expect("our proto is JSON");

    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("ts_export")
        .join(case);
    let _ = std::fs::remove_dir_all(&dir);
    let protocols = dir.join("protocols");
    rpc_codegen::export::write_files(&protocols, &files).expect("writing the TypeScript files");
    // The files import `tsrpc-proto`: TypeScript resolves it from a `node_modules` above them.
    let modules = interop_dir().join("node_modules");
    #[cfg(unix)]
    std::os::unix::fs::symlink(&modules, dir.join("node_modules")).expect("linking node_modules");
    #[cfg(windows)]
    std::os::windows::fs::symlink_dir(&modules, dir.join("node_modules"))
        .expect("linking node_modules");

    let out = Command::new(&cli)
        .args(["proto", "-i", "protocols", "-o", "serviceProto.json"])
        .current_dir(&dir)
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", cli.display()));
    let proto_path = dir.join("serviceProto.json");
    assert!(
        out.status.success() && proto_path.is_file(),
        "tsrpc-cli proto failed on the exported files of {folder} ({}), in {}:\nstdout:\n{}\nstderr:\n{}",
        out.status,
        protocols.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&proto_path).expect("reading tsrpc-cli's output");
    let theirs = serde_json::from_str(&text).expect("tsrpc-cli writes JSON");
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
    let (theirs, ours) = export_and_compile("chat", "protocols/src/chat");
    let reference: Value = serde_json::from_str(
        &std::fs::read_to_string(interop_dir().join("protocols/serviceProto.json"))
            .expect("reading tests/interop/protocols/serviceProto.json"),
    )
    .expect("the reference proto is JSON");

    let expected = services(&reference);
    assert_eq!(services(&theirs), expected, "services compiled from our TS");
    assert_eq!(services(&ours), expected, "services of our static proto");
    assert_eq!(expected.len(), 13);

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
    assert_eq!(compared, 7 * 2 + 6);
    // Our static proto says exactly what tsrpc-cli says about our files.
    assert_eq!(ours["types"], theirs["types"]);
}

#[test]
fn every_mapping_compiles_and_matches_the_static_proto() {
    let (theirs, ours) = export_and_compile("exports", "rpc-codegen/tests/fixtures/exports");
    assert_eq!(services(&theirs), services(&ours));
    assert_eq!(ours["types"], theirs["types"]);
}
