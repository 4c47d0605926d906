//! Prints the service proto: the regeneration test reads it after each change of `src/svc/`.
//! Each line: kind, name, JSON Schema, TSRPC id (from the proto lock `src/svc.proto.json`,
//! which build.rs keeps current).

#[rpc_runtime::service(protocols = "src/svc")]
pub mod svc {}

fn main() {
    for def in svc::service_proto().services {
        let schema = def.req_schema.map(|s| s.to_string()).unwrap_or_default();
        println!("{:?} {} {} id={:?}", def.kind, def.name, schema, def.id);
    }
}
