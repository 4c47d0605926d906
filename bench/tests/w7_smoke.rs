//! `bench --quick --only W7,ACCEPT --contenders raw,ours` runs end to end: the orchestrator, its
//! W7 client processes on their own loopback source addresses, both servers, the accept-rate
//! client; every connection gets the broadcast and the tables carry figures, not `FAILED`.

use std::process::Command;

#[test]
fn quick_w7_and_accept_run() {
    let out = Command::new(env!("CARGO_BIN_EXE_bench"))
        .args([
            "--quick",
            "--no-pin",
            "--reps",
            "1",
            "--only",
            "W7,ACCEPT",
            "--contenders",
            "raw,ours",
        ])
        .output()
        .expect("run bench");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "bench failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    assert!(!stdout.contains("FAILED"), "{stdout}");
    // One W7 row per server, each with a KiB/conn figure at every step and a broadcast time.
    let cells = |line: &str| -> Vec<String> {
        line.trim_matches('|')
            .split('|')
            .map(|c| c.trim().to_owned())
            .collect()
    };
    let header = stdout
        .lines()
        .find(|l| l.starts_with("| server | run |"))
        .map(cells)
        .unwrap_or_else(|| panic!("no W7 table:\n{stdout}"));
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h.starts_with(name))
            .unwrap_or_else(|| panic!("no column {name}: {header:?}"))
    };
    let num = |row: &[String], i: usize| -> f64 {
        row[i]
            .split_whitespace()
            .next()
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("column {} not a number: {row:?}", header[i]))
    };
    for title in ["raw tokio-tungstenite", "ours JSON (server + client)"] {
        let row = stdout
            .lines()
            .map(cells)
            .find(|r| r.len() == header.len() && r[0] == title && r[1] == "1")
            .unwrap_or_else(|| panic!("no W7 row {title}:\n{stdout}"));
        let steps: Vec<f64> = (0..header.len())
            .filter(|&i| header[i].starts_with("KiB/conn at "))
            .map(|i| num(&row, i))
            .collect();
        assert_eq!(steps.len(), 4, "{row:?}");
        assert!(steps.iter().all(|&k| k > 0.0), "{row:?}");
        assert!(num(&row, col("establish")) > 0.0, "{row:?}");
        assert!(num(&row, col("broadcast ms")) > 0.0, "{row:?}");
    }
    let accept = stdout
        .lines()
        .find(|l| l.starts_with("| accept: new connections/s"))
        .unwrap_or_else(|| panic!("no accept row:\n{stdout}"));
    assert_eq!(accept.matches(" ±").count(), 2, "{accept}");
}
