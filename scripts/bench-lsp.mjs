// As-you-type latency at the LSP level: drive the bundled server over JSON-RPC, replay typing in a
// large file, and measure didChange → publishDiagnostics. Also server RSS after opening many files
// and after many edits. Prints JSON; bench.mjs folds it into BENCHMARKS.md.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const rpc = require('vscode-jsonrpc/node');
const root = path.join(path.dirname(new URL(import.meta.url).pathname), '..');
const src = process.env.RACELENS_BENCH_CORPUS ?? '/usr/lib/go-1.19/src';

function rss(pid) {
  const m = /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Math.round(Number(m[1]) / 1024);
}

/** CPU time (user + system) a process has used, in ms: wall time on a busy machine says less. */
function cpuMs(pid) {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10; // utime + stime, in 100 Hz ticks
}

function pct(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  return +s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))].toFixed(2);
}

async function server() {
  const proc = spawn(process.execPath, [path.join(root, 'dist', 'server.js'), '--stdio'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const conn = rpc.createMessageConnection(new rpc.StreamMessageReader(proc.stdout), new rpc.StreamMessageWriter(proc.stdin));
  const waiters = new Map();
  conn.onNotification('textDocument/publishDiagnostics', (p) => {
    const w = waiters.get(`${p.uri}@${p.version}`);
    if (w) { waiters.delete(`${p.uri}@${p.version}`); w(); }
  });
  conn.onNotification(() => undefined);
  conn.onRequest(() => null);
  conn.listen();
  await conn.sendRequest('initialize', { processId: process.pid, rootUri: null, capabilities: {}, initializationOptions: { debounceMs: 0 } });
  await conn.sendNotification('initialized', {});
  const published = (uri, version) => new Promise((r) => waiters.set(`${uri}@${version}`, r));
  return { proc, conn, published };
}

/** Typing session: inserts, deletes, a pasted line and undo, at spread-out positions. */
function* session(text, steps) {
  const lines = text.split('\n');
  for (let i = 0; i < steps; i++) {
    const line = Math.floor((lines.length * ((i * 7919) % 1000)) / 1000);
    const kind = i % 10;
    if (kind < 6) yield { line, ch: 0, del: 0, ins: 'x' };
    else if (kind < 8) yield { line, ch: 0, del: 1, ins: '' };
    else if (kind === 8) yield { line, ch: 0, del: 0, ins: '\tm[k] = v // pasted\n' };
    else yield { line, ch: 0, del: 0, ins: '' }; // a no-op "undo" round trip
  }
}

async function typing(file, steps) {
  const { proc, conn, published } = await server();
  const uri = pathToFileURL(file).href;
  let text = fs.readFileSync(file, 'utf8');
  const opened = published(uri, 1);
  const t0 = performance.now();
  await conn.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'go', version: 1, text } });
  await opened;
  const openMs = performance.now() - t0;
  const lat = [];
  let version = 1;
  const undo = [];
  const cpu0 = cpuMs(proc.pid);
  for (const s of session(text, steps)) {
    version++;
    const change = s.ins === '' && s.del === 0 && undo.length
      ? undo.pop()
      : { range: { start: { line: s.line, character: s.ch }, end: { line: s.line, character: s.ch + s.del } }, text: s.ins };
    if (!(s.ins === '' && s.del === 0)) {
      const insertedLines = change.text.split('\n');
      const end = insertedLines.length === 1
        ? { line: change.range.start.line, character: change.range.start.character + change.text.length }
        : { line: change.range.start.line + insertedLines.length - 1, character: insertedLines[insertedLines.length - 1].length };
      if (s.del === 0) undo.push({ range: { start: change.range.start, end }, text: '' });
    }
    const done = published(uri, version);
    const t = performance.now();
    await conn.sendNotification('textDocument/didChange', { textDocument: { uri, version }, contentChanges: [change] });
    await done;
    lat.push(performance.now() - t);
  }
  const cpuPerEdit = +((cpuMs(proc.pid) - cpu0) / steps).toFixed(1);
  const mb = rss(proc.pid);
  proc.kill();
  return { file: path.relative(src, file), lines: text.split('\n').length, openMs: +openMs.toFixed(1), edits: steps, p50: pct(lat, 50), p95: pct(lat, 95), p99: pct(lat, 99), cpuMsPerEdit: cpuPerEdit, rssMb: mb };
}

async function memory(files, edits) {
  const { proc, conn, published } = await server();
  for (const [i, f] of files.entries()) {
    const uri = pathToFileURL(f).href;
    const done = published(uri, 1);
    await conn.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'go', version: 1, text: fs.readFileSync(f, 'utf8') } });
    await done;
    if (i === 0) var first = rss(proc.pid);
  }
  const afterOpen = rss(proc.pid);
  const uri = pathToFileURL(files[0]).href;
  for (let v = 2; v < edits + 2; v++) {
    const done = published(uri, v);
    const ins = v % 2 === 0;
    await conn.sendNotification('textDocument/didChange', { textDocument: { uri, version: v }, contentChanges: [{ range: { start: { line: 3, character: 0 }, end: { line: 3, character: ins ? 0 : 1 } }, text: ins ? 'x' : '' }] });
    await done;
    if (v === 1002) var after1k = rss(proc.pid);
  }
  const afterEdits = rss(proc.pid);
  proc.kill();
  return { files: files.length, rssFirstMb: first, rssAfterOpenMb: afterOpen, rssAfter1kEditsMb: after1k, rssAfterEditsMb: afterEdits, edits };
}

const steps = Number(process.env.STEPS ?? 300);
// BENCH_ONLY=typing skips the memory part; BENCH_FILES=a.go,b.go (relative to the corpus) picks the typed files.
const only = process.env.BENCH_ONLY;
const typedFiles = (process.env.BENCH_FILES ?? 'net/http/server.go,cmd/compile/internal/ssa/rewriteAMD64.go').split(',');
const results = { typing: [] };
for (const f of typedFiles) results.typing.push(await typing(path.join(src, f), steps));
if (only === 'typing') {
  console.log(JSON.stringify(results, null, 2));
  process.exit(0);
}
const many = fs.readdirSync(path.join(src, 'net/http')).filter((f) => f.endsWith('.go')).map((f) => path.join(src, 'net/http', f))
  .concat(fs.readdirSync(path.join(src, 'go/types')).filter((f) => f.endsWith('.go')).map((f) => path.join(src, 'go/types', f)))
  .concat(fs.readdirSync(path.join(src, 'runtime')).filter((f) => f.endsWith('.go')).map((f) => path.join(src, 'runtime', f)))
  .slice(0, 200);
results.memory = await memory(many, Number(process.env.EDITS ?? 10000));
console.log(JSON.stringify(results, null, 2));
