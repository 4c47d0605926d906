//! The `rpc-codegen` binary: its commands and exit codes.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rpc-codegen"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the binary runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

const CHAT: &str = "../protocols/src/chat";

#[test]
fn check() {
    let ok = run(&["check", CHAT]);
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok.stderr));
    assert_eq!(text(&ok.stdout), "ok: service `chat`, 8 APIs, 6 messages\n");

    let broken = run(&["check", "tests/fixtures/broken"]);
    assert_eq!(broken.status.code(), Some(1));
    let err = text(&broken.stderr);
    assert!(err.contains("error: tests/fixtures/broken/ptl_login.rs:1:12: API `Login` has `ReqLogin` but no `ResLogin`"), "{err}");
    assert!(err.ends_with("6 errors found\n"), "{err}");

    // The macro's rules pass; the TypeScript export does not.
    let unexportable = run(&["check", "tests/fixtures/no-typescript"]);
    assert_eq!(unexportable.status.code(), Some(1));
    let err = text(&unexportable.stderr);
    assert!(
        err.starts_with(
            "note: the service macro accepts `tests/fixtures/no-typescript`; the TypeScript \
             export does not:\nerror: tests/fixtures/no-typescript/ptl_big.rs:4:9: type `u128` \
             has no TypeScript form"
        ),
        "{err}"
    );
}

#[test]
fn check_names_the_service_like_the_macro() {
    // The service trait is named after the service: `chat` by default (the folder's name),
    // `ChatService` clashes with nothing; as service `lobby`, the folder's own `LobbyService`
    // would be hidden by the generated trait.
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cli-name/chat");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("shared.rs"), "pub struct LobbyService {}\n").unwrap();
    let folder = dir.to_str().unwrap();
    let ok = run(&["check", folder]);
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok.stderr));
    assert_eq!(text(&ok.stdout), "ok: service `chat`, 0 APIs, 0 messages\n");
    let clash = run(&["check", "--name", "lobby", folder]);
    assert_eq!(clash.status.code(), Some(1));
    let err = text(&clash.stderr);
    assert!(
        err.starts_with(&format!(
            "error: {folder}/shared.rs:1:12: struct `LobbyService` has the name of the service \
             trait (one handler per API) that the service macro generates in `lobby`"
        )),
        "{err}"
    );
    assert_eq!(run(&["check", folder, "--name"]).status.code(), Some(2));
}

#[test]
fn ts_writes_the_files() {
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cli-ts");
    let _ = std::fs::remove_dir_all(&out);
    let res = run(&["ts", CHAT, out.to_str().unwrap()]);
    assert_eq!(res.status.code(), Some(0), "{}", text(&res.stderr));
    // 14 protocol files and serviceProto.ts.
    assert_eq!(text(&res.stdout).lines().count(), 15);
    let proto = std::fs::read_to_string(out.join("serviceProto.ts")).unwrap();
    assert!(
        // tsrpc-cli's order: glob's, `game/` before `MsgChat.ts`.
        proto.starts_with("import { ServiceProto } from 'tsrpc-proto';\nimport { MsgGameFrame } from './game/MsgGameFrame';"),
        "{proto}"
    );
    let join = std::fs::read_to_string(out.join("room/MsgUserJoin.ts")).unwrap();
    assert!(
        join.contains("export interface MsgUserJoin {\n    roomId: string;"),
        "{join}"
    );
    assert!(Path::new(&out.join("PtlLogin.ts")).is_file());
}

#[test]
fn ts_removes_what_a_gone_protocol_left() {
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cli-ts-stale");
    let _ = std::fs::remove_dir_all(&out);
    // An earlier run's file for a protocol since removed, in a folder of its own; a file this
    // tool did not write; and one it did, which stays.
    std::fs::create_dir_all(out.join("old")).unwrap();
    let marker = rpc_codegen::export::GENERATED_MARKER;
    std::fs::write(
        out.join("old/MsgGone.ts"),
        format!("{marker}\nexport interface MsgGone {{}}\n"),
    )
    .unwrap();
    std::fs::write(
        out.join("serviceProto.ts"),
        "export const serviceProto = {};\n",
    )
    .unwrap();
    std::fs::write(out.join("mine.ts"), format!("// {marker}\n")).unwrap();
    let res = run(&["ts", CHAT, out.to_str().unwrap()]);
    assert_eq!(res.status.code(), Some(0), "{}", text(&res.stderr));
    let stdout = text(&res.stdout);
    assert!(
        stdout.ends_with(&format!(
            "removed {}\n",
            out.join("old/MsgGone.ts").display()
        )),
        "{stdout}"
    );
    assert!(!out.join("old").exists(), "the emptied folder is removed");
    assert!(out.join("serviceProto.ts").is_file());
    assert!(out.join("mine.ts").is_file());
    // A second run writes the same files and removes nothing.
    let again = run(&["ts", CHAT, out.to_str().unwrap()]);
    assert!(
        !text(&again.stdout).contains("removed"),
        "{}",
        text(&again.stdout)
    );
    assert!(out.join("room/MsgUserJoin.ts").is_file());
}

#[test]
fn proto_prints_json() {
    let res = run(&["proto", CHAT]);
    assert_eq!(res.status.code(), Some(0), "{}", text(&res.stderr));
    let json = text(&res.stdout);
    // tsrpc-cli's `.json` layout, with the ids of the committed lock.
    let lock = std::fs::read_to_string(format!("{CHAT}.proto.json")).unwrap();
    assert_eq!(json, format!("{lock}\n"));
    // `version` 1: the folder changed once since its first lock (WhoAmI), as tsrpc-cli counts.
    assert!(
        json.starts_with("{\n  \"version\": 1,\n  \"services\": [\n"),
        "{json}"
    );
    assert!(json.contains("\"PtlLogin/ReqLogin\": {"));
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let dest = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &dest);
        } else {
            std::fs::copy(entry.path(), dest).unwrap();
        }
    }
}

/// A copy of a fixture folder under the test's temporary folder, as `<case>/svc`.
fn scratch(case: &str, fixture: &str) -> PathBuf {
    let root = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(case);
    let _ = std::fs::remove_dir_all(&root);
    let dir = root.join("svc");
    copy_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join(fixture), &dir);
    dir
}

#[test]
fn lock_writes_the_lock_and_ts_exports_its_ids() {
    let dir = scratch("cli-lock", "tests/fixtures/basic");
    let folder = dir.to_str().unwrap();
    let lock = dir.with_file_name("svc.proto.json");
    let first = run(&["lock", folder]);
    assert_eq!(first.status.code(), Some(0), "{}", text(&first.stderr));
    assert_eq!(text(&first.stdout), format!("{} created\n", lock.display()));
    let again = run(&["lock", folder]);
    assert_eq!(
        text(&again.stdout),
        format!("{} up to date\n", lock.display())
    );

    // A new message: the lock is updated, version 1; `ts` exports the lock's ids.
    std::fs::write(
        dir.join("msg_zed.rs"),
        "#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema)]\npub struct MsgZed { pub z: bool }\n",
    )
    .unwrap();
    let out = dir.with_file_name("ts");
    let ts = run(&["ts", folder, out.to_str().unwrap()]);
    assert_eq!(ts.status.code(), Some(0), "{}", text(&ts.stderr));
    assert_eq!(
        text(&ts.stderr),
        format!("{} updated, version 1\n", lock.display())
    );
    let locked = rpc_codegen::import::proto::ServiceProto::parse(
        &std::fs::read_to_string(&lock).unwrap(),
        "lock",
    )
    .unwrap();
    let exported = rpc_codegen::import::proto::ServiceProto::parse(
        &std::fs::read_to_string(out.join("serviceProto.ts")).unwrap(),
        "serviceProto.ts",
    )
    .unwrap();
    assert_eq!(exported, locked);
    assert_eq!(locked.version, Some(1));
    assert!(locked.services.iter().any(|s| s.name == "Zed"));
    let proto = run(&["proto", folder]);
    assert_eq!(
        text(&proto.stdout),
        format!("{}\n", std::fs::read_to_string(&lock).unwrap())
    );

    // A mistake: exit 1, the lock untouched.
    let before = std::fs::read_to_string(&lock).unwrap();
    std::fs::write(dir.join("msg_bad.rs"), "pub struct NotIt;\n").unwrap();
    let bad = run(&["lock", folder]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        text(&bad.stderr).contains("msg_bad.rs"),
        "{}",
        text(&bad.stderr)
    );
    assert_eq!(std::fs::read_to_string(&lock).unwrap(), before);
}

#[test]
fn usage() {
    for args in [
        &[][..],
        &["ts", CHAT][..],
        &["lock"][..],
        &["nope", "x"][..],
    ] {
        let res = run(args);
        assert_eq!(res.status.code(), Some(2), "{args:?}");
        assert!(text(&res.stderr).starts_with("usage:"));
    }
    assert_eq!(run(&["--help"]).status.code(), Some(0));
    assert_eq!(run(&["check", "no/such/folder"]).status.code(), Some(2));
    assert_eq!(run(&["lock", "no/such/folder"]).status.code(), Some(2));
}

/// The kitchen sink's and the interop service's protos (copies in the tests crate).
const KITCHEN_SINK: &str = "../tests/kitchen-sink/serviceProto.json";
const INTEROP: &str = "../tests/interop/protocols/serviceProto.ts";

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).expect("a JSON proto")
}

/// A proto's JSON from `serviceProto.ts` (the object literal after `=`) or a `.json` file.
fn proto_json(path: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).unwrap();
    let proto = rpc_codegen::import::proto::ServiceProto::parse(&text, path).unwrap();
    json(&rpc_codegen::lock::lock_text(&proto))
}

/// `schema` with every reference to a type the source proto lacks replaced by that type (the
/// Rust folder names the proto's inline object types and unions; tsbuffer encodes a reference
/// as its target, so both forms are the same on the wire). A type met again inside itself
/// stays a reference.
fn inline(
    schema: &serde_json::Value,
    types: &serde_json::Map<String, serde_json::Value>,
    keep: &dyn Fn(&str) -> bool,
    stack: &mut Vec<String>,
) -> serde_json::Value {
    use serde_json::Value;
    match schema {
        Value::Object(o) => {
            if o.get("type").and_then(Value::as_str) == Some("Reference") {
                let target = o["target"].as_str().unwrap_or_default().to_owned();
                if !keep(&target) && !stack.contains(&target) {
                    if let Some(t) = types.get(&target) {
                        stack.push(target);
                        let out = inline(t, types, keep, stack);
                        stack.pop();
                        return out;
                    }
                }
            }
            Value::Object(
                o.iter()
                    .map(|(k, v)| (k.clone(), inline(v, types, keep, stack)))
                    .collect(),
            )
        }
        Value::Array(a) => Value::Array(a.iter().map(|v| inline(v, types, keep, stack)).collect()),
        v => v.clone(),
    }
}

/// A type key as the Rust folder spells its file: `room/RoomTypes/Leaderboard.Entry` and
/// `room/room_types/LeaderboardEntry` are the same type.
fn loose_key(key: &str) -> String {
    key.chars()
        .filter(|c| !matches!(c, '_' | '.'))
        .flat_map(char::to_lowercase)
        .collect()
}

/// What `rpc-codegen proto` prints for the imported folder, compared with the source proto:
/// the services (names, kinds, ids, confs) must be equal; each source type is looked up by its loose
/// key and compared with the folder's helper types inlined. Returns the source types that
/// differ.
fn compare_protos(source: &serde_json::Value, folder: &str) -> Vec<String> {
    let out = run(&["proto", folder]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let exported = json(&text(&out.stdout));
    assert_eq!(
        exported["services"], source["services"],
        "the services keep their names, ids and confs"
    );
    let src = source["types"].as_object().unwrap();
    let ours = exported["types"].as_object().unwrap();
    let by_loose: std::collections::HashMap<String, &str> =
        ours.keys().map(|k| (loose_key(k), k.as_str())).collect();
    let known: std::collections::HashSet<String> = src.keys().map(|k| loose_key(k)).collect();
    let keep = |k: &str| known.contains(&loose_key(k));
    // References to the proto's own types compare by loose key too.
    let loosen = |v: serde_json::Value| -> String {
        let mut t = v.to_string();
        for k in ours.keys().chain(src.keys()) {
            t = t.replace(
                &format!("\"target\":\"{k}\""),
                &format!("\"target\":\"{}\"", loose_key(k)),
            );
        }
        t
    };
    let mut differ = Vec::new();
    for (key, schema) in src {
        let Some(ours_key) = by_loose.get(&loose_key(key)) else {
            differ.push(format!("{key} (not exported)"));
            continue;
        };
        let theirs = loosen(inline(schema, src, &|_| true, &mut Vec::new()));
        let mine = loosen(inline(&ours[*ours_key], ours, &keep, &mut Vec::new()));
        if theirs != mine {
            differ.push(key.clone());
        }
    }
    differ
}

fn scratch_dir(case: &str) -> PathBuf {
    let root = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(case);
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).unwrap();
    root
}

#[test]
fn import_writes_a_folder_that_checks_and_keeps_the_proto() {
    let root = scratch_dir("cli-import-interop");
    let folder = root.join("chat");
    let f = folder.to_str().unwrap();
    let done = run(&["import", INTEROP, f]);
    assert_eq!(done.status.code(), Some(0), "{}", text(&done.stderr));
    let listed = text(&done.stdout);
    // One file per Ptl/Msg, sub-folders kept, the lock last.
    assert!(listed.contains(&format!("{f}/ptl_login.rs\n")), "{listed}");
    assert!(
        listed.contains(&format!("{f}/room/msg_user_join.rs\n")),
        "{listed}"
    );
    assert!(listed.ends_with(&format!("{f}.proto.json\n")), "{listed}");
    let check = run(&["check", f]);
    assert_eq!(check.status.code(), Some(0), "{}", text(&check.stderr));
    assert_eq!(
        text(&check.stdout),
        "ok: service `chat`, 8 APIs, 6 messages\n"
    );
    // Every type of the interop proto comes back the same.
    let differ = compare_protos(&proto_json(INTEROP), f);
    assert!(differ.is_empty(), "{differ:?}");
}

#[test]
fn import_keeps_hand_edits() {
    let root = scratch_dir("cli-import-edits");
    let folder = root.join("chat");
    let f = folder.to_str().unwrap();
    assert_eq!(run(&["import", INTEROP, f]).status.code(), Some(0));
    // Importing again over the untouched files is fine.
    let again = run(&["import", INTEROP, f]);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again.stderr));
    // An edited file stops it, and nothing is written.
    let add = folder.join("ptl_add.rs");
    let edited = format!("{}// mine\n", std::fs::read_to_string(&add).unwrap());
    std::fs::write(&add, &edited).unwrap();
    let login = folder.join("ptl_login.rs");
    std::fs::remove_file(&login).unwrap();
    let refused = run(&["import", INTEROP, f]);
    assert_eq!(refused.status.code(), Some(1));
    let err = text(&refused.stderr);
    assert!(
        err.starts_with("error: 1 file was not written by the last import (edited by hand?)"),
        "{err}"
    );
    assert!(err.contains(&format!("\n  {f}/ptl_add.rs")), "{err}");
    assert!(!login.exists(), "nothing written");
    // --force overwrites.
    let forced = run(&["import", "--force", INTEROP, f]);
    assert_eq!(forced.status.code(), Some(0), "{}", text(&forced.stderr));
    assert_ne!(std::fs::read_to_string(&add).unwrap(), edited);
    assert!(login.exists());
    // A folder of someone else's files is not overwritten either.
    let other = root.join("other");
    std::fs::create_dir_all(&other).unwrap();
    std::fs::write(other.join("ptl_add.rs"), "pub struct Mine;\n").unwrap();
    let refused = run(&["import", INTEROP, other.to_str().unwrap()]);
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused.stderr));
}

/// What the exported proto spells differently from the kitchen sink's, with the same JSON on
/// the wire: TypeScript's type operators (the import resolves them to concrete types), enums
/// (unions of literals in Rust), `extends` (flattened) and `double` (`f64` exports as a plain
/// `number`). Every source type that differs must use one of them, refer to one that does, or
/// (not exported at all) be used by one that does or by none.
const RESOLVED_KINDS: [&str; 10] = [
    "\"double\"",
    "\"Enum\"",
    "\"IndexedAccess\"",
    "\"NonNullable\"",
    "\"Pick\"",
    "\"Omit\"",
    "\"Partial\"",
    "\"Overwrite\"",
    "\"Keyof\"",
    "\"extends\"",
];

#[test]
fn import_the_kitchen_sink() {
    let root = scratch_dir("cli-import-ks");
    let folder = root.join("ks");
    let f = folder.to_str().unwrap();
    // Without the flag the bigint fields are refused, each located, naming the flag.
    let refused = run(&["import", KITCHEN_SINK, f]);
    assert_eq!(refused.status.code(), Some(1));
    let err = text(&refused.stderr);
    assert!(
        err.starts_with(&format!(
            "error: {KITCHEN_SINK}:71:80: shop/ShopTypes/OnChainBalance.raw: `bigint` cannot be imported"
        )),
        "{err}"
    );
    assert!(err.contains("`--skip-unsupported` leaves it out"), "{err}");
    assert!(!folder.exists());

    let done = run(&["import", "--skip-unsupported", KITCHEN_SINK, f]);
    assert_eq!(done.status.code(), Some(0), "{}", text(&done.stderr));
    assert_eq!(text(&done.stderr).matches("note: left out ").count(), 3);
    let check = run(&["check", f]);
    assert_eq!(check.status.code(), Some(0), "{}", text(&check.stderr));
    let source = proto_json(KITCHEN_SINK);
    let differ = compare_protos(&source, f);
    let src = source["types"].as_object().unwrap();
    for key in &differ {
        // The three bigint fields left out.
        if key == "shop/ShopTypes/OnChainBalance" {
            continue;
        }
        let (key, gone) = match key.strip_suffix(" (not exported)") {
            Some(k) => (k, true),
            None => (key.as_str(), false),
        };
        let schema = src[key].to_string();
        let resolved = |s: &str| RESOLVED_KINDS.iter().any(|k| s.contains(k));
        let target = |k: &str| format!("\"target\":\"{k}\"");
        let ok = if gone {
            // Used by a resolved type only, or by none (an enum used as `RewardType.Gold`
            // is written as its literal; the export lists reachable types only).
            let users: Vec<String> = src
                .values()
                .map(ToString::to_string)
                .filter(|t| t.contains(&target(key)))
                .collect();
            users.iter().all(|t| resolved(t))
        } else {
            resolved(&schema)
                || src
                    .iter()
                    .filter(|(_, t)| resolved(&t.to_string()))
                    .any(|(k, _)| schema.contains(&target(k)))
        };
        assert!(ok, "{key} differs (gone: {gone}): {schema}");
    }
    // Types of every other kind come back the same, recursive ones and maps included.
    let same: Vec<&String> = src.keys().filter(|k| !differ.contains(k)).collect();
    for key in [
        "shop/ShopTypes/CategoryNode",
        "room/RoomTypes/PlayerState",
        "shop/ShopTypes/Wallet",
        "MsgChat/MsgChat",
    ] {
        assert!(same.iter().any(|k| *k == key), "{key}: {differ:?}");
    }
}

#[test]
fn a_conf_that_is_not_a_json_object_is_located() {
    let root = scratch_dir("cli-conf");
    let folder = root.join("svc");
    std::fs::create_dir_all(&folder).unwrap();
    let ptl = "pub struct ReqA {}\npub struct ResA {}\nconst CONF: &str = \"[1]\";\n";
    std::fs::write(folder.join("ptl_a.rs"), ptl).unwrap();
    let msg = "pub struct MsgB {}\nconst CONF: &str = \"{needLogin: true}\";\n";
    std::fs::write(folder.join("msg_b.rs"), msg).unwrap();
    let f = folder.to_str().unwrap();
    let out = run(&["check", f]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains(&format!(
            "error: {f}/ptl_a.rs:3:7: `CONF` must be a JSON object, as TSRPC's `conf` is"
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!("error: {f}/msg_b.rs:2:7: `CONF` is not JSON (")),
        "{err}"
    );
    // A JSON object is the service's conf in its proto.
    std::fs::write(
        folder.join("ptl_a.rs"),
        ptl.replace("[1]", "{\\\"needLogin\\\":true}"),
    )
    .unwrap();
    std::fs::write(folder.join("msg_b.rs"), "pub struct MsgB {}\n").unwrap();
    let out = run(&["proto", f]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let proto = json(&text(&out.stdout));
    assert_eq!(
        proto["services"][1]["conf"],
        serde_json::json!({"needLogin": true})
    );
    assert_eq!(proto["services"][0].get("conf"), None);
    // And the TypeScript export writes it where tsrpc-cli reads it.
    let ts = root.join("ts");
    let out = run(&["ts", f, ts.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let ptl = std::fs::read_to_string(ts.join("PtlA.ts")).unwrap();
    assert!(
        ptl.ends_with("\nexport const conf = {\"needLogin\":true};\n"),
        "{ptl}"
    );
    let msg = std::fs::read_to_string(ts.join("MsgB.ts")).unwrap();
    assert!(!msg.contains("conf"), "{msg}");
}
