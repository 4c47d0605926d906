'use strict';
// Raw HTTP probe.
// Usage: node rawhttp.js [--method M] http://127.0.0.1:<port> <path> <content-type> <body>
//   content-type: '' sends no Content-Type header.
//   body: `b:<hex>` = binary bytes, `t:<text>` = text, `-` = read it from stdin (in one of these
//   forms), anything else = that text as is.
// Prints one JSON line {status, headers, body, bodyHex}; exit 0, or 1 on a network error/timeout (3 s).

const http = require('http');

const args = process.argv.slice(2);
let method = 'POST';
if (args[0] === '--method') {
    args.shift();
    method = args.shift();
}
const [base, path, contentType, bodyArg] = args;
const rawBody = bodyArg === '-' ? require('fs').readFileSync(0, 'utf8') : bodyArg;
if (args.length !== 4 || !/^https?:\/\//.test(base) || !path.startsWith('/')) {
    process.stderr.write('usage: node rawhttp.js [--method M] http://host:port /path <content-type> <body>\n');
    process.exit(2);
}

let body;
if (rawBody.startsWith('b:')) body = Buffer.from(rawBody.slice(2), 'hex');
else if (rawBody.startsWith('t:')) body = Buffer.from(rawBody.slice(2), 'utf8');
else body = Buffer.from(rawBody, 'utf8');

const out = (obj) => process.stdout.write(JSON.stringify(obj) + '\n');
const fail = (message) => {
    out({ error: message });
    process.exit(1);
};

const url = new URL(base);
const headers = { 'Content-Length': body.length };
if (contentType) headers['Content-Type'] = contentType;
const req = http.request({
    host: url.hostname, port: url.port, method, path, headers, agent: false, timeout: 3000,
}, (res) => {
    const chunks = [];
    res.on('data', (c) => chunks.push(c));
    res.on('end', () => {
        const buf = Buffer.concat(chunks);
        const picked = {};
        for (const [k, v] of Object.entries(res.headers)) {
            if (k === 'content-type' || k === 'x-powered-by' || k === 'x-tsrpc-close-reason' ||
                k.startsWith('access-control-')) {
                picked[k] = v;
            }
        }
        out({ status: res.statusCode, headers: picked, body: buf.toString('utf8'), bodyHex: buf.toString('hex') });
        process.exit(0);
    });
});
req.on('timeout', () => req.destroy(new Error('timeout')));
req.on('error', (e) => fail(e.message));
req.end(body);
