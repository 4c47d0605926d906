'use strict';
// The browser test's driver: bundles browser-page.js (the real `tsrpc-browser`) with esbuild
// into <outdir>/bundle.js next to an index.html, opens <pageUrl> (a test server serving
// <outdir>) in headless Chromium (playwright-core, /usr/bin/chromium or $CHROMIUM, a fresh
// profile) and runs `window.runAll(<config>)` there.
// Usage: node browser.js <outdir> <pageUrl> <config JSON: {ws, http, allowed, refused}>
// Prints one JSON object per line; the last line of a successful run is {"step":"done"}.
// Exit code: 0 done, 1 failure (a {"step":"error",...} line first), 2 bad usage, 3 watchdog.

const fs = require('fs');
const os = require('os');
const path = require('path');

const out = (obj) => process.stdout.write(JSON.stringify(obj) + '\n');

const [outdir, pageUrl, config] = process.argv.slice(2);
if (!outdir || !pageUrl || !config) {
    process.stderr.write('usage: node browser.js <outdir> <pageUrl> <config JSON>\n');
    process.exit(2);
}

setTimeout(() => {
    out({ step: 'error', message: 'watchdog: the browser test did not finish within 40 s' });
    process.exit(3);
}, 40000).unref();

async function main() {
    const esbuild = require('esbuild');
    const { chromium } = require('playwright-core');
    await esbuild.build({
        entryPoints: [path.join(__dirname, 'browser-page.js')],
        bundle: true,
        outfile: path.join(outdir, 'bundle.js'),
        platform: 'browser',
        format: 'iife',
        target: 'es2017',
        logLevel: 'error',
    });
    fs.writeFileSync(path.join(outdir, 'index.html'),
        '<!doctype html><html><head><meta charset="utf-8"><title>tsrpc-browser</title>' +
        '<script src="bundle.js"></script></head><body>tsrpc-browser test</body></html>\n');
    out({ step: 'bundled' });

    const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrpc-browser-profile-'));
    const context = await chromium.launchPersistentContext(profile, {
        executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
        headless: true,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
            '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    try {
        const page = context.pages()[0] || (await context.newPage());
        page.on('console', (m) => process.stderr.write(`[page ${m.type()}] ${m.text()}\n`));
        page.on('pageerror', (e) => process.stderr.write(`[page error] ${e}\n`));
        await page.goto(pageUrl);
        out({ step: 'loaded', userAgent: await page.evaluate(() => navigator.userAgent) });
        const text = await page.evaluate((cfg) => window.runAll(cfg), JSON.parse(config));
        for (const line of JSON.parse(text)) out(line);
    } finally {
        await context.close();
        fs.rmSync(profile, { recursive: true, force: true });
    }
}

main().then(
    () => {
        out({ step: 'done' });
        process.exit(0);
    },
    (e) => {
        out({ step: 'error', message: String((e && e.stack) || e) });
        process.exit(1);
    },
);
