//! The lock file on disk: where it goes, when it is written, and what the macro makes of it.

use std::path::{Path, PathBuf};

use super::*;

/// A protocol folder `<tmp>/<case>/svc` with `files`, and its lock path; removed on drop.
struct Folder {
    root: PathBuf,
    dir: PathBuf,
}

impl Folder {
    fn new(case: &str, files: &[(&str, &str)]) -> Folder {
        let root = std::env::temp_dir().join(format!("rpc-lock-{case}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let dir = root.join("svc");
        std::fs::create_dir_all(&dir).unwrap();
        let f = Folder { root, dir };
        f.write(files);
        f
    }

    fn write(&self, files: &[(&str, &str)]) {
        for (name, text) in files {
            std::fs::write(self.dir.join(name), text).unwrap();
        }
    }

    fn lock(&self) -> PathBuf {
        self.root.join("svc.proto.json")
    }

    fn model(&self) -> ServiceModel {
        let (model, problems) = crate::check_folder(&self.dir, "src/svc", "svc", &[], &[]);
        assert!(problems.0.is_empty(), "{problems}");
        model
    }
}

impl Drop for Folder {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

const MSG_A: &str = "#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema)]\npub struct MsgA { pub x: u32, pub y: String }\n";
const MSG_A_NO_X: &str = "#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema)]\npub struct MsgA { pub y: String, pub z: bool }\n";
const MSG_B: &str = "#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema)]\npub struct MsgB { pub b: f64 }\n";

#[test]
fn the_lock_sits_next_to_the_folder() {
    assert_eq!(
        lock_path(Path::new("src/chat")),
        Some(PathBuf::from("src/chat.proto.json"))
    );
    assert_eq!(
        lock_path(Path::new("src/chat/")),
        Some(PathBuf::from("src/chat.proto.json"))
    );
    assert_eq!(
        lock_path(Path::new("/a/b")),
        Some(PathBuf::from("/a/b.proto.json"))
    );
    assert_eq!(lock_path(Path::new(".")), None);
    assert_eq!(lock_path(Path::new("/")), None);
}

#[test]
fn update_writes_only_changes_and_keeps_ids() {
    let f = Folder::new("update", &[("msg_a.rs", MSG_A)]);
    let first = update(&f.dir, "svc").unwrap();
    assert_eq!(first.status, Status::Created);
    assert_eq!(first.proto.version, None);
    let text = std::fs::read_to_string(f.lock()).unwrap();
    assert_eq!(text, lock_text(&first.proto));
    assert!(
        text.starts_with("{\n  \"services\": [\n    {\n      \"id\": 0,"),
        "{text}"
    );

    // Nothing changed: not written (the modification time stays).
    let before = std::fs::metadata(f.lock()).unwrap().modified().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));
    assert_eq!(update(&f.dir, "svc").unwrap().status, Status::Unchanged);
    assert_eq!(
        std::fs::metadata(f.lock()).unwrap().modified().unwrap(),
        before
    );

    // `x` (0) removed, `z` added; a message added: `y` keeps 1, `z` gets 2.
    f.write(&[("msg_a.rs", MSG_A_NO_X), ("msg_b.rs", MSG_B)]);
    let second = update(&f.dir, "svc").unwrap();
    assert_eq!(second.status, Status::Updated);
    assert_eq!(second.previous.as_ref(), Some(&first.proto));
    assert_eq!(second.proto.version, Some(1));
    let a = second
        .proto
        .get("MsgA/MsgA")
        .unwrap()
        .to_json()
        .to_text(Layout::Compact);
    assert_eq!(
        a,
        r#"{"type":"Interface","properties":[{"id":1,"name":"y","type":{"type":"String"}},{"id":2,"name":"z","type":{"type":"Boolean"}}]}"#
    );
    let services: Vec<(u32, &str)> = second
        .proto
        .services
        .iter()
        .map(|s| (s.id, s.name.as_str()))
        .collect();
    assert_eq!(services, [(0, "A"), (1, "B")]);
    assert_eq!(read_lock(&f.lock()).unwrap(), Some(second.proto));
}

#[test]
fn folder_mistakes_leave_the_lock_alone() {
    let f = Folder::new("mistakes", &[("msg_a.rs", MSG_A)]);
    update(&f.dir, "svc").unwrap();
    let before = std::fs::read_to_string(f.lock()).unwrap();
    f.write(&[("msg_c.rs", "pub struct NotMsgC;\n")]);
    match update(&f.dir, "svc") {
        Err(LockError::Folder(d)) => assert!(d.to_string().contains("MsgC"), "{d}"),
        other => panic!("expected the folder's mistakes, got {other:?}"),
    }
    assert_eq!(std::fs::read_to_string(f.lock()).unwrap(), before);
}

#[test]
fn a_lock_that_is_not_a_proto_is_an_error_with_its_place() {
    let f = Folder::new("bad-lock", &[("msg_a.rs", MSG_A)]);
    std::fs::write(f.lock(), "{\n  \"services\": 3,\n  \"types\": {}\n}").unwrap();
    let err = update(&f.dir, "svc").unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("svc.proto.json:2:15: `services` should be an array"),
        "{text}"
    );
    let err = for_macro(&f.model()).unwrap_err();
    assert!(
        err.starts_with("the proto lock `src/svc.proto.json` is not a TSRPC service proto (src/svc.proto.json:2:15: "),
        "{err}"
    );
}

#[test]
fn the_macro_takes_a_current_lock_fresh_ids_without_one_and_refuses_a_stale_one() {
    let f = Folder::new("macro", &[("msg_a.rs", MSG_A)]);
    // No lock: fresh ids.
    let fresh = crate::export::service_proto(&f.model()).unwrap();
    assert_eq!(for_macro(&f.model()), Ok(MacroProto::Fresh(fresh)));

    // A current lock.
    let locked = update(&f.dir, "svc").unwrap();
    assert_eq!(
        for_macro(&f.model()),
        Ok(MacroProto::Lock {
            path: f.lock(),
            proto: locked.proto.clone()
        })
    );

    // The folder changes and nothing updates the lock.
    f.write(&[("msg_a.rs", MSG_A_NO_X), ("msg_b.rs", MSG_B)]);
    let err = for_macro(&f.model()).unwrap_err();
    assert_eq!(
        err,
        "the proto lock `src/svc.proto.json` is out of date with `src/svc` (message `B` is not in it; type `MsgA/MsgA` differs; type `MsgB/MsgB` is not in it): run `rpc-codegen lock src/svc` in the package's folder to update it, or call `rpc_codegen::watch(\"src/svc\")` from build.rs to keep it current"
    );
    update(&f.dir, "svc").unwrap();
    assert!(matches!(for_macro(&f.model()), Ok(MacroProto::Lock { .. })));

    // The lock is the authority on ids (as tsrpc-cli's old proto is), but a type edited by
    // hand no longer matches the folder.
    let text = std::fs::read_to_string(f.lock()).unwrap();
    // `MsgB.b` is the only number.
    let edited = text.replacen("\"Number\"", "\"String\"", 1);
    assert_ne!(edited, text);
    std::fs::write(f.lock(), edited).unwrap();
    let err = for_macro(&f.model()).unwrap_err();
    assert!(err.contains("(type `MsgB/MsgB` differs)"), "{err}");
}

#[test]
fn an_unexportable_folder_has_no_proto_without_a_lock_and_an_error_with_one() {
    let generic = "#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema)]\npub struct MsgG { pub x: u128 }\n";
    let f = Folder::new("unexportable", &[("msg_g.rs", generic)]);
    assert_eq!(for_macro(&f.model()), Ok(MacroProto::Unavailable));
    std::fs::write(f.lock(), r#"{"services":[],"types":{}}"#).unwrap();
    let err = for_macro(&f.model()).unwrap_err();
    assert!(
        err.starts_with("the proto lock `src/svc.proto.json` cannot be checked: the protocols have no TypeScript form, which the lock needs:\nerror: src/svc/msg_g.rs:"),
        "{err}"
    );
}

#[test]
fn differences_name_at_most_three() {
    let lock = ServiceProto::parse(
        r#"{"services":[{"id":0,"name":"Old","type":"api"}],"types":{"PtlOld/ReqOld":{"type":"Interface"},"PtlOld/ResOld":{"type":"Interface"}}}"#,
        "x",
    )
    .unwrap();
    let want = ServiceProto::parse(
        r#"{"version":1,"services":[{"id":1,"name":"New","type":"msg"}],"types":{"MsgNew/MsgNew":{"type":"Interface"}}}"#,
        "x",
    )
    .unwrap();
    assert_eq!(
        differences(&lock, &want),
        "message `New` is not in it; it has API `Old`, which is gone; type `MsgNew/MsgNew` is not in it; and 2 more"
    );
    let mut reordered = lock.clone();
    reordered.types.reverse();
    assert_eq!(
        differences(&lock, &reordered),
        "its types are listed in another order"
    );
    let mut bumped = lock.clone();
    bumped.version = Some(2);
    assert_eq!(
        differences(&lock, &bumped),
        "its version is absent, 2 is due"
    );
}
