fn main() {
    rpc_codegen::watch("src/svc");
}
