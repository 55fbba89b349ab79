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
  // BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the server; BENCH_INIT='{"reparseBudgetMs":1e9}'
  // adds initialization options (here: keystroke reparses without a bound).
  const nodeArgs = process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const proc = spawn(process.execPath, [...nodeArgs, path.join(root, 'dist', 'server.js'), '--stdio'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const conn = rpc.createMessageConnection(new rpc.StreamMessageReader(proc.stdout), new rpc.StreamMessageWriter(proc.stdin));
  const waiters = new Map();
  conn.onNotification('textDocument/publishDiagnostics', (p) => {
    const w = waiters.get(`${p.uri}@${p.version}`);
    if (w) { waiters.delete(`${p.uri}@${p.version}`); w(); }
  });
  // Answers given while a file's reparse ran out of its budget (findings shown as before the last edits).
  const counts = { staleAnswers: 0 };
  conn.onNotification('racelens/status', (s) => { if (s.stale) counts.staleAnswers++; });
  conn.onNotification(() => undefined);
  conn.onRequest(() => null);
  conn.listen();
  await conn.sendRequest('initialize', { processId: process.pid, rootUri: null, capabilities: {}, initializationOptions: { debounceMs: 0, ...JSON.parse(process.env.BENCH_INIT ?? '{}') } });
  await conn.sendNotification('initialized', {});
  const published = (uri, version) => new Promise((r) => waiters.set(`${uri}@${version}`, r));
  return { proc, conn, published, counts };
}

/**
 * The "typed" session, as a person types inside function bodies: Enter at the end of a statement,
 * a statement typed one character at a time (the file is invalid until it is complete), then undo
 * as one change; every third time also a pasted copy of the line and its undo. The file comes
 * back to valid code after each round, as it does in an editor.
 */
function* typedChanges(text, steps) {
  const lines = text.split('\n');
  const statements = [];
  for (let i = 0; i + 1 < lines.length; i++) {
    if (/^\t+\S/.test(lines[i]) && /[\w)}\]"]$/.test(lines[i]) && /^\t+\S/.test(lines[i + 1]) && !/^\t+(case|default)\b/.test(lines[i + 1])) statements.push(i);
  }
  const typed = '_ = len(s)';
  let n = 0;
  for (let round = 0; ; round++) {
    const line = statements[Math.floor((statements.length * ((round * 7919) % 1000)) / 1000)];
    const indent = /^\t+/.exec(lines[line])[0];
    const end = { line, character: lines[line].length };
    const round_ = [{ range: { start: end, end }, text: `\n${indent}` }];
    for (let c = 0; c < typed.length; c++) {
      const at = { line: line + 1, character: indent.length + c };
      round_.push({ range: { start: at, end: at }, text: typed[c] });
    }
    round_.push({ range: { start: end, end: { line: line + 1, character: indent.length + typed.length } }, text: '' });
    if (round % 3 === 0) {
      const start = { line, character: 0 };
      round_.push({ range: { start, end: start }, text: `${lines[line]}\n` }, { range: { start, end: { line: line + 1, character: 0 } }, text: '' });
    }
    for (const change of round_) {
      yield change;
      if (++n >= steps) return;
    }
  }
}

/** The "stress" session: inserts, deletes, a pasted line and undo at line starts, left in place. */
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

/** End of `text` inserted at `start`, as an LSP position. */
function endOf(start, text) {
  const lines = text.split('\n');
  return lines.length === 1
    ? { line: start.line, character: start.character + text.length }
    : { line: start.line + lines.length - 1, character: lines[lines.length - 1].length };
}

/** The session as LSP changes; the no-op step undoes the last insert, if any. */
function* changes(text, steps) {
  const undo = [];
  for (const s of session(text, steps)) {
    if (s.ins === '' && s.del === 0 && undo.length) { yield undo.pop(); continue; }
    const change = { range: { start: { line: s.line, character: s.ch }, end: { line: s.line, character: s.ch + s.del } }, text: s.ins };
    if (s.del === 0 && s.ins !== '') undo.push({ range: { start: change.range.start, end: endOf(change.range.start, s.ins) }, text: '' });
    yield change;
  }
}

/**
 * BENCH_SESSION=revert: every change is undone by the next one, as when one types and corrects,
 * so the file does not pile up syntax errors (each costs tree-sitter work on every reparse).
 */
function* revertedChanges(text, steps) {
  const lines = text.split('\n');
  let n = 0;
  for (const s of session(text, steps)) {
    if (s.ins === '' && s.del === 0) continue;
    const start = { line: s.line, character: s.ch };
    yield { range: { start, end: { line: s.line, character: s.ch + s.del } }, text: s.ins };
    yield { range: { start, end: endOf(start, s.ins) }, text: lines[s.line].slice(s.ch, s.ch + s.del) };
    if ((n += 2) >= steps) return;
  }
}

const SESSIONS = { typed: typedChanges, stress: changes, revert: revertedChanges };

async function typing(file, steps, sessionName) {
  const { proc, conn, published, counts } = await server();
  const uri = pathToFileURL(file).href;
  let text = fs.readFileSync(file, 'utf8');
  const opened = published(uri, 1);
  const t0 = performance.now();
  await conn.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'go', version: 1, text } });
  await opened;
  const openMs = performance.now() - t0;
  const lat = [];
  let version = 1;
  const cpu0 = cpuMs(proc.pid);
  counts.staleAnswers = 0;
  for (const change of SESSIONS[sessionName](text, steps)) {
    version++;
    const done = published(uri, version);
    const t = performance.now();
    await conn.sendNotification('textDocument/didChange', { textDocument: { uri, version }, contentChanges: [change] });
    await done;
    lat.push(performance.now() - t);
  }
  const cpuPerEdit = +((cpuMs(proc.pid) - cpu0) / steps).toFixed(1);
  const mb = rss(proc.pid);
  await conn.sendRequest('shutdown').catch(() => undefined);
  await conn.sendNotification('exit');
  await new Promise((r) => proc.once('exit', r));
  return { file: path.relative(src, file), session: sessionName, lines: text.split('\n').length, openMs: +openMs.toFixed(1), edits: steps, p50: pct(lat, 50), p95: pct(lat, 95), p99: pct(lat, 99), cpuMsPerEdit: cpuPerEdit, staleAnswers: counts.staleAnswers, rssMb: mb };
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
// BENCH_ONLY=typing skips the memory part; BENCH_FILES=a.go,b.go (relative to the corpus) picks the
// typed files; BENCH_SESSION=typed,stress (the default) or revert picks the sessions.
const only = process.env.BENCH_ONLY;
const typedFiles = (process.env.BENCH_FILES ?? 'net/http/server.go,cmd/compile/internal/ssa/rewriteAMD64.go').split(',');
const results = { typing: [] };
const sessions = (process.env.BENCH_SESSION ?? 'typed,stress').split(',');
for (const s of sessions) if (!SESSIONS[s]) throw new Error(`bench-lsp: unknown session ${s}`);
for (const f of typedFiles) for (const s of sessions) results.typing.push(await typing(path.join(src, f), steps, s));
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
