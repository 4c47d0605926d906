'use strict';
// Raw WebSocket probe (npm `ws`, the library TSRPC itself uses).
// Usage: node rawws.js [--protocol text|buffer|none] [--timeout MS] [--stdin] ws://127.0.0.1:<port> <frame>...
//   frame: `t:<text>` = text frame, `b:<hex>` = binary frame (e.g. `b:00` = TSRPC heartbeat).
//   --stdin: more frames after those of the command line, one JSON string per stdin line (for
//   frames longer than a command-line argument may be).
// Prints one JSON object per line (see README.md); exits after the close or the timeout (3000 ms).

const WebSocket = require('ws');

let protocol = 'text';
let timeoutMs = 3000;
let url;
let fromStdin = false;
const frames = [];
const args = process.argv.slice(2);
while (args.length) {
    const a = args.shift();
    if (a === '--protocol') protocol = args.shift();
    else if (a === '--timeout') timeoutMs = Number(args.shift());
    else if (a === '--stdin') fromStdin = true;
    else if (!url) url = a;
    else frames.push(a);
}
if (fromStdin) {
    const lines = require('fs').readFileSync(0, 'utf8').split('\n').filter((l) => l.trim() !== '');
    for (const l of lines) frames.push(JSON.parse(l));
}
const badFrame = frames.find((f) => !/^t:/.test(f) && !/^b:([0-9a-fA-F]{2})*$/.test(f));
if (!url || !(timeoutMs >= 0) || badFrame !== undefined) {
    process.stderr.write('usage: node rawws.js [--protocol text|buffer|none] [--timeout MS] [--stdin] ' +
        'ws://host:port (t:<text> | b:<hex>)...\n');
    process.exit(2);
}

const out = (obj) => process.stdout.write(JSON.stringify(obj) + '\n');

const ws = new WebSocket(url, protocol === 'none' ? [] : [protocol]);

const timer = setTimeout(() => {
    out({ event: 'timeout' });
    ws.terminate();
    process.exit(0);
}, timeoutMs);

ws.on('open', () => {
    out({ event: 'open', protocol: ws.protocol });
    for (const f of frames) {
        const data = f.startsWith('t:') ? f.slice(2) : Buffer.from(f.slice(2), 'hex');
        ws.send(data, { binary: f.startsWith('b:') }, (err) => {
            if (err) out({ event: 'sendError', frame: f, message: err.message });
        });
    }
});

ws.on('message', (data) => {
    if (typeof data === 'string') out({ event: 'recv', type: 'text', data });
    else out({ event: 'recv', type: 'binary', hex: Buffer.from(data).toString('hex') });
});

ws.on('close', (code, reason) => {
    out({ event: 'close', code, reason: String(reason) });
    clearTimeout(timer);
    process.exit(0);
});

ws.on('error', (err) => {
    out({ event: 'error', message: err.message });
    clearTimeout(timer);
    process.exit(1);
});
