'use strict';
// The TSRPC 3.4.21 contender of BENCHMARKS.md: a WsServer serving the bench service, on the npm
// packages of tests/interop (run `npm ci` there first).
// Usage: node bench-server.js <port> [--json true|false]   (port 0 picks a free one)
//   --json true (the default here): `json: true`, JSON mode (it also answers binary clients);
//   --json false: TSRPC's own default, binary only (TSBuffer frames; text frames are refused).
// Prints `READY ws://127.0.0.1:<port> pid=<pid>` once listening. Exits on SIGTERM/SIGINT, and
// when stdin closes if BENCH_EXIT_ON_STDIN_CLOSE=1 (the Rust orchestrator sets it).

const http = require('http');
const path = require('path');
const { WsServer } = require(path.join(__dirname, '..', '..', 'tests', 'interop', 'node_modules', 'tsrpc'));
const serviceProto = require(path.join(__dirname, 'protocols', 'serviceProto.json'));

const usage = () => {
    process.stderr.write('usage: node bench-server.js <port> [--json true|false]\n');
    process.exit(2);
};
const port = Number(process.argv[2] || '0');
if (!Number.isInteger(port) || port < 0 || port > 65535) usage();
let json = true;
for (let i = 3; i < process.argv.length; i++) {
    if (process.argv[i] === '--json' && ['true', 'false'].includes(process.argv[i + 1])) {
        json = process.argv[++i] === 'true';
    } else {
        usage();
    }
}

// TSRPC has no host option: force its listen() onto 127.0.0.1.
const originalListen = http.Server.prototype.listen;
http.Server.prototype.listen = function (...args) {
    const callback = args.find((a) => typeof a === 'function');
    return callback
        ? originalListen.call(this, port, '127.0.0.1', callback)
        : originalListen.call(this, port, '127.0.0.1');
};

const noop = () => {};
const logger = { debug: noop, log: noop, warn: noop, error: noop };
const server = new WsServer(serviceProto, { port, json, logger, logMsg: false });

const FOX = 'The quick brown fox jumps over the lazy dog. ';
function chat(i) {
    let content = String(i).padStart(8, '0') + ' ';
    while (content.length < 100) content += FOX;
    return { name: 'bot', content: content.slice(0, 100) };
}
function gameFrame(i) {
    const inputs = [];
    for (let p = 0; p < 4; p++) {
        inputs.push({ player: p, x: (i % 1000) + 0.25 * p, y: 0.5 * (i % 500) + p });
    }
    return { frame: i, inputs };
}

server.implementApi('Add', async (call) => {
    call.succ({ c: call.req.a + call.req.b });
});

server.implementApi('StartPush', async (call) => {
    await call.succ({});
    const n = call.req.n;
    for (let i = 0; i < n; i++) {
        const sent = call.conn.sendMsg('GameFrame', gameFrame(i));
        // Backpressure: at most about 256 frames queued.
        if (i % 256 === 255) await sent;
    }
});

server.implementApi('StartFanout', async (call) => {
    await call.succ({});
    for (let i = 0; i < call.req.m; i++) {
        server.broadcastMsg('Chat', chat(i));
    }
});

server.start().then(() => {
    const addr = server._httpServer.address();
    process.stdout.write(`READY ws://127.0.0.1:${addr.port} pid=${process.pid}\n`);
}, (e) => {
    process.stderr.write(`cannot start: ${e}\n`);
    process.exit(2);
});

const stop = () => process.exit(0);
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
if (process.env.BENCH_EXIT_ON_STDIN_CLOSE === '1') {
    process.stdin.on('end', stop);
    process.stdin.on('close', stop);
    process.stdin.resume();
}
