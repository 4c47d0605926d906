//! Prints the service proto: the regeneration test reads it after each change of `src/svc/`.

#[rpc_runtime::service(protocols = "src/svc")]
pub mod svc {}

fn main() {
    for def in svc::service_proto().services {
        let schema = def.req_schema.map(|s| s.to_string()).unwrap_or_default();
        println!("{:?} {} {}", def.kind, def.name, schema);
    }
}
