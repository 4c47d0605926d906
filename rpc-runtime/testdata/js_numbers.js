// Writes js_numbers.tsv: doubles (as the 16 hex digits of their bits) and the text V8 gives
// them with String(x), for the test `json::tests::matches_v8`. Deterministic: run it again
// with `node js_numbers.js > js_numbers.tsv` to get the same file (made with Node 20).
const view = new DataView(new ArrayBuffer(8));
const fromBits = (b) => { view.setBigUint64(0, b); return view.getFloat64(0); };
const bitsOf = (x) => { view.setFloat64(0, x); return view.getBigUint64(0); };
let seed = 0x2545F4914F6CDD1Dn;
const M = 0xFFFFFFFFFFFFFFFFn;
function next() { // splitmix64
  seed = (seed + 0x9E3779B97F4A7C15n) & M;
  let z = seed;
  z = ((z ^ (z >> 30n)) * 0xBF58476D1CE4E5B9n) & M;
  z = ((z ^ (z >> 27n)) * 0x94D049BB133111EBn) & M;
  return z ^ (z >> 31n);
}
const seen = new Set();
const lines = [];
function add(x) {
  const b = bitsOf(x);
  if (seen.has(b)) return;
  seen.add(b);
  lines.push(b.toString(16).padStart(16, '0') + '\t' + String(x));
}
function both(x) { add(x); add(-x); }
function around(x, k) { // x and its k neighbours each side, both signs
  const b = bitsOf(Math.abs(x));
  for (let i = -k; i <= k; i++) {
    const n = b + BigInt(i);
    if (n >= 0n && n < 0x7FF0000000000000n) both(fromBits(n));
  }
}
// Specials.
[0, -0, NaN, Infinity, -Infinity, Number.MIN_VALUE, Number.MAX_VALUE, Number.EPSILON,
  2.2250738585072014e-308, 0.1 + 0.2, 1 / 3, Math.PI, Math.E].forEach(both);
// Small integers and the integer/plain/exponent boundaries JavaScript uses (1e21, 1e-6, 1e-7),
// the 1e15 limit of the integer fast path, 2^53 and 2^64.
for (let i = 0; i <= 20; i++) both(i);
[1e21, 1e-6, 1e-7, 1e15, 1e16, 2 ** 53, 2 ** 63, 2 ** 64].forEach((x) => around(x, 2));
// Powers of ten and two across the range.
for (let e = -324; e <= 308; e += 7) around(Number('1e' + e), 1);
for (let e = -1074; e <= 1023; e += 61) both(2 ** e);
// Subnormals.
for (let i = 1n; i <= 4n; i++) { both(fromBits(i)); both(fromBits(0x0010000000000000n - i)); }
// Values with two shortest digit strings of which V8 picks the nearer (a formatter built on
// Rust's `{:e}` picked the other one for these).
['430c6bf526340002', '3e60000000000000', '4300000000000002', '4310000000000001',
  '431f37727d2a0a21', '42e32a72ff186e44', '42ec14f56d0b6fc4', '42bc65e088bcac90',
  '42dfac62e1b827e8', '42b1857f1c9038d0', '42d0f83946aa94a8']
  .forEach((h) => both(fromBits(BigInt('0x' + h))));
// Short decimals, as people write them.
for (let i = 0; i < 60; i++) {
  const digits = Number(next() % 17n) + 1;
  const m = (next() % (10n ** BigInt(digits))).toString();
  add(Number(m + 'e' + (Number(next() % 60n) - 30)));
}
// Random bit patterns.
while (lines.length < 600) {
  const x = fromBits(next());
  if (!Number.isNaN(x)) add(x);
}
process.stdout.write(lines.join('\n') + '\n');
