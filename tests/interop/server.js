'use strict';
// Reference TSRPC service (see ../shared/tsrpc-reference/README.md from the repository root) on the real npm `tsrpc`.
// Usage: node server.js ws|http [--heartbeat-wait MS] [--json true|false]
//        [--json-host-path PATH] [--cors ORIGIN|off] [--cors-max-age S]
// Prints one line `READY <ws|http>://127.0.0.1:<port>` once listening.
// Exits when stdin closes, on SIGTERM and on SIGINT.

const http = require('http');
const path = require('path');
const util = require('util');
const { WsServer, HttpServer } = require('tsrpc');
const serviceProto = require(path.join(__dirname, 'protocols', 'serviceProto.json'));

function fail(msg) {
    process.stderr.write(msg + '\n');
    process.exit(2);
}

// ---- command line
const argv = process.argv.slice(2);
const kind = argv.shift();
if (kind !== 'ws' && kind !== 'http') {
    fail('usage: node server.js ws|http [--heartbeat-wait MS] [--json true|false]');
}
let json = true;
let heartbeatWaitTime;
const httpOptions = {};
while (argv.length) {
    const flag = argv.shift();
    const value = argv.shift();
    if (flag === '--heartbeat-wait' && /^\d+$/.test(value || '')) heartbeatWaitTime = Number(value);
    else if (flag === '--json' && (value === 'true' || value === 'false')) json = value === 'true';
    else if (flag === '--json-host-path' && value) httpOptions.jsonHostPath = value;
    else if (flag === '--cors' && value) httpOptions.cors = value === 'off' ? undefined : value;
    else if (flag === '--cors-max-age' && /^\d+$/.test(value || '')) httpOptions.corsMaxAge = Number(value);
    else fail(`bad argument: ${flag} ${value === undefined ? '' : value}`);
}

// ---- TSRPC has no host option: force every listen() in this process onto 127.0.0.1, port 0.
const originalListen = http.Server.prototype.listen;
http.Server.prototype.listen = function (...args) {
    const callback = args.find((a) => typeof a === 'function');
    return callback
        ? originalListen.call(this, 0, '127.0.0.1', callback)
        : originalListen.call(this, 0, '127.0.0.1');
};

// Quiet logger (set TSRPC_INTEROP_LOG=1 to get TSRPC's logs on stderr).
const noop = () => {};
const stderrLog = (...a) => process.stderr.write(util.format(...a) + '\n');
const logFn = process.env.TSRPC_INTEROP_LOG === '1' ? stderrLog : noop;
const logger = { debug: logFn, log: logFn, warn: logFn, error: logFn };

const isWs = kind === 'ws';
const options = { port: 0, json, returnInnerError: true, logger, ...httpOptions };
if (isWs && heartbeatWaitTime !== undefined) options.heartbeatWaitTime = heartbeatWaitTime;
const server = isWs ? new WsServer(serviceProto, options) : new HttpServer(serviceProto, options);

// ---- service state
let nextUserId = 1000;
let chatCount = 0;
let lastChat;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// ---- APIs
server.implementApi('Add', async (call) => {
    call.succ({ c: call.req.a + call.req.b });
});

server.implementApi('Fail', async (call) => {
    const mode = call.req.mode || 'string';
    if (mode === 'number') {
        call.error('Failed with a numeric code', { code: 42 });
    } else if (mode === 'throw') {
        throw new Error('Intentional exception from PtlFail');
    } else {
        call.error('Failed on purpose', { code: 'E_FAIL', detail: 'extra field' });
    }
});

server.implementApi('GameBurst', async (call) => {
    if (!isWs) {
        call.error('GameBurst needs a WebSocket connection', { code: 'NEED_WS' });
        return;
    }
    const frames = call.req.frames;
    const gameId = 'g-' + Date.now();
    await call.conn.sendMsg('game/GameStart', {
        gameId,
        seed: 123456789,
        players: [{ id: 1, name: 'alice' }, { id: 2, name: 'bob' }],
    });
    for (let i = 0; i < frames; i++) {
        const frame = {
            frame: i,
            inputs: [{ playerId: 1, dx: i, dy: -i }, { playerId: 2, dx: -1, dy: 1 }],
        };
        if (i % 2 === 0) frame.checksum = 'ck' + i;
        await call.conn.sendMsg('game/GameFrame', frame);
    }
    await call.conn.sendMsg('game/GameOver', {
        gameId, winner: 1, result: 'win', draw: false, scores: [10.5, -3],
    });
    call.succ({ sent: frames + 2 });
});

server.implementApi('Kick', async (call) => {
    call.succ({});
    if (isWs) {
        const conn = call.conn;
        setTimeout(() => conn.close(call.req.reason), 20);
    }
});

server.implementApi('Login', async (call) => {
    if (call.req.password === 'wrong') {
        call.error('Wrong password', { code: 'BAD_PASSWORD' });
        return;
    }
    const id = nextUserId++;
    // The session lives on the connection (over HTTP each request is one, so it does not last).
    call.conn.session = { id, name: call.req.username };
    call.succ({ token: `token-${call.req.username}-${id}`, user: { id, name: call.req.username } });
});

// Login guard: an API whose conf says `needLogin` is refused without a session.
server.flows.preApiCallFlow.push((call) => {
    if (call.service.conf && call.service.conf.needLogin && !call.conn.session) {
        call.error('Need login', { code: 'NEED_LOGIN' });
        return undefined;
    }
    call.currentUser = call.conn.session;
    return call;
});

server.implementApi('WhoAmI', async (call) => {
    call.succ({ id: call.currentUser.id, name: call.currentUser.name });
});

server.implementApi('Slow', async (call) => {
    await sleep(call.req.ms);
    call.succ({ sleptMs: call.req.ms });
});

server.implementApi('Stats', async (call) => {
    const res = { chatCount };
    if (lastChat) res.lastChat = lastChat;
    call.succ(res);
});

// ---- msgs
server.listenMsg('Chat', (call) => {
    chatCount++;
    lastChat = { name: call.msg.name, content: call.msg.content };
    if (isWs) call.conn.sendMsg('Chat', { name: 'server', content: 'echo: ' + call.msg.content });
});

for (const name of ['room/UserJoin', 'room/UserLeave']) {
    server.listenMsg(name, (call) => {
        if (isWs) server.broadcastMsg(name, call.msg);
    });
}

// ---- lifecycle
const exit = () => process.exit(0);
process.on('SIGTERM', exit);
process.on('SIGINT', exit);
process.stdin.on('end', exit);
process.stdin.on('close', exit);
process.stdin.on('error', exit);
process.stdin.resume();

server.start().then(
    () => {
        const port = (isWs ? server._httpServer : server.httpServer).address().port;
        process.stdout.write(`READY ${kind}://127.0.0.1:${port}\n`);
    },
    (e) => fail('start failed: ' + (e && e.stack || e)),
);
