//! Issue 12, "Debug output that does not stick": `RPC_CODEGEN_DEBUG=1` writes the expansion to
//! a file under the target dir and prints one line with its path; cargo tracks the variable,
//! so unsetting it rebuilds the crate and the line is not replayed on later builds. Builds the
//! crate of `regen.rs` (`ui/regen-crate/`, copied to a temporary folder) in the same target
//! folder, `target/tests/regen`.

use std::fs;
use std::path::Path;

use rpc_tests::scratch::ScratchCrate;

#[test]
fn debug_output_goes_to_a_file_and_does_not_stick() {
    let krate = ScratchCrate::new("codegen-debug-crate");
    let target = krate.target.clone();

    // `cargo build`, with or without the variable: its stderr.
    let build = |debug: bool| {
        let mut cmd = krate.cargo(&["build"]);
        if debug {
            cmd.env("RPC_CODEGEN_DEBUG", "1");
        }
        let out = cmd.output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "cargo build failed:\n{stderr}");
        stderr
    };
    let lines = |stderr: &str| -> Vec<String> {
        stderr
            .lines()
            .filter(|l| l.starts_with("rpc-codegen:"))
            .map(str::to_owned)
            .collect()
    };

    let rebuilt = |stderr: &str| stderr.contains("Compiling codegen-debug-crate");
    assert_eq!(lines(&build(false)), Vec::<String>::new());
    assert!(!rebuilt(&build(false)), "fresh");

    // Set: the crate is rebuilt (cargo tracks the variable), one line with the file's path.
    let stderr = build(true);
    assert!(rebuilt(&stderr), "{stderr}");
    let printed = lines(&stderr);
    assert_eq!(printed.len(), 1, "{stderr}");
    let path = printed[0]
        .strip_prefix("rpc-codegen: service `svc` expanded into ")
        .unwrap_or_else(|| panic!("{stderr}"));
    let path = Path::new(path);
    assert!(
        path.starts_with(&target) && path.ends_with("codegen-debug-crate/svc.rs"),
        "{}",
        path.display()
    );
    let code = fs::read_to_string(path).unwrap();
    assert!(code.contains("Api for ReqAdd"), "{code}");
    assert!(code.contains("pub struct Client"), "{code}");
    assert!(
        !stderr.contains("Api for ReqAdd"),
        "the code itself is not printed"
    );

    // Unset: rebuilt again, and the line is not replayed, now or on later builds.
    let stderr = build(false);
    assert!(rebuilt(&stderr), "{stderr}");
    assert_eq!(lines(&stderr), Vec::<String>::new());
    let stderr = build(false);
    assert!(!rebuilt(&stderr), "{stderr}");
    assert_eq!(lines(&stderr), Vec::<String>::new());
}
