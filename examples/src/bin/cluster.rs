//! Two chat server instances joined through Redis: `cargo run -p rpc-examples --bin cluster`.
//! It starts a redis-server of its own (no persistence, a free port; `apt-get install
//! redis-server` if it is missing), two instances of the chat service with their
//! `RedisCluster` adapters, and clients on each: alice on instance 1, bob and carol on
//! instance 2. A `Chat` sent to any instance is broadcast to every connection of both; a
//! `room/UserJoin` puts its sender in the room and is broadcast to that room only, across
//! instances. It prints what each client gets, checks it, and exits.

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use protocols::chat::{self, room, MsgChat};
use rpc_runtime::cluster::{RedisCluster, RedisClusterOptions};
use rpc_runtime::server::ServerOptions;
use rpc_runtime::MsgCall;
use tokio::sync::mpsc;

type Error = Box<dyn std::error::Error + Send + Sync>;

/// A redis-server of this example's own, killed when dropped.
struct Redis(Child);

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts redis-server on a free port (Redis cannot bind port 0: the OS picks one first).
fn start_redis() -> Result<(Redis, String), Error> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let child = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no"])
        .stdout(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot run redis-server ({e}): apt-get install -y redis-server"))?;
    let redis = Redis(child);
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if Instant::now() > deadline {
            return Err("redis-server did not start within 10 s".into());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok((redis, format!("redis://127.0.0.1:{port}/")))
}

/// One instance of the chat service in the cluster.
async fn instance(
    redis_url: &str,
    id: u16,
) -> Result<(chat::RunningServer, Arc<RedisCluster>), Error> {
    let cluster = RedisCluster::new(RedisClusterOptions::new(redis_url).instance_id(id))?;
    let addr = SocketAddr::from(([127, 0, 0, 1], 0));
    let server = chat::Server::ws(addr, ServerOptions::default())
        // A chat line goes to everyone, on every instance.
        .listen_msg_chat(|call: MsgCall<MsgChat>| async move {
            let _ = call.conn.server().broadcast_msg(&call.msg).await;
        })
        // Joining a room: the sender is in it, and the room (on every instance) hears of it.
        .listen_msg_room_user_join(|call: MsgCall<room::MsgUserJoin>| async move {
            call.conn.join_room(&call.msg.room_id);
            let _ = call
                .conn
                .server()
                .broadcast_msg_to_room(&call.msg.room_id, &call.msg)
                .await;
        })
        .map(|s| s.cluster(cluster.clone()))
        .allow_unimplemented()
        .start()
        .await?;
    Ok((server, cluster))
}

/// A client named `name`; what it gets arrives on the returned channel as text.
async fn client(
    name: &'static str,
    server: &chat::RunningServer,
) -> Result<(chat::Client, mpsc::UnboundedReceiver<String>), Error> {
    let client = chat::Client::ws(format!("ws://{}", server.local_addr()), Default::default());
    client.connect().await?;
    let (tx, rx) = mpsc::unbounded_channel();
    let t = tx.clone();
    client.listen_msg_chat(move |m| {
        println!("  {name} got Chat from {}: {}", m.name, m.content);
        let _ = t.send(format!("chat {}: {}", m.name, m.content));
    });
    client.listen_msg_room_user_join(move |m| {
        println!(
            "  {name} got room/UserJoin: {} joined {}",
            m.user.name, m.room_id
        );
        let _ = tx.send(format!("join {} {}", m.user.name, m.room_id));
    });
    Ok((client, rx))
}

fn join(room_id: &str, id: f64, name: &str) -> room::MsgUserJoin {
    room::MsgUserJoin {
        room_id: room_id.into(),
        user: room::RoomUser {
            id,
            name: name.into(),
        },
        tags: vec![],
    }
}

/// The next message `rx` gets (within 5 s).
async fn next(rx: &mut mpsc::UnboundedReceiver<String>) -> Result<String, Error> {
    Ok(tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .map_err(|_| "no message within 5 s")?
        .ok_or("client gone")?)
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let (_redis, url) = start_redis()?;
    println!("redis-server at {url}");
    let (a, ca) = instance(&url, 1).await?;
    let (b, cb) = instance(&url, 2).await?;
    for c in [&ca, &cb] {
        if !c.wait_for_instances(1, Duration::from_secs(5)).await {
            return Err("the instances did not find each other through Redis".into());
        }
    }
    println!(
        "instance 1 at ws://{}, instance 2 at ws://{}",
        a.local_addr(),
        b.local_addr()
    );
    let (alice, mut ra) = client("alice", &a).await?;
    let (bob, mut rb) = client("bob", &b).await?;
    let (carol, mut rc) = client("carol", &b).await?;
    // A client's connect returns with the handshake; its server registers the connection just
    // after. Wait for that, so the first broadcast reaches everyone.
    let deadline = Instant::now() + Duration::from_secs(5);
    while a.connections().is_empty() || b.connections().len() < 2 {
        if Instant::now() > deadline {
            return Err("the servers did not register their clients".into());
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }

    println!("alice (instance 1) says hello to everyone:");
    alice
        .send_msg_chat(&MsgChat {
            name: "alice".into(),
            content: "hello everyone".into(),
        })
        .await?;
    for rx in [&mut ra, &mut rb, &mut rc] {
        assert_eq!(next(rx).await?, "chat alice: hello everyone");
    }

    println!("bob (instance 2) joins the room lobby:");
    let heard = ca.stats().received;
    bob.send_msg_room_user_join(&join("lobby", 2.0, "bob"))
        .await?;
    assert_eq!(next(&mut rb).await?, "join bob lobby");
    // Bob's join went to the room on instance 1 too (nobody there yet): wait until it has
    // crossed, so that alice, joining next, does not get it.
    let deadline = Instant::now() + Duration::from_secs(5);
    while ca.stats().received == heard {
        if Instant::now() > deadline {
            return Err("bob's join did not reach instance 1".into());
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    println!("alice (instance 1) joins it:");
    alice
        .send_msg_room_user_join(&join("lobby", 1.0, "alice"))
        .await?;
    // The room message crossed from instance 1 to bob on instance 2; carol, not in the room,
    // got nothing.
    assert_eq!(next(&mut ra).await?, "join alice lobby");
    assert_eq!(next(&mut rb).await?, "join alice lobby");
    println!("carol says bye to everyone (carol got no room message):");
    carol
        .send_msg_chat(&MsgChat {
            name: "carol".into(),
            content: "bye".into(),
        })
        .await?;
    for rx in [&mut ra, &mut rb, &mut rc] {
        assert_eq!(next(rx).await?, "chat carol: bye");
    }
    let s = ca.stats();
    println!(
        "instance 1: {} published to Redis, {} received from instance 2, {} dropped",
        s.published,
        s.received,
        s.dropped_unavailable + s.dropped_queue_full + s.failed_writes
    );
    for c in [&alice, &bob, &carol] {
        c.disconnect().await;
    }
    a.stop().await;
    b.stop().await;
    println!("done");
    Ok(())
}
