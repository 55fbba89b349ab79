// Server memory with a whole tree indexed as a workspace: start the bundled server with the Go
// standard library as its workspace folder, wait for the workspace scan to finish, read its RSS.
// Prints JSON; bench.mjs folds it into BENCHMARKS.md.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const rpc = require('vscode-jsonrpc/node');
const root = path.join(path.dirname(new URL(import.meta.url).pathname), '..');
const src = process.env.RACELENS_BENCH_CORPUS ?? '/usr/lib/go-1.19/src';

/** Current and peak resident set size of a process, in MB. */
function memory(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)[1]);
  return { rssMb: Math.round(kb('VmRSS') / 1024), peakRssMb: Math.round(kb('VmHWM') / 1024) };
}

const proc = spawn(process.execPath, [path.join(root, 'dist', 'server.js'), '--stdio'], { stdio: ['pipe', 'pipe', 'inherit'] });
const conn = rpc.createMessageConnection(new rpc.StreamMessageReader(proc.stdout), new rpc.StreamMessageWriter(proc.stdin));
let diagnosed = 0;
const scanned = new Promise((resolve) => {
  conn.onNotification('$/progress', (p) => { if (p.value?.kind === 'end') resolve(); });
});
conn.onNotification('textDocument/publishDiagnostics', (p) => { if (p.diagnostics.length) diagnosed++; });
conn.onNotification(() => undefined);
conn.onRequest(() => null);
conn.listen();
const t0 = performance.now();
await conn.sendRequest('initialize', {
  processId: process.pid,
  rootUri: pathToFileURL(src).href,
  workspaceFolders: [{ uri: pathToFileURL(src).href, name: 'src' }],
  capabilities: { window: { workDoneProgress: true }, workspace: { workspaceFolders: true } },
  initializationOptions: { debounceMs: 0 },
});
await conn.sendNotification('initialized', {});
await scanned;
const scanS = (performance.now() - t0) / 1000;
await new Promise((r) => setTimeout(r, 500)); // let the last diagnostics out
const result = { corpus: src, scanS: +scanS.toFixed(1), filesWithFindings: diagnosed, ...memory(proc.pid) };
proc.kill();
console.log(JSON.stringify(result, null, 2));
