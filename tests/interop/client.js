'use strict';
// Real TSRPC client (json mode) driving a server under test.
// Usage: node client.js <ws|http>://127.0.0.1:<port> <scenario> [--json true|false]
// Prints one JSON object per line on stdout; the last line of a successful run is {"step":"done"}.
// Exit code: 0 done, 1 unexpected failure (a {"step":"error",...} line is printed first),
// 2 bad usage, 3 watchdog (20 s).

const path = require('path');
const { WsClient, HttpClient } = require('tsrpc');
const serviceProto = require(path.join(__dirname, 'protocols', 'serviceProto.json'));

const [server, scenario, ...rest] = process.argv.slice(2);
let json = true;
if (rest.length === 2 && rest[0] === '--json' && (rest[1] === 'true' || rest[1] === 'false')) {
    json = rest[1] === 'true';
} else if (rest.length) {
    usage();
}

function usage() {
    process.stderr.write('usage: node client.js <ws|http>://127.0.0.1:<port> ' +
        'apis|msgs|http-msg|kick|reconnect|heartbeat|no-heartbeat [--json true|false]\n');
    process.exit(2);
}

function out(obj) {
    process.stdout.write(JSON.stringify(obj) + '\n');
}

class Unexpected extends Error {}
function check(cond, message) {
    if (!cond) throw new Unexpected(message);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A one-shot event: `promise` resolves with the value given to `signal()`. */
function event() {
    let signal;
    const promise = new Promise((resolve) => { signal = resolve; });
    return { promise, signal };
}

/** Awaits `promise`, failing the scenario after `ms`. */
function within(promise, what, ms = 3000) {
    let timer;
    const timeout = new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Unexpected('timed out waiting for ' + what)), ms);
    });
    return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const isWs = /^wss?:/.test(server || '');
const isHttp = /^https?:/.test(server || '');

function wsClient(extra = {}) {
    check(isWs, `scenario ${scenario} needs a ws:// server`);
    return new WsClient(serviceProto, { server, json, ...extra });
}

async function connect(client, step = 'connect') {
    const ret = await client.connect();
    out({ step, ret });
    check(ret.isSucc, 'connect failed');
}

/**
 * Records postDisconnectFlow events, printing each as {"step":"postDisconnect","event":{...}}.
 * `rec.wait(n)` resolves once n events have been recorded in total.
 */
function recordDisconnects(client) {
    const rec = { events: [], waiters: [] };
    rec.wait = (n) => {
        if (rec.events.length >= n) return Promise.resolve();
        const e = event();
        rec.waiters.push({ n, signal: e.signal });
        return e.promise;
    };
    client.flows.postDisconnectFlow.push((v) => {
        rec.events.push({ reason: v.reason, isManual: v.isManual });
        out({ step: 'postDisconnect', event: rec.events[rec.events.length - 1] });
        rec.waiters = rec.waiters.filter((w) => (rec.events.length >= w.n ? (w.signal(), false) : true));
        return v;
    });
    return rec;
}

async function call(client, step, api, req) {
    const ret = await client.callApi(api, req);
    out({ step, ret });
    return ret;
}

const scenarios = {
    async apis() {
        check(isWs || isHttp, 'unknown server scheme');
        const client = isWs ? wsClient() : new HttpClient(serviceProto, { server, json });
        if (isWs) await connect(client);
        // WhoAmI needs a login (conf needLogin); over HTTP every request is a new connection.
        await call(client, 'WhoAmI.before', 'WhoAmI', {});
        await call(client, 'Login', 'Login', { username: 'alice', password: 'secret' });
        await call(client, 'WhoAmI', 'WhoAmI', {});
        await call(client, 'Login.wrong', 'Login', { username: 'alice', password: 'wrong' });
        await call(client, 'Add', 'Add', { a: 1, b: 2 });
        await call(client, 'Fail', 'Fail', {});
        await call(client, 'Fail.number', 'Fail', { mode: 'number' });
        await call(client, 'Fail.throw', 'Fail', { mode: 'throw' });
        await call(client, 'Slow', 'Slow', { ms: 50 });
        await call(client, 'Stats', 'Stats', {});
        if (isWs) await client.disconnect();
    },

    async msgs() {
        const client = wsClient();
        const waiting = new Map(); // msg name -> signal of the event waiting for it
        const expect = (name) => {
            const e = event();
            waiting.set(name, e.signal);
            return within(e.promise, 'msg ' + name);
        };
        const onMsg = (msg, name) => {
            out({ step: 'recv', name, msg });
            const signal = waiting.get(name);
            if (signal) { waiting.delete(name); signal(msg); }
        };
        client.listenMsg('Chat', onMsg);
        client.listenMsg(/^room\//, onMsg);
        client.listenMsg(/^game\//, onMsg);
        await connect(client);

        const send = async (name, msg) => {
            const got = expect(name);
            const ret = await client.sendMsg(name, msg);
            out({ step: 'sendMsg', name, ret });
            check(ret.isSucc, 'sendMsg failed');
            await got;
        };
        await send('Chat', { name: 'alice', content: 'hi' });
        await send('room/UserJoin', { roomId: 'r1', user: { id: 7, name: 'bob' }, tags: ['x'] });
        await send('room/UserLeave', { roomId: 'r1', userId: 7 });

        const over = expect('game/GameOver');
        await call(client, 'GameBurst', 'GameBurst', { frames: 3 });
        await over;
        await client.disconnect();
    },

    async 'http-msg'() {
        check(isHttp, 'scenario http-msg needs an http:// server');
        const client = new HttpClient(serviceProto, { server, json });
        const ret = await client.sendMsg('Chat', { name: 'alice', content: 'hi' });
        out({ step: 'sendMsg', name: 'Chat', ret });
        await call(client, 'Stats', 'Stats', {});
    },

    async kick() {
        const client = wsClient();
        const rec = recordDisconnects(client);
        await connect(client);
        await call(client, 'Kick', 'Kick', { reason: 'kicked-by-test' });
        await within(rec.wait(1), 'postDisconnect');
    },

    async reconnect() {
        const client = wsClient();
        const reconnected = event();
        const rec = recordDisconnects(client);
        // The reconnect recipe of the TSRPC docs (delay shortened to 300 ms).
        client.flows.postDisconnectFlow.push((v) => {
            if (!v.isManual) {
                setTimeout(async () => {
                    const ret = await client.connect();
                    out({ step: 'reconnect', ret });
                    reconnected.signal(ret);
                }, 300);
            }
            return v;
        });
        await connect(client);
        await call(client, 'Kick', 'Kick', { reason: 'kicked-by-test' });
        const ret = await within(reconnected.promise, 'reconnect');
        check(ret.isSucc, 'reconnect failed');
        await call(client, 'Add', 'Add', { a: 1, b: 2 });
        out({ step: 'disconnectCount', count: rec.events.length });
        await client.disconnect();
        await within(rec.wait(2), 'manual postDisconnect');
        out({ step: 'disconnectCount', count: rec.events.length });
    },

    async heartbeat() {
        const client = wsClient({ heartbeat: { interval: 100, timeout: 1000 } });
        recordDisconnects(client);
        await connect(client);
        await sleep(600);
        const latency = client.lastHeartbeatLatency;
        out({
            step: 'heartbeat',
            latencyIsNumber: typeof latency === 'number',
            lastHeartbeatLatency: latency,
            status: client.status,
        });
        await client.disconnect();
    },

    async 'no-heartbeat'() {
        const client = wsClient();
        const rec = recordDisconnects(client);
        await connect(client);
        const start = Date.now();
        const closed = await Promise.race([rec.wait(1).then(() => true), sleep(3000).then(() => false)]);
        if (closed) {
            out({ step: 'closedAfter', ms: Date.now() - start });
        } else {
            out({ step: 'notClosed', status: client.status });
            await client.disconnect();
        }
    },
};

const run = scenarios[scenario];
if (!server || !run) usage();

setTimeout(() => {
    out({ step: 'error', message: 'watchdog: scenario did not finish within 20 s' });
    process.exit(3);
}, 20000);

run().then(
    () => {
        out({ step: 'done' });
        process.exit(0);
    },
    (e) => {
        out({ step: 'error', message: e instanceof Unexpected ? e.message : String(e && e.stack || e) });
        process.exit(1);
    },
);
