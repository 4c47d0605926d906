//! The proto lock (issue 13 part 2) against the real tsrpc-cli 2.4.5 (`tests/interop`).
//!
//! * Lock stability: a Rust protocol folder in a temporary folder goes through steps that
//!   add, remove, reorder and rename fields, enum variants and protocols. After each step our
//!   lock (`rpc_codegen::lock::update`, what `watch` runs in build.rs) must give the ids that
//!   `tsrpc-cli proto` gives the TypeScript twin (exported by `rpc_codegen::export`, as
//!   `rpc-codegen ts` does) with its own previous proto as the old one: the `serviceProto.ts`
//!   we would write and the one tsrpc-cli writes are compared byte for byte (services, ids,
//!   types, version).
//! * Round trip: `protocols/src/chat` (with its committed lock) and the export fixture (no
//!   lock: fresh ids) -> TypeScript files + our `serviceProto.ts` -> `tsrpc-cli proto` with
//!   ours as the compatible proto -> the same file, and the importer reads back the same proto.
//!
//! Needs `node` and the npm packages of `tests/interop` (`scripts/test` installs them).

use std::path::{Path, PathBuf};

use rpc_codegen::import::proto::{Layout, SchemaKind, ServiceProto};
use rpc_codegen::lock::{self, Status};
use rpc_tests::tsrpc_cli;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// Writes the TypeScript files of the protocol folder `root` under `out`.
fn export_ts(root: &Path, display: &str, out: &Path) {
    let model = rpc_codegen::export::load_folder(root, display, "svc")
        .unwrap_or_else(|d| panic!("loading {display}:\n{d}"));
    let files =
        rpc_codegen::export::typescript(&model).unwrap_or_else(|d| panic!("exporting:\n{d}"));
    rpc_codegen::export::write_files(out, &files).expect("writing the TypeScript files");
}

/// A Rust protocol folder `<tmp>/proto_lock/<case>/rust/svc` and its TypeScript twin
/// `<..>/ts/protocols`, with tsrpc-cli's proto in `<..>/ts/out/serviceProto.ts`.
struct Twin {
    dir: PathBuf,
    step: usize,
}

impl Twin {
    fn new(case: &str) -> Twin {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join("proto_lock")
            .join(case);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("rust/svc")).unwrap();
        tsrpc_cli::link_node_modules(&dir.join("ts"));
        Twin { dir, step: 0 }
    }

    /// Applies `edits` (a file's new text, or `None` to remove it) to the Rust folder, updates
    /// our lock, exports the twin, runs tsrpc-cli on it and checks both agree. Returns our
    /// proto.
    fn step(&mut self, edits: &[(&str, Option<&str>)]) -> ServiceProto {
        let rust = self.dir.join("rust/svc");
        for (file, text) in edits {
            let path = rust.join(file);
            match text {
                Some(text) => {
                    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                    std::fs::write(&path, text).unwrap();
                }
                None => std::fs::remove_file(&path).unwrap(),
            }
        }
        let locked = lock::update(&rust, "svc").unwrap_or_else(|e| panic!("our lock: {e}"));
        let expected_status = if self.step == 0 {
            Status::Created
        } else {
            Status::Updated
        };
        assert_eq!(locked.status, expected_status, "step {}", self.step);

        let ts = self.dir.join("ts");
        export_ts(&rust, "svc", &ts.join("protocols"));
        // The old proto is tsrpc-cli's own previous output (`-o` is also the default `-c`).
        tsrpc_cli::proto(&ts, &["-i", "protocols", "-o", "out/serviceProto.ts"]);
        let theirs = std::fs::read_to_string(ts.join("out/serviceProto.ts")).unwrap();
        let ours = locked.proto.to_ts("../protocols");
        assert_eq!(
            ours, theirs,
            "step {}: our lock (left) and tsrpc-cli (right) disagree",
            self.step
        );
        self.step += 1;
        locked.proto
    }
}

/// `(id, name)` of every service.
fn services(p: &ServiceProto) -> Vec<(u32, String)> {
    p.services.iter().map(|s| (s.id, s.name.clone())).collect()
}

/// `(id, name)` of every property of interface `ty`.
fn props(p: &ServiceProto, ty: &str) -> Vec<(u32, String)> {
    match p.get(ty).map(|s| &s.kind) {
        Some(SchemaKind::Interface(i)) => i
            .properties
            .iter()
            .flatten()
            .map(|p| (p.id, p.name.clone()))
            .collect(),
        other => panic!("{ty} is not an interface: {other:?}"),
    }
}

/// `(id, literal)` of every member of the string-literal union `ty`.
fn literals(p: &ServiceProto, ty: &str) -> Vec<(u32, String)> {
    let Some(SchemaKind::Union { members }) = p.get(ty).map(|s| &s.kind) else {
        panic!("{ty} is not a union");
    };
    members
        .iter()
        .map(|m| {
            let text = m.ty.to_json().to_text(Layout::Compact);
            (m.id, text)
        })
        .collect()
}

fn pairs(list: &[(u32, &str)]) -> Vec<(u32, String)> {
    list.iter().map(|(i, s)| (*i, (*s).to_owned())).collect()
}

const HEAD: &str = "use schemars::JsonSchema;\nuse serde::{Deserialize, Serialize};\n";

fn file(body: &str) -> String {
    format!("{HEAD}{body}")
}

#[test]
fn lock_ids_follow_tsrpc_cli_through_edits() {
    let mut twin = Twin::new("stability");
    let login = |req: &str, role: &str| {
        file(&format!(
            "#[derive(Serialize, Deserialize, JsonSchema)]\npub struct ReqLogin {{ {req} }}\n\
             #[derive(Serialize, Deserialize, JsonSchema)]\npub struct ResLogin {{ pub token: String, pub roles: Vec<Role> }}\n\
             #[derive(Serialize, Deserialize, JsonSchema)]\npub enum Role {{ {role} }}\n"
        ))
    };
    let chat = file(
        "#[derive(Serialize, Deserialize, JsonSchema)]\npub struct MsgChat { pub text: String, pub time: f64 }\n",
    );
    let join = |fields: &str| {
        file(&format!(
            "#[derive(Serialize, Deserialize, JsonSchema)]\npub struct MsgJoin {{ {fields} }}\n\
             #[derive(Serialize, Deserialize, JsonSchema)]\npub struct Point {{ pub x: f64, pub y: f64 }}\n"
        ))
    };
    let calc = |name: &str| {
        file(&format!(
            "#[derive(Serialize, Deserialize, JsonSchema)]\npub struct Req{name} {{ pub a: f64, pub b: f64 }}\n\
             #[derive(Serialize, Deserialize, JsonSchema)]\npub struct Res{name} {{ pub c: f64 }}\n"
        ))
    };
    let event = |moved: &str| {
        file(&format!(
            "#[derive(Serialize, Deserialize, JsonSchema)]\n#[serde(tag = \"kind\")]\npub enum MsgEvent {{ Start, Move {{ {moved} }}, Stop {{ pub why: String }} }}\n"
        ))
    };
    let otp = "#[serde(skip_serializing_if = \"Option::is_none\")] pub otp: Option<String>";

    // 0: the first generation.
    let p = twin.step(&[
        (
            "ptl_login.rs",
            Some(&login("pub user: String, pub pass: String", "Admin, Guest")),
        ),
        ("msg_chat.rs", Some(&chat)),
        (
            "room/msg_join.rs",
            Some(&join("pub room: String, pub who: u32")),
        ),
    ]);
    assert_eq!(
        services(&p),
        pairs(&[(0, "Chat"), (1, "Login"), (2, "room/Join")])
    );
    assert_eq!(p.version, None);

    // 1: added: a field, an enum variant, an API.
    let p = twin.step(&[
        (
            "ptl_login.rs",
            Some(&login(
                &format!("pub user: String, pub pass: String, {otp}"),
                "Admin, Guest, Owner",
            )),
        ),
        ("ptl_add.rs", Some(&calc("Add"))),
    ]);
    assert_eq!(
        services(&p),
        pairs(&[(0, "Chat"), (3, "Add"), (1, "Login"), (2, "room/Join")])
    );
    assert_eq!(p.version, Some(1));

    // 2: removed: a field, an enum variant, a message.
    let p = twin.step(&[
        (
            "ptl_login.rs",
            Some(&login(&format!("pub user: String, {otp}"), "Admin, Owner")),
        ),
        ("msg_chat.rs", None),
    ]);
    assert_eq!(
        props(&p, "PtlLogin/ReqLogin"),
        pairs(&[(0, "user"), (2, "otp")])
    );
    assert_eq!(
        literals(&p, "PtlLogin/Role"),
        pairs(&[
            (0, r#"{"type":"Literal","literal":"Admin"}"#),
            (2, r#"{"type":"Literal","literal":"Owner"}"#)
        ])
    );

    // 3: reordered and renamed: fields, variants, an API (`Add` -> `Sum`: a new service).
    let p = twin.step(&[
        (
            "ptl_login.rs",
            Some(&login(&format!("{otp}, pub name: String"), "Owner, Admin")),
        ),
        ("ptl_add.rs", None),
        ("ptl_sum.rs", Some(&calc("Sum"))),
        (
            "room/msg_join.rs",
            Some(&join("pub who: u32, pub room: String")),
        ),
    ]);
    assert_eq!(
        props(&p, "PtlLogin/ReqLogin"),
        pairs(&[(2, "otp"), (3, "name")])
    );
    assert_eq!(
        services(&p),
        pairs(&[(1, "Login"), (4, "Sum"), (2, "room/Join")])
    );

    // 4: a removed message comes back (a new id) with a tagged enum message and a helper type.
    let p = twin.step(&[
        ("msg_chat.rs", Some(&chat)),
        ("msg_event.rs", Some(&event("dx: i32, dy: i32"))),
        (
            "room/msg_join.rs",
            Some(&join("pub who: u32, pub room: String, pub at: Vec<Point>")),
        ),
    ]);
    assert_eq!(
        services(&p),
        pairs(&[
            (5, "Chat"),
            (6, "Event"),
            (1, "Login"),
            (4, "Sum"),
            (2, "room/Join")
        ])
    );

    // 5: a variant's fields change (its member of the union gets a new id, as in tsrpc-cli),
    // a helper type loses a field.
    let p = twin.step(&[
        ("msg_event.rs", Some(&event("dy: i32, dz: i32"))),
        (
            "room/msg_join.rs",
            Some(&file(
                "#[derive(Serialize, Deserialize, JsonSchema)]\npub struct MsgJoin { pub who: u32, pub room: String, pub at: Vec<Point> }\n\
                 #[derive(Serialize, Deserialize, JsonSchema)]\npub struct Point { pub y: f64 }\n",
            )),
        ),
    ]);
    assert_eq!(props(&p, "room/MsgJoin/Point"), pairs(&[(1, "y")]));
    let Some(SchemaKind::Union { members }) = p.get("MsgEvent/MsgEvent").map(|s| &s.kind) else {
        panic!("MsgEvent is a union");
    };
    let ids: Vec<u32> = members.iter().map(|m| m.id).collect();
    assert_eq!(ids, [0, 3, 2]);
    assert_eq!(p.version, Some(5));
}

#[test]
fn chat_and_the_export_fixture_round_trip_through_tsrpc_cli() {
    for (case, folder) in [
        ("chat", "protocols/src/chat"),
        ("exports", "rpc-codegen/tests/fixtures/exports"),
    ] {
        let root = workspace().join(folder);
        let locked = lock::locked(&root, folder).unwrap_or_else(|e| panic!("{folder}: {e}"));
        if case == "chat" {
            assert_eq!(
                locked.status,
                Status::Unchanged,
                "protocols/src/chat.proto.json is not current: run `rpc-codegen lock protocols/src/chat`"
            );
        } else {
            // No lock next to the fixture: the proto has fresh ids.
            assert_eq!(locked.status, Status::Created);
        }
        // What `rpc-codegen ts` writes: the TypeScript files and serviceProto.ts.
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join("proto_lock")
            .join(case);
        let _ = std::fs::remove_dir_all(&dir);
        let protocols = dir.join("protocols");
        export_ts(&root, folder, &protocols);
        let ours = locked.proto.to_ts("");
        std::fs::write(protocols.join("serviceProto.ts"), &ours).unwrap();
        tsrpc_cli::link_node_modules(&dir);
        tsrpc_cli::proto(
            &dir,
            &[
                "-i",
                "protocols",
                "-c",
                "protocols/serviceProto.ts",
                "-o",
                "protocols/theirs.ts",
            ],
        );
        let theirs = std::fs::read_to_string(protocols.join("theirs.ts")).unwrap();
        assert_eq!(ours, theirs, "{folder}: ours (left), tsrpc-cli's (right)");
        // Imported back: the same services, ids and types.
        assert_eq!(
            ServiceProto::parse(&theirs, "theirs.ts").unwrap(),
            locked.proto,
            "{folder}"
        );
    }
}

#[test]
fn the_generated_service_proto_carries_the_committed_lock() {
    for (lock_text, proto) in [
        (
            include_str!("../../protocols/src/chat.proto.json"),
            protocols::chat::service_proto(),
        ),
        (
            include_str!("../../protocols/src/bench.proto.json"),
            protocols::bench::service_proto(),
        ),
    ] {
        // The lock's text itself, for binary mode's schemas.
        assert_eq!(proto.tsrpc_proto, Some(lock_text), "{}", proto.name);
        let lock = ServiceProto::parse(lock_text, "lock").unwrap();
        assert_eq!(proto.services.len(), lock.services.len());
        for s in &lock.services {
            let kind = match s.kind {
                rpc_codegen::import::proto::ServiceKind::Api => {
                    rpc_runtime::proto::ServiceKind::Api
                }
                rpc_codegen::import::proto::ServiceKind::Msg => {
                    rpc_runtime::proto::ServiceKind::Msg
                }
            };
            let def = proto
                .find(&s.name, kind)
                .unwrap_or_else(|| panic!("{}: no {}", proto.name, s.name));
            assert_eq!(def.id, Some(s.id), "{}: {}", proto.name, s.name);
        }
    }
}

/// `protocols/src/chat` is the Rust twin of the TypeScript reference service
/// (`tests/interop/protocols`): its lock gives every service the id the reference's
/// tsrpc-cli proto gives it, and every property of the types both declare the same id, so the
/// two agree in binary mode.
#[test]
fn the_chat_lock_has_the_reference_services_ids() {
    let reference = ServiceProto::parse(
        &std::fs::read_to_string(workspace().join("tests/interop/protocols/serviceProto.json"))
            .unwrap(),
        "serviceProto.json",
    )
    .unwrap();
    let lock = ServiceProto::parse(
        include_str!("../../protocols/src/chat.proto.json"),
        "chat.proto.json",
    )
    .unwrap();
    let ids = |p: &ServiceProto| {
        let mut v: Vec<(u32, String, &str)> = p
            .services
            .iter()
            .map(|s| (s.id, s.name.clone(), s.kind.as_str()))
            .collect();
        v.sort();
        v
    };
    assert_eq!(ids(&lock), ids(&reference));
    let mut compared = 0;
    for (id, schema) in &reference.types {
        if let SchemaKind::Interface(_) = schema.kind {
            assert_eq!(props(&lock, id), props(&reference, id), "{id}");
            compared += 1;
        }
    }
    assert!(compared >= 20, "{compared}");
}
