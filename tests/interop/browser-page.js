// The page of the browser test (bundled by browser.js with esbuild): the real `tsrpc-browser`
// clients, in the page's origin, calling our server on another origin. `window.runAll(cfg)`
// runs every step and resolves with the JSON text of the lines (one object per step).
import { WsClient, HttpClient } from 'tsrpc-browser';
import serviceProto from './protocols/serviceProto.json';

const quiet = { debug() {}, log() {}, warn() {}, error() {} };

function within(promise, ms, what) {
    let timer;
    const timeout = new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('timed out waiting for ' + what)), ms);
    });
    return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// A TsrpcError or a return as plain data.
const plain = (v) => JSON.parse(JSON.stringify(v));

window.runAll = async function (cfg) {
    const lines = [];
    const out = (o) => lines.push(plain(o));
    try {
        for (const json of [true, false]) {
            const mode = json ? 'json' : 'binary';

            const ws = new WsClient(serviceProto, { server: cfg.ws, json, logger: quiet });
            out({ step: `ws.${mode}.connect`, ret: await within(ws.connect(), 5000, 'connect') });
            out({ step: `ws.${mode}.Add`, ret: await ws.callApi('Add', { a: 1, b: 2 }) });
            const echo = new Promise((resolve) => ws.listenMsg('Chat', (msg) => resolve(msg)));
            out({ step: `ws.${mode}.sendMsg`, ret: await ws.sendMsg('Chat', { name: 'alice', content: 'hi' }) });
            out({ step: `ws.${mode}.echo`, msg: await within(echo, 5000, 'the echo') });
            out({ step: `ws.${mode}.Fail`, ret: await ws.callApi('Fail', {}) });
            await ws.disconnect();

            // Cross-origin requests: a JSON or binary POST is preflighted (OPTIONS) first.
            const http = new HttpClient(serviceProto, { server: cfg.http, json, logger: quiet });
            out({ step: `http.${mode}.Add`, ret: await http.callApi('Add', { a: 2, b: 3 }) });
            out({ step: `http.${mode}.sendMsg`, ret: await http.sendMsg('Chat', { name: 'bob', content: 'yo' }) });
            const allowed = new HttpClient(serviceProto, { server: cfg.allowed, json, logger: quiet });
            out({ step: `cors.allowed.${mode}`, ret: await allowed.callApi('Add', { a: 1, b: 1 }) });
            const refused = new HttpClient(serviceProto, { server: cfg.refused, json, logger: quiet });
            out({ step: `cors.refused.${mode}`, ret: await refused.callApi('Add', { a: 1, b: 1 }) });
        }
        // The sub-protocol echo: a browser fails the connection unless the server echoes one
        // of the offered protocols.
        for (const protocol of ['text', 'buffer']) {
            const sock = new WebSocket(cfg.ws, protocol);
            const opened = new Promise((resolve) => {
                sock.onopen = () => resolve({ open: true, protocol: sock.protocol });
                sock.onerror = () => resolve({ open: false });
            });
            out({ step: `subprotocol.${protocol}`, ...(await within(opened, 5000, 'open')) });
            sock.close();
        }
    } catch (e) {
        out({ step: 'error', message: String((e && e.stack) || e) });
    }
    return JSON.stringify(lines);
};
