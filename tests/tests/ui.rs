//! Compile-time behaviour of the macros (trybuild): `ui/pass/*.rs` must compile and run,
//! each `ui/fail/<mistake>.rs` must fail with the reviewed `ui/fail/<mistake>.stderr`.
//!
//! The `.stderr` files were recorded with the compiler named in `ui/RUSTC_VERSION`; rustc's
//! wording drifts between versions, so the fail cases run only with that version (set
//! `RPC_UI_ANY_RUSTC=1` to run them anyway). After a deliberate change, regenerate with
//! `TRYBUILD=overwrite cargo test -p rpc-tests --test ui` and review the diff.
//! Fixture protocol folders are under `ui/fixtures/`.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("ui/pass/*.rs");
    let recorded = include_str!("../ui/RUSTC_VERSION").trim();
    let current =
        std::process::Command::new(std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into()))
            .arg("--version")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .unwrap_or_default();
    if current == recorded || std::env::var_os("RPC_UI_ANY_RUSTC").is_some() {
        t.compile_fail("ui/fail/*.rs");
    } else {
        eprintln!("skipping ui/fail: recorded with `{recorded}`, this is `{current}`");
    }
}
