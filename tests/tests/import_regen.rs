//! Imported TSRPC protos in a user's build (a scratch crate with the newcomer's manifest,
//! `rpc_tests::scratch`): `#[service(tsrpc_proto = "..")]` is rebuilt when the proto file
//! changes (the expansion holds an `include_bytes!` of it), and the in-memory folder the import
//! makes is, written to disk, an ordinary protocol folder (`protocols = ".."`): what
//! `rpc-codegen import` will write.

use rpc_tests::scratch::ScratchCrate;

const MAIN: &str = r#"//! Prints the imported service: kind, name and request schema of each.

#[rpc_runtime::service(tsrpc_proto = "src/serviceProto.json")]
pub mod svc {}

fn main() {
    for def in svc::service_proto().services {
        let schema = def.req_schema.map(|s| s.to_string()).unwrap_or_default();
        println!("{:?} {} {}", def.kind, def.name, schema);
    }
}
"#;

fn proto(msg: &str, fields: &str) -> String {
    format!(
        r#"{{"services":[{{"id":0,"name":"{msg}","type":"msg"}}],"types":{{"Msg{msg}/Msg{msg}":{{"type":"Interface","properties":[{fields}]}}}}}}"#
    )
}

fn run(krate: &ScratchCrate) -> String {
    let out = krate.cargo(&["run", "--quiet"]).output().unwrap();
    assert!(
        out.status.success(),
        "cargo run failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn proto_changes_take_effect_on_the_next_build() {
    let krate = ScratchCrate::new("import-regen-crate");
    std::fs::write(krate.dir.join("src/main.rs"), MAIN).unwrap();
    let path = krate.dir.join("src/serviceProto.json");
    let text = r#"{"id":0,"name":"text","type":{"type":"String"}}"#;
    std::fs::write(&path, proto("Hello", text)).unwrap();
    let first = run(&krate);
    assert!(first.starts_with("Msg Hello "), "{first}");
    assert!(
        first.contains("\"text\"") && !first.contains("\"count\""),
        "{first}"
    );

    // A field added to the proto shows in the next build.
    let count = r#"{"id":1,"name":"count","type":{"type":"Number","scalarType":"uint"}}"#;
    std::fs::write(&path, proto("Hello", &format!("{text},{count}"))).unwrap();
    let second = run(&krate);
    assert!(second.contains("\"count\""), "{second}");

    // So does a renamed message.
    std::fs::write(&path, proto("Greeting", text)).unwrap();
    let third = run(&krate);
    assert!(third.starts_with("Msg Greeting "), "{third}");
}

#[test]
fn the_imported_folder_is_a_protocol_folder_on_disk() {
    let proto_text = include_str!("../kitchen-sink/protocols/serviceProto.ts");
    let proto =
        rpc_codegen::import::proto::ServiceProto::parse(proto_text, "serviceProto.ts").unwrap();
    let opts = rpc_codegen::import::rust::ImportOptions {
        runtime: "rpc_runtime".to_owned(),
        skip_unsupported_optional_fields: true,
        ..Default::default()
    };
    let folder = rpc_codegen::import::rust::import(&proto, &opts).unwrap();
    let krate = ScratchCrate::new("import-folder-crate");
    let svc = krate.dir.join("src/svc");
    std::fs::remove_dir_all(&svc).unwrap();
    for (rel, text) in &folder.files {
        let path = svc.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    let out = run(&krate);
    let mut names: Vec<&str> = out.lines().map(|l| l.split(' ').nth(1).unwrap()).collect();
    names.sort_unstable();
    let mut expected: Vec<&str> = proto.services.iter().map(|s| s.name.as_str()).collect();
    expected.sort_unstable();
    assert_eq!(names, expected, "{out}");
}
