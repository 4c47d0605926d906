//! The codegen's own cost (issue 6): `codegen-cost [--files N] [--builds K] [--rev REV] [--no-cargo]`.
//!
//! 1. Writes a protocol folder of N files (default 200: half APIs, half messages, in ten
//!    sub-folders) into two crates under `target/codegen-cost/`: `svc-macro` declares it with
//!    `#[rpc_macros::service]`, `svc-derive` is the same files with plain `mod` lines (serde +
//!    schemars derives only, no service macro).
//! 2. Times `rpc_codegen`'s parse-check-render of the folder in-process (no rustc).
//! 3. Builds both crates (debug, incremental), then K times edits one protocol file (adds a
//!    field) and times the incremental `cargo build` of each, interleaved (wall-clock and CPU
//!    time); then once more with
//!    `--timings` (the HTML report is in `target/codegen-cost/target/cargo-timings/`).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use proc_macro2::TokenStream;

const FOLDERS: [&str; 10] = [
    "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet",
];
const SYLLABLES: [&str; 10] = ["Ba", "Co", "Du", "Fe", "Gi", "Ho", "Ju", "Ki", "Lo", "Mu"];

fn main() {
    let mut files = 200usize;
    let mut builds = 3usize;
    let mut cargo = true;
    let mut rev = String::from("HEAD");
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--files" => files = args.next().and_then(|v| v.parse().ok()).unwrap_or(files),
            "--builds" => builds = args.next().and_then(|v| v.parse().ok()).unwrap_or(builds),
            "--rev" => rev = args.next().unwrap_or(rev),
            "--no-cargo" => cargo = false,
            _ => {
                eprintln!("usage: codegen-cost [--files N] [--builds K] [--rev REV] [--no-cargo]");
                std::process::exit(2);
            }
        }
    }
    let files = files.clamp(2, 2000);
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let root = repo.join("target/codegen-cost");
    if let Err(e) = write_workspace(&repo, &rev, &root, files) {
        eprintln!("codegen-cost: cannot write {}: {e}", root.display());
        std::process::exit(1);
    }
    println!(
        "# codegen cost: {files} protocol files ({} APIs, {} messages)\n",
        files / 2,
        files - files / 2
    );
    println!("- folder: {}", root.join("svc-macro/src/ptl").display());
    println!(
        "- the crates build against the committed tree (git archive {rev}) in {}",
        root.with_file_name("codegen-cost-snapshot").display()
    );
    in_process(&root.join("svc-macro"));
    if cargo {
        if let Err(e) = cargo_builds(&root, builds) {
            println!("FAILED {e}");
            std::process::exit(1);
        }
    }
}

/// The type base name of file `i`: two syllables, e.g. `BaCo` (snake case `ba_co`).
fn base(i: usize) -> String {
    format!("{}{}", SYLLABLES[(i / 10) % 10], SYLLABLES[i % 10])
}

/// `(folder, file stem, source)` of protocol file `i` (even: an API, odd: a message).
fn protocol_file(i: usize, edit: usize) -> (String, String, String) {
    let folder = FOLDERS[i % FOLDERS.len()];
    let b = base(i / FOLDERS.len());
    let snake = format!("{}_{}", &b[..2].to_lowercase(), &b[2..].to_lowercase());
    let extra = if edit > 0 {
        format!("    /// Added by edit {edit}.\n    pub edit_{edit}: u32,\n")
    } else {
        String::new()
    };
    let mut s = String::from("use schemars::JsonSchema;\nuse serde::{Deserialize, Serialize};\n\n");
    if i.is_multiple_of(2) {
        let _ = write!(
            s,
            "/// Request of API `{folder}/{b}`.\n\
             #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]\n\
             pub struct Req{b} {{\n    pub id: u64,\n    pub name: String,\n    pub score: f64,\n    \
             pub tags: Vec<String>,\n    #[serde(default, skip_serializing_if = \"Option::is_none\")]\n    \
             pub note: Option<String>,\n{extra}}}\n\n\
             /// Response of API `{folder}/{b}`.\n\
             #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]\n\
             pub struct Res{b} {{\n    pub ok: bool,\n    pub items: Vec<{b}Item>,\n}}\n\n\
             #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]\n\
             pub struct {b}Item {{\n    pub x: f64,\n    pub y: f64,\n    pub label: String,\n}}\n"
        );
        (folder.to_owned(), format!("ptl_{snake}"), s)
    } else {
        let _ = write!(
            s,
            "/// Message `{folder}/{b}`.\n\
             #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]\n\
             pub struct Msg{b} {{\n    pub frame: u64,\n    pub from: String,\n    pub content: String,\n    \
             pub points: Vec<{b}Point>,\n    #[serde(default, skip_serializing_if = \"Option::is_none\")]\n    \
             pub reply_to: Option<u64>,\n{extra}}}\n\n\
             #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]\n\
             pub struct {b}Point {{\n    pub x: f64,\n    pub y: f64,\n}}\n"
        );
        (folder.to_owned(), format!("msg_{snake}"), s)
    }
}

fn write_if_changed(path: &Path, text: &str) -> std::io::Result<()> {
    if std::fs::read_to_string(path).ok().as_deref() == Some(text) {
        return Ok(());
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, text)
}

/// The committed tree (`git archive HEAD`, or `--rev`) in `target/codegen-cost-snapshot`, so that
/// the builds do not see work in progress in the checkout; refreshed when the commit changes.
/// Returns its path.
fn snapshot(repo: &Path, rev: &str, root: &Path) -> std::io::Result<PathBuf> {
    let head = Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(["rev-parse", "--verify", &format!("{rev}^{{commit}}")])
        .output()?;
    if !head.status.success() {
        return Err(std::io::Error::other(format!("no commit {rev}")));
    }
    let head = String::from_utf8_lossy(&head.stdout).trim().to_owned();
    // Outside `root`: a path dependency under a workspace's folder would become its member.
    let parent = root.parent().unwrap_or(root);
    let dir = parent.join("codegen-cost-snapshot");
    let marker = parent.join("codegen-cost-snapshot.commit");
    if std::fs::read_to_string(&marker).ok().as_deref() == Some(head.as_str()) && dir.is_dir() {
        return Ok(dir);
    }
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let status = Command::new("sh")
        .arg("-c")
        // `-m`: the files get the time of extraction, not the commit's: cargo's fingerprints of
        // path dependencies compare times, and an older commit's files would look fresh.
        .arg("git -C \"$0\" archive \"$2\" | tar -x -m -C \"$1\"")
        .arg(repo)
        .arg(&dir)
        .arg(&head)
        .status()?;
    if !status.success() {
        return Err(std::io::Error::other("git archive failed"));
    }
    std::fs::write(&marker, &head)?;
    Ok(dir)
}

fn write_workspace(repo: &Path, rev: &str, root: &Path, files: usize) -> std::io::Result<()> {
    let src = snapshot(repo, rev, root)?;
    // A workspace of its own (own lock file and target dir), pinned to the main lock file.
    write_if_changed(
        &root.join("Cargo.toml"),
        "[workspace]\nresolver = \"2\"\nmembers = [\"svc-macro\", \"svc-derive\"]\n",
    )?;
    if !root.join("Cargo.lock").exists() {
        std::fs::copy(repo.join("Cargo.lock"), root.join("Cargo.lock"))?;
    }
    let deps = "serde = { version = \"1\", features = [\"derive\"] }\nschemars = \"1\"\n";
    write_if_changed(
        &root.join("svc-macro/Cargo.toml"),
        &format!(
            "[package]\nname = \"svc-macro\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n\
             [dependencies]\n{deps}rpc-runtime = {{ path = \"{0}/rpc-runtime\" }}\n\
             rpc-macros = {{ path = \"{0}/rpc-macros\" }}\n\n\
             [build-dependencies]\nrpc-codegen = {{ path = \"{0}/rpc-codegen\" }}\n",
            src.display()
        ),
    )?;
    write_if_changed(
        &root.join("svc-macro/build.rs"),
        "fn main() {\n    rpc_codegen::watch(\"src/ptl\");\n}\n",
    )?;
    write_if_changed(
        &root.join("svc-macro/src/lib.rs"),
        "//! 200 protocol files behind the service macro.\n\n\
         #[rpc_macros::service(protocols = \"src/ptl\")]\npub mod svc {}\n",
    )?;
    write_if_changed(
        &root.join("svc-derive/Cargo.toml"),
        &format!(
            "[package]\nname = \"svc-derive\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n\
             [dependencies]\n{deps}"
        ),
    )?;
    let mut lib = String::from(
        "//! The same protocol files with plain `mod` lines: serde + schemars derives only.\n\n\
         pub mod ptl {\n",
    );
    for folder in FOLDERS {
        let _ = writeln!(lib, "    pub mod {folder} {{");
        for i in (0..files).filter(|i| FOLDERS[i % FOLDERS.len()] == folder) {
            let (_, stem, _) = protocol_file(i, 0);
            let _ = writeln!(lib, "        pub mod {stem};");
        }
        lib.push_str("    }\n");
    }
    lib.push_str("}\n");
    write_if_changed(&root.join("svc-derive/src/lib.rs"), &lib)?;
    for krate in ["svc-macro", "svc-derive"] {
        let dir = root.join(krate).join("src/ptl");
        // Start from the unedited files (a previous run may have left edits).
        let _ = std::fs::remove_dir_all(&dir);
        for i in 0..files {
            let (folder, stem, text) = protocol_file(i, 0);
            write_if_changed(&dir.join(folder).join(format!("{stem}.rs")), &text)?;
        }
    }
    Ok(())
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

/// parse-check-render in this process, as the macro runs it.
fn in_process(krate: &Path) {
    let root = krate.join("src/ptl");
    let runs = 10;
    let (mut parse_check, mut render, mut whole) = (Vec::new(), Vec::new(), Vec::new());
    let mut out_len = 0;
    let mut errors = Vec::new();
    for run in 0..=runs {
        let t = Instant::now();
        let (model, problems) = rpc_codegen::check_folder(&root, "src/ptl", "svc", &[], &[]);
        let t1 = Instant::now();
        let tokens = rpc_codegen::generate(&model, &syn::parse_quote!(::rpc_runtime));
        let t2 = Instant::now();
        if run == 0 {
            errors = problems.0.iter().map(|d| d.to_string()).collect();
            out_len = tokens.to_string().len();
        } else {
            parse_check.push(t1 - t);
            render.push(t2 - t1);
        }
        let inv = rpc_codegen::Invocation {
            file: Some(krate.join("src/lib.rs")),
            cwd: None,
            manifest_dir: Some(krate.to_path_buf()),
        };
        let args: TokenStream = "protocols = \"src/ptl\"".parse().unwrap_or_default();
        let item: TokenStream = "pub mod svc {}".parse().unwrap_or_default();
        let t3 = Instant::now();
        let expanded = rpc_codegen::expand_service(args, item, &inv);
        if run > 0 {
            whole.push(t3.elapsed());
        }
        drop(expanded);
    }
    if !errors.is_empty() {
        println!(
            "- FAILED: the checks reported {} errors, the first: {}",
            errors.len(),
            errors[0]
        );
    }
    println!(
        "- in-process, median of {runs} runs: parse + check {}, render {}, whole macro \
         (`expand_service`) {}; output {} KiB of tokens",
        ms(median(parse_check)),
        ms(median(render)),
        ms(median(whole.clone())),
        out_len / 1024
    );
    println!(
        "  target < 500 ms: {}",
        if median(whole) < Duration::from_millis(500) {
            "met"
        } else {
            "MISSED"
        }
    );
}

/// CPU time (user + system) of this process's waited-for children and their descendants
/// (`cutime` + `cstime` of `/proc/self/stat`, 100 ticks a second); zero where unavailable.
/// Less sensitive than wall-clock time to other jobs on the machine.
fn children_cpu() -> Duration {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return Duration::ZERO;
    };
    // Fields after the `(comm)`: state is field 3, cutime 16 and cstime 17.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<u64> = rest
        .split_whitespace()
        .skip(13)
        .take(2)
        .filter_map(|v| v.parse().ok())
        .collect();
    Duration::from_millis(f.iter().sum::<u64>() * 10)
}

/// A build's wall-clock and CPU time.
#[derive(Clone, Copy)]
struct Took {
    wall: Duration,
    cpu: Duration,
}

fn cargo(root: &Path, krate: &str, timings: bool) -> Result<Took, String> {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(root)
        .args(["build", "--offline", "-q", "-p", krate])
        .env("CARGO_TARGET_DIR", root.join("target"))
        .env_remove("RUSTFLAGS");
    if timings {
        cmd.arg("--timings");
    }
    let (t, cpu) = (Instant::now(), children_cpu());
    let out = cmd.output().map_err(|e| format!("cargo: {e}"))?;
    let took = Took {
        wall: t.elapsed(),
        cpu: children_cpu().saturating_sub(cpu),
    };
    if !out.status.success() {
        return Err(format!(
            "cargo build -p {krate} failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(took)
}

fn edit(root: &Path, krate: &str, edit: usize) -> std::io::Result<PathBuf> {
    // File 0: an API request gains a field.
    let (folder, stem, text) = protocol_file(0, edit);
    let path = root
        .join(krate)
        .join("src/ptl")
        .join(folder)
        .join(format!("{stem}.rs"));
    std::fs::write(&path, text)?;
    Ok(path)
}

fn cargo_builds(root: &Path, builds: usize) -> Result<(), String> {
    let load = || {
        std::fs::read_to_string("/proc/loadavg")
            .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
            .unwrap_or_default()
    };
    println!("- load average before the builds: {}", load());
    for krate in ["svc-derive", "svc-macro"] {
        let t = cargo(root, krate, false)?;
        println!(
            "- first build of {krate} (dependencies included when not built yet): {}",
            ms(t.wall)
        );
    }
    let (mut with_macro, mut derive_only) = (Vec::new(), Vec::new());
    for k in 1..=builds {
        for krate in ["svc-derive", "svc-macro"] {
            edit(root, krate, k).map_err(|e| e.to_string())?;
            let t = cargo(root, krate, false)?;
            if krate == "svc-macro" {
                with_macro.push(t);
            } else {
                derive_only.push(t);
            }
        }
    }
    let wall = |v: &[Took]| v.iter().map(|t| t.wall).collect::<Vec<_>>();
    let cpu = |v: &[Took]| v.iter().map(|t| t.cpu).collect::<Vec<_>>();
    let fmt_all = |v: &[Duration]| v.iter().map(|d| ms(*d)).collect::<Vec<_>>().join(", ");
    let (m, d) = (median(wall(&with_macro)), median(wall(&derive_only)));
    println!(
        "- incremental `cargo build` (debug) after editing one protocol file, median of {builds}: \
         service macro {} [{}], plain serde + schemars derives {} [{}]: ratio {:.2}x (target \
         <= 1.5x: {})",
        ms(m),
        fmt_all(&wall(&with_macro)),
        ms(d),
        fmt_all(&wall(&derive_only)),
        m.as_secs_f64() / d.as_secs_f64(),
        if m.as_secs_f64() <= 1.5 * d.as_secs_f64() {
            "met"
        } else {
            "MISSED"
        }
    );
    // Each macro build follows its derive build: the ratio per pair cancels slow drifts in load.
    let mut pairs: Vec<f64> = with_macro
        .iter()
        .zip(&derive_only)
        .map(|(m, d)| m.wall.as_secs_f64() / d.wall.as_secs_f64())
        .collect();
    pairs.sort_by(f64::total_cmp);
    println!(
        "- wall-clock ratio per (derive, macro) pair: {} (median {:.2}x)",
        pairs
            .iter()
            .map(|r| format!("{r:.2}x"))
            .collect::<Vec<_>>()
            .join(", "),
        pairs[pairs.len() / 2]
    );
    let (mc, dc) = (median(cpu(&with_macro)), median(cpu(&derive_only)));
    if dc > Duration::ZERO {
        println!(
            "- the same builds' CPU time (user + system, cargo and rustc), median: service macro \
             {} [{}], plain derives {} [{}]: ratio {:.2}x",
            ms(mc),
            fmt_all(&cpu(&with_macro)),
            ms(dc),
            fmt_all(&cpu(&derive_only)),
            mc.as_secs_f64() / dc.as_secs_f64()
        );
    }
    for krate in ["svc-derive", "svc-macro"] {
        edit(root, krate, builds + 1).map_err(|e| e.to_string())?;
        let t = cargo(root, krate, true)?;
        println!("- with --timings, {krate}: {}", ms(t.wall));
    }
    println!(
        "- cargo --timings reports: {}",
        root.join("target/cargo-timings").display()
    );
    println!("- load average after: {}", load());
    Ok(())
}
