// Soak (issue 16): 10,000 edits over JSON-RPC that put syntax errors in and take them out again.
// Each round types 25 random edits into a copy of examples/orderservice/admin.go (file-rule findings)
// or, every other round, config.go (a package-rule finding): braces, parentheses, quotes, comment
// openers, deletions; then undoes them one by one, so the text is the original again; once
// typing pauses the diagnostics of every open file must be the original ones (no finding lost).
// Prints JSON: server RSS over the run, rounds, stale answers, lost findings.
// SOAK_EDITS=10000 (default); SOAK_BUDGET_MS=0 makes every keystroke's reparse run out (stale path).
// Too slow for npm test (a pause per round): run `node scripts/soak-lsp.mjs` after `npm run build`.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const rpc = require('vscode-jsonrpc/node');
const root = path.join(path.dirname(new URL(import.meta.url).pathname), '..');
const edits = Number(process.env.SOAK_EDITS ?? 10000);
const budget = process.env.SOAK_BUDGET_MS === undefined ? {} : { reparseBudgetMs: Number(process.env.SOAK_BUDGET_MS) };

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'racelens-soak-'));
for (const f of fs.readdirSync(path.join(root, 'examples/orderservice'))) fs.copyFileSync(path.join(root, 'examples/orderservice', f), path.join(dir, f));
const opened = ['admin.go', 'cache.go', 'config.go'].map((f) => path.join(dir, f));

const rss = (pid) => Math.round(Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let seed = 7;
const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);

const proc = spawn(process.execPath, [path.join(root, 'dist', 'server.js'), '--stdio'], { stdio: ['pipe', 'pipe', 'inherit'] });
const conn = rpc.createMessageConnection(new rpc.StreamMessageReader(proc.stdout), new rpc.StreamMessageWriter(proc.stdin));
const latest = new Map();
let staleAnswers = 0;
/** Publications for files not open: only a package pass (package rules, once typing pauses) makes them. */
let packagePublishes = 0;
conn.onNotification('textDocument/publishDiagnostics', (p) => {
  latest.set(p.uri, p);
  if (!texts.has(p.uri)) packagePublishes++;
});
conn.onNotification('racelens/status', (s) => { if (s.stale) staleAnswers++; });
conn.onNotification(() => undefined);
conn.onRequest(() => null);
conn.listen();
await conn.sendRequest('initialize', { processId: process.pid, rootUri: null, capabilities: {}, initializationOptions: { debounceMs: 0, ...budget } });
await conn.sendNotification('initialized', {});

const key = (p) => JSON.stringify((p?.diagnostics ?? []).map((d) => [d.code, d.range, d.message]).sort());
const texts = new Map(opened.map((f) => [pathToFileURL(f).href, fs.readFileSync(f, 'utf8')]));
for (const [uri, text] of texts) await conn.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'go', version: 1, text } });

/**
 * Waits until a package pass has published since `mark` and every open file shows `want` (a key
 * per uri), or `ms` passes; the uris that never did.
 */
async function settle(want, mark, ms) {
  const end = Date.now() + ms;
  for (;;) {
    const off = [...texts.keys()].filter((u) => key(latest.get(u)) !== want.get(u));
    if ((!off.length && packagePublishes > mark) || Date.now() > end) return off;
    await sleep(50);
  }
}

// The original findings: once a package pass has published (stats.go and workers.go have findings).
for (let i = 0; i < 600 && !packagePublishes; i++) await sleep(50);
if (!packagePublishes) throw new Error('soak: no package pass in 30 s');
const baseline = new Map([...texts.keys()].map((u) => [u, key(latest.get(u))]));
const findings = Object.fromEntries([...baseline].map(([u, k]) => [path.basename(u), JSON.parse(k).map((d) => d[0])]));

const targets = ['admin.go', 'config.go'].map((f) => pathToFileURL(path.join(dir, f)).href);
const versions = new Map(targets.map((u) => [u, 1]));
let uri, text, version;
const samples = { afterOpenMb: rss(proc.pid) };
const lost = [];
const pieces = ['{', '}', '(', ')', 'func ', '"', '`', '/*', '\n', 'x := ', '[', 'go '];
let done = 0, rounds = 0;

function offsetToPosition(t, off) {
  const before = t.slice(0, off);
  const line = before.split('\n').length - 1;
  return { line, character: off - (before.lastIndexOf('\n') + 1) };
}

async function send(start, end, insert) {
  const range = { start: offsetToPosition(text, start), end: offsetToPosition(text, end) };
  text = text.slice(0, start) + insert + text.slice(end);
  version++;
  done++;
  await conn.sendNotification('textDocument/didChange', { textDocument: { uri, version }, contentChanges: [{ range, text: insert }] });
  // As an editor does: the next keystroke comes after the server answered this one.
  const v = version;
  for (let i = 0; i < 2000 && latest.get(uri)?.version !== v; i++) await sleep(1);
}

while (done < edits) {
  uri = targets[rounds % targets.length];
  text = texts.get(uri);
  version = versions.get(uri);
  const undo = [];
  for (let i = 0; i < 25 && done < edits; i++) {
    const start = Math.floor(rand() * text.length);
    const del = rand() < 0.3 ? 1 + Math.floor(rand() * 3) : 0;
    const insert = del ? '' : pieces[Math.floor(rand() * pieces.length)];
    const end = Math.min(text.length, start + del);
    undo.push({ start, end: start + insert.length, text: text.slice(start, end) });
    await send(start, end, insert);
  }
  while (undo.length) { const u = undo.pop(); await send(u.start, u.end, u.text); }
  const marked = packagePublishes; // the last edit is answered: a package pass publishing now saw the restored text
  versions.set(uri, version);
  rounds++;
  if (text !== texts.get(uri)) throw new Error('soak: the undo did not restore the text');
  const off = await settle(baseline, marked, 30000);
  if (off.length) lost.push({ round: rounds, edits: done, uris: off.map((u) => path.basename(u)) });
  if (done >= 2000 && samples.after2kMb === undefined) samples.after2kMb = rss(proc.pid);
}
samples.afterAllMb = rss(proc.pid);
await conn.sendRequest('shutdown').catch(() => undefined);
await conn.sendNotification('exit');
fs.rmSync(dir, { recursive: true, force: true });
console.log(JSON.stringify({ edits: done, rounds, findings, staleAnswers, rss: samples, lost }, null, 2));
process.exit(lost.length ? 1 : 0);
