//! The Rust folder made from small protos and from the kitchen sink.

use super::{import, ImportOptions};
use crate::import::proto::ServiceProto;

const CORPUS_TS: &str = include_str!("../../../../tests/kitchen-sink/protocols/serviceProto.ts");

fn kitchen_sink(skip: bool) -> Result<super::ImportedFolder, Vec<super::ImportError>> {
    let proto = ServiceProto::parse(CORPUS_TS, "serviceProto.ts").unwrap();
    let opts = ImportOptions {
        skip_unsupported_optional_fields: skip,
        ..ImportOptions::default()
    };
    import(&proto, &opts)
}

#[test]
fn kitchen_sink_dump() {
    let folder = kitchen_sink(true).unwrap();
    for (path, text) in &folder.files {
        println!("===== {path}\n{text}");
    }
    println!("{:#?}", folder.services);
    println!("{:#?}", folder.skipped);
}
