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
    for title in [
        "| raw tokio-tungstenite | 1 |",
        "| ours JSON (server + client) | 1 |",
    ] {
        let row = stdout
            .lines()
            .find(|l| l.starts_with(title))
            .unwrap_or_else(|| panic!("no W7 row {title}:\n{stdout}"));
        let cells: Vec<f64> = row
            .split('|')
            .filter_map(|c| c.split_whitespace().next()?.parse().ok())
            .collect();
        // run, idle MiB, 4 steps, slope, establish s, (conn/s), µs/conn, broadcast ms, µs/delivery
        assert_eq!(cells.len(), 11, "{row}");
        assert!(cells[2..6].iter().all(|&k| k > 0.0), "{row}");
        assert!(cells[9] > 0.0, "broadcast time: {row}");
    }
    let accept = stdout
        .lines()
        .find(|l| l.starts_with("| accept: new connections/s"))
        .unwrap_or_else(|| panic!("no accept row:\n{stdout}"));
    assert_eq!(accept.matches(" ±").count(), 2, "{accept}");
}
