//! The raw load client (tokio-tungstenite, hand-written frames, serde decoding into typed
//! structs), and W5's handshake-only connections (the same code for every server).

use std::time::{Duration, Instant};

use futures_util::stream::SplitSink;
use futures_util::{FutureExt, SinkExt, StreamExt};
use rpc_bench::procfs;
use rpc_bench::wire::{self, Chat, GameFrame, ResAdd};
use serde::de::IgnoredAny;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

use crate::common::{
    check, quantile, raw_connect, raw_connect_as, report, within, Res, Sampler, Sizes, Ws,
};

fn add_frame(i: u64, sn: u64) -> Message {
    Message::text(format!("[\"Add\",{{\"a\":{i},\"b\":{}}},{sn}]", i + 1))
}

/// The next text frame.
async fn next_text(ws: &mut Ws) -> Res<String> {
    loop {
        match within("a frame", ws.next()).await? {
            Some(Ok(Message::Text(t))) => return Ok(t.as_str().to_owned()),
            Some(Ok(Message::Close(f))) => return Err(format!("closed by the server: {f:?}")),
            Some(Ok(_)) => {}
            Some(Err(e)) => return Err(e.to_string()),
            None => return Err("connection ended".into()),
        }
    }
}

fn check_add(text: &str, base_sn: u64) -> Res<()> {
    let (res, sn) = wire::decode_ret::<ResAdd>(text)?;
    let i = sn - base_sn - 1;
    check(res.c == (2 * i + 1) as f64, || {
        format!("Add #{i}: c = {}", res.c)
    })
}

/// The serial numbers this connection has used.
struct Sn(u64);

async fn seq(ws: &mut Ws, sn: &mut Sn, n: u64, lat: Option<&mut Vec<f64>>) -> Res<()> {
    let mut lat = lat;
    let base = sn.0;
    for i in 0..n {
        let t = Instant::now();
        sn.0 += 1;
        ws.send(add_frame(i, sn.0))
            .await
            .map_err(|e| e.to_string())?;
        let text = next_text(ws).await?;
        check_add(&text, base)?;
        if let Some(l) = lat.as_deref_mut() {
            l.push(t.elapsed().as_secs_f64() * 1e6);
        }
    }
    Ok(())
}

pub(crate) async fn w1(url: &str, sizes: Sizes, reps: usize, s: Sampler) -> Res<()> {
    let mut ws = raw_connect(url).await?;
    let mut sn = Sn(0);
    seq(&mut ws, &mut sn, sizes.w1_warm, None).await?;
    for _ in 0..reps {
        let mut lat = Vec::with_capacity(sizes.w1_n as usize);
        let a = s.snap();
        let t0 = Instant::now();
        seq(&mut ws, &mut sn, sizes.w1_n, Some(&mut lat)).await?;
        let secs = t0.elapsed().as_secs_f64();
        let b = s.snap();
        lat.sort_by(f64::total_cmp);
        report(
            sizes.w1_n as f64 / secs,
            quantile(&lat, 0.5),
            quantile(&lat, 0.99),
            secs * 1e3,
            &s.cpu(&a, &b),
        );
    }
    Ok(())
}

fn handle(msg: Result<Message, tokio_tungstenite::tungstenite::Error>, base: u64) -> Res<u64> {
    match msg {
        Ok(Message::Text(t)) => check_add(t.as_str(), base).map(|_| 1),
        Ok(Message::Close(f)) => Err(format!("closed by the server: {f:?}")),
        Ok(_) => Ok(0),
        Err(e) => Err(e.to_string()),
    }
}

/// `n` calls, `window` in flight: every reply read without waiting, then one write.
async fn pipelined(ws: &mut Ws, sn: &mut Sn, n: u64, window: u64) -> Res<()> {
    let base = sn.0;
    let (mut next, mut done) = (0u64, 0u64);
    loop {
        while next < n && next - done < window {
            sn.0 += 1;
            ws.feed(add_frame(next, sn.0))
                .await
                .map_err(|e| e.to_string())?;
            next += 1;
        }
        ws.flush().await.map_err(|e| e.to_string())?;
        if done == n {
            return Ok(());
        }
        let first = within("a reply", ws.next())
            .await?
            .ok_or("connection ended")?;
        done += handle(first, base)?;
        while let Some(Some(msg)) = ws.next().now_or_never() {
            done += handle(msg, base)?;
        }
    }
}

pub(crate) async fn w2(url: &str, sizes: Sizes, reps: usize, s: Sampler) -> Res<()> {
    let mut ws = raw_connect(url).await?;
    let mut sn = Sn(0);
    let window = sizes.w2_window as u64;
    pipelined(&mut ws, &mut sn, sizes.w2_warm, window).await?;
    for _ in 0..reps {
        let a = s.snap();
        let t0 = Instant::now();
        pipelined(&mut ws, &mut sn, sizes.w2_n, window).await?;
        let secs = t0.elapsed().as_secs_f64();
        let b = s.snap();
        report(
            sizes.w2_n as f64 / secs,
            0.0,
            0.0,
            secs * 1e3,
            &s.cpu(&a, &b),
        );
    }
    Ok(())
}

async fn push(ws: &mut Ws, sn: &mut Sn, n: u64) -> Res<(Instant, Instant)> {
    sn.0 += 1;
    let t0 = Instant::now();
    ws.send(Message::text(format!(
        "[\"StartPush\",{{\"n\":{n}}},{}]",
        sn.0
    )))
    .await
    .map_err(|e| e.to_string())?;
    let (mut k, mut replied) = (0u64, false);
    let mut end = t0;
    while k < n || !replied {
        let text = next_text(ws).await?;
        if wire::is_return(&text) {
            wire::decode_ret::<IgnoredAny>(&text)?;
            replied = true;
            continue;
        }
        let (name, f) = wire::decode_msg::<GameFrame>(&text)?;
        check(
            name == "GameFrame" && f.frame == k && f.inputs.len() == 4,
            || format!("frame {k}: got {text}"),
        )?;
        k += 1;
        if k == n {
            end = Instant::now();
        }
    }
    Ok((t0, end))
}

pub(crate) async fn w3(url: &str, sizes: Sizes, reps: usize, s: Sampler) -> Res<()> {
    let mut ws = raw_connect(url).await?;
    let mut sn = Sn(0);
    push(&mut ws, &mut sn, sizes.w3_warm).await?;
    for _ in 0..reps {
        let a = s.snap();
        let (t0, end) = push(&mut ws, &mut sn, sizes.w3_n).await?;
        let b = s.snap();
        let secs = (end - t0).as_secs_f64();
        report(
            sizes.w3_n as f64 / secs,
            0.0,
            0.0,
            secs * 1e3,
            &s.cpu(&a, &b),
        );
    }
    Ok(())
}

/// One fan-out connection's reader: for each round, `m` Chats, then the time of the last.
async fn fan_reader(
    mut source: futures_util::stream::SplitStream<Ws>,
    rounds: Vec<u64>,
    done: mpsc::UnboundedSender<Res<Instant>>,
) {
    let run = async {
        for m in rounds {
            let mut got = 0;
            while got < m {
                let text = match within("a Chat", source.next()).await? {
                    Some(Ok(Message::Text(t))) => t,
                    Some(Ok(Message::Close(f))) => return Err(format!("closed: {f:?}")),
                    Some(Ok(_)) => continue,
                    Some(Err(e)) => return Err(e.to_string()),
                    None => return Err("connection ended".to_owned()),
                };
                if wire::is_return(&text) {
                    wire::decode_ret::<IgnoredAny>(&text)?;
                    continue;
                }
                let (name, chat) = wire::decode_msg::<Chat<'_>>(&text)?;
                check(
                    name == "Chat" && chat.content.len() == 100 && chat.name == "bot",
                    || format!("bad Chat {text}"),
                )?;
                got += 1;
            }
            if done.send(Ok(Instant::now())).is_err() {
                return Ok(());
            }
        }
        Res::Ok(())
    };
    if let Err(e) = run.await {
        let _ = done.send(Err(e));
    }
}

pub(crate) async fn w4(url: &str, sizes: Sizes, reps: usize, s: Sampler) -> Res<()> {
    let c = sizes.w4_conns;
    let mut rounds = vec![sizes.w4_m / 10];
    rounds.extend(std::iter::repeat_n(sizes.w4_m, reps));
    let (done_tx, mut done_rx) = mpsc::unbounded_channel();
    let mut first: Option<SplitSink<Ws, Message>> = None;
    let mut sinks = Vec::with_capacity(c);
    for j in 0..c {
        let mut ws = raw_connect(url).await?;
        let mut sn = Sn(0);
        seq(&mut ws, &mut sn, 1, None).await?;
        let (sink, source) = ws.split();
        tokio::spawn(fan_reader(source, rounds.clone(), done_tx.clone()));
        if j == 0 {
            first = Some(sink);
        } else {
            sinks.push(sink);
        }
    }
    let mut first = first.ok_or("no connection")?;
    for (r, &m) in rounds.iter().enumerate() {
        let a = s.snap();
        let t0 = Instant::now();
        first
            .send(Message::text(format!(
                "[\"StartFanout\",{{\"m\":{m}}},{}]",
                r + 2
            )))
            .await
            .map_err(|e| e.to_string())?;
        let mut last = t0;
        for _ in 0..c {
            let end = within("the fan-out round", done_rx.recv())
                .await?
                .ok_or("readers ended")??;
            last = last.max(end);
        }
        let b = s.snap();
        if r > 0 {
            let secs = (last - t0).as_secs_f64();
            report(
                (c as u64 * m) as f64 / secs,
                0.0,
                0.0,
                secs * 1e3,
                &s.cpu(&a, &b),
            );
        }
    }
    Ok(())
}

/// W5: RSS of the idle server, then `k` handshake-only connections (64 in flight), 2 s, RSS.
/// The connections ask for `protocol`, the sub-protocol of the contender's own client (`text`
/// or `buffer`).
pub(crate) async fn w5(url: &str, protocol: &'static str, sizes: Sizes, s: Sampler) -> Res<()> {
    tokio::time::sleep(Duration::from_millis(500)).await;
    let pid = s.server_pid;
    let before = procfs::rss_kib(pid).ok_or("no VmRSS")?;
    let conns: Vec<Res<Ws>> = futures_util::stream::iter(0..sizes.w5_k)
        .map(|_| raw_connect_as(url, protocol))
        .buffer_unordered(64)
        .collect()
        .await;
    let conns: Vec<Ws> = conns.into_iter().collect::<Res<_>>()?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = procfs::rss_kib(pid).ok_or("no VmRSS")?;
    let kib = (after as f64 - before as f64) / sizes.w5_k as f64;
    println!("REP rate={kib:.3} p50=0 p99=0 ms=0 srv=0 cli=0 other=0 rss_before={before} rss_after={after}");
    drop(conns);
    Ok(())
}
