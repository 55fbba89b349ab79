// The web extension's server, proved in a real browser: headless Chromium (Debian's, driven by
// playwright-core from test/e2e/setup.sh) loads dist/browser/server.js as a web worker and talks
// LSP to it over postMessage, the way VS Code for the Web does. The page plays the client: it
// answers the worker's file requests from an in-memory workspace shaped like github.dev's
// (vscode-vfs:// URIs). The worker fetches its .wasm files over HTTP, finds a closed file's
// hazard through the workspace scan, reads go.mod and .racelens.json above the package, flags a
// package-wide hazard that needs a closed sibling file, offers Wrap in mutex across both files,
// and answers typing. Run: bash test/e2e/setup.sh && node test/web/run.mjs
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { extname, join, normalize } from 'node:path';
import { ROOT, TOOLS } from '../e2e/lib.mjs';

const { chromium } = createRequire(join(TOOLS, 'package.json'))('playwright-core');

const WS = 'vscode-vfs://github/acme/shop';
const files = {
  [`${WS}/go.mod`]: 'module shop\n\ngo 1.21\n',
  [`${WS}/.racelens.json`]: JSON.stringify({ rules: { 'manual-gc': 'error' } }),
  [`${WS}/jobs/jobs.go`]: 'package jobs\n\nimport "runtime"\n\n// 夜间任务 🌙\nfunc nightly() {\n\t/* 夜间😀 */ runtime.GC()\n}\n',
  [`${WS}/jobs/loop.go`]: 'package jobs\n\ntype item struct{ name string }\n\nfunc pointers(items []item) []*item {\n\tvar out []*item\n\tfor _, it := range items {\n\t\tout = append(out, &it)\n\t}\n\treturn out\n}\n',
  [`${WS}/vendor/x/x.go`]: 'package x\n\nimport "runtime"\n\nfunc f() { runtime.GC() }\n',
  [`${WS}/api/store.go`]: 'package api\n\n// hits counts requests per path.\nvar hits = make(map[string]int)\n',
  [`${WS}/api/server.go`]: [
    'package api',
    '',
    'import "net/http"',
    '',
    'func count(w http.ResponseWriter, r *http.Request) {',
    '\thits[r.URL.Path]++',
    '}',
    '',
    'func main() { http.HandleFunc("/count", count) }',
    '',
  ].join('\n'),
};
const OPENED = `${WS}/api/server.go`;

// Serve dist/browser/ and grammars/ from a fresh build; nothing else.
execFileSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs')], { cwd: ROOT, stdio: 'inherit' });
const TYPES = { '.js': 'text/javascript', '.wasm': 'application/wasm', '.html': 'text/html' };
const http = createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  if (url.pathname === '/favicon.ico') { res.writeHead(204); res.end(); return; }
  if (url.pathname === '/') { res.writeHead(200, { 'content-type': 'text/html' }); res.end('<!doctype html><title>racelens worker</title>'); return; }
  const rel = normalize(decodeURIComponent(url.pathname)).replace(/^\/+/, '');
  if (!/^(dist\/browser|grammars)\//.test(rel)) { res.writeHead(404); res.end(); return; }
  try {
    const body = readFileSync(join(ROOT, rel));
    res.writeHead(200, { 'content-type': TYPES[extname(rel)] ?? 'application/octet-stream' });
    res.end(body);
  } catch {
    res.writeHead(404);
    res.end();
  }
});
await new Promise((r) => http.listen(0, '127.0.0.1', r));
const base = `http://127.0.0.1:${http.address().port}`;

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
let failed = false;
try {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('response', (r) => { if (r.status() >= 400) errors.push(`${r.status()} ${r.url()}`); });
  await page.goto(base);
  const result = await page.evaluate(runClient, { base, ws: WS, files, opened: OPENED });
  console.log(`web worker: first diagnostics ${result.timings.firstDiagnostics} ms after start, typing answered in ${result.timings.typing} ms`);

  // The workspace scan read closed files through the client; .racelens.json raised manual-gc to error.
  const jobs = result.diagnostics[`${WS}/jobs/jobs.go`];
  assert.equal(jobs?.length, 1, 'closed jobs.go has one finding');
  assert.equal(jobs[0].code, 'manual-gc');
  assert.equal(jobs[0].severity, 1, '.racelens.json made it an error');
  assert.deepEqual(jobs[0].range.start, { line: 6, character: 12 }, 'UTF-16 column after CJK and an emoji');
  // go.mod two levels up says go 1.21: the loop variable is shared.
  const loop = result.diagnostics[`${WS}/jobs/loop.go`]?.find((d) => d.code === 'loop-var-capture');
  assert.ok(loop, 'loop-var-capture in the closed loop.go');
  assert.match(loop.message, /go\.mod says go 1\.21/);
  assert.equal(result.diagnostics[`${WS}/vendor/x/x.go`], undefined, 'vendor/ is not checked');
  // The opened handler writes a map declared in a closed sibling file.
  const map = result.opened.find((d) => d.code === 'concurrent-map-access');
  assert.ok(map, `concurrent-map-access on the opened file: ${JSON.stringify(result.opened)}`);
  assert.deepEqual(map.range.start, { line: 5, character: 1 });
  const wrap = result.actions.find((a) => /Wrap in mutex/.test(a.title));
  assert.ok(wrap, `Wrap in mutex offered: ${result.actions.map((a) => a.title)}`);
  const edited = Object.keys(wrap.edit.changes ?? {}).concat((wrap.edit.documentChanges ?? []).map((c) => c.textDocument.uri)).sort();
  assert.deepEqual([...new Set(edited)], [`${WS}/api/server.go`, `${WS}/api/store.go`], 'the mutex goes beside the map in store.go');
  // Typing a second racy write is flagged for the new version, grouped with the first.
  assert.equal(result.typed.version, 2);
  const typedMap = result.typed.diagnostics.filter((d) => d.code === 'concurrent-map-access');
  assert.equal(typedMap.length, 1, 'both writes of one handler are one finding');
  assert.ok(typedMap[0].relatedInformation.some((r) => r.location.range.start.line === 6), 'the typed write is a related location');
  assert.deepEqual(errors, [], 'no errors in the page or the worker');
  console.log('web worker: ok (scan, go.mod, .racelens.json, vendor/, sibling files, UTF-16, code action, typing)');
} catch (e) {
  failed = true;
  console.error(e);
} finally {
  await browser.close();
  http.close();
}
process.exit(failed ? 1 : 0);

/** Runs in the page: a minimal LSP client of the worker, over postMessage. */
async function runClient({ base, ws, files, opened }) {
  const t0 = performance.now();
  const worker = new Worker(`${base}/dist/browser/server.js`);
  const diagnostics = {};
  const waiters = [];
  const pending = new Map();
  let nextId = 1;
  const workerErrors = [];
  worker.onerror = (e) => workerErrors.push(e.message);
  const send = (m) => worker.postMessage({ jsonrpc: '2.0', ...m });
  const request = (method, params) => new Promise((resolve, reject) => {
    const id = nextId++;
    pending.set(id, { resolve, reject });
    send({ id, method, params });
  });
  const notify = (method, params) => send({ method, params });
  const dirEntries = (dir) => {
    const entries = new Map();
    for (const uri of Object.keys(files)) {
      if (!uri.startsWith(`${dir}/`)) continue;
      const [first, ...rest] = uri.slice(dir.length + 1).split('/');
      entries.set(`${dir}/${first}`, rest.length ? 2 : 1);
    }
    return entries.size ? [...entries] : null;
  };
  const answers = {
    'racelens/readDirectory': ({ uri }) => dirEntries(uri),
    'racelens/stat': ({ uri }) => (uri in files ? { mtime: 1, size: files[uri].length } : null),
    'racelens/readFile': ({ uri }) => files[uri] ?? null,
    'racelens/findGoFiles': ({ uri }) => Object.keys(files).filter((f) => f.startsWith(`${uri}/`) && f.endsWith('.go') && !f.includes('/vendor/')),
    'client/registerCapability': () => null,
    'window/workDoneProgress/create': () => null,
    'workspace/configuration': () => [],
  };
  let firstDiagnostics;
  worker.onmessage = ({ data: m }) => {
    if (m.id !== undefined && m.method === undefined) {
      const p = pending.get(m.id);
      pending.delete(m.id);
      if (m.error) p.reject(new Error(m.error.message)); else p.resolve(m.result);
    } else if (m.id !== undefined) {
      const answer = answers[m.method];
      send(answer ? { id: m.id, result: answer(m.params) } : { id: m.id, error: { code: -32601, message: `unhandled ${m.method}` } });
    } else if (m.method === 'textDocument/publishDiagnostics') {
      firstDiagnostics ??= performance.now() - t0;
      diagnostics[m.params.uri] = m.params;
      waiters.splice(0).forEach((w) => w());
    }
  };
  const until = async (ok, what, ms = 20000) => {
    const start = performance.now();
    while (!ok()) {
      if (performance.now() - start > ms) throw new Error(`timed out waiting for ${what}; worker errors: ${workerErrors.join('; ')}; have ${JSON.stringify(Object.keys(diagnostics))}`);
      await new Promise((r) => { waiters.push(r); setTimeout(r, 50); });
    }
  };

  await request('initialize', {
    processId: null, rootUri: null, capabilities: { workspace: { workspaceEdit: { documentChanges: true } } },
    initializationOptions: { debounceMs: 0, grammarsUri: `${base}/grammars` },
    workspaceFolders: [{ uri: ws, name: 'shop' }],
  });
  notify('initialized', {});
  await until(() => diagnostics[`${ws}/jobs/jobs.go`]?.diagnostics.length && diagnostics[`${ws}/jobs/loop.go`]?.diagnostics.length, 'the workspace scan');

  notify('textDocument/didOpen', { textDocument: { uri: opened, languageId: 'go', version: 1, text: files[opened] } });
  const mapFinding = () => diagnostics[opened]?.version === 1 && diagnostics[opened].diagnostics.find((d) => d.code === 'concurrent-map-access');
  await until(mapFinding, 'the concurrent-map-access finding');
  const diagnostic = mapFinding();
  const openedV1 = diagnostics[opened].diagnostics;
  const actions = await request('textDocument/codeAction', {
    textDocument: { uri: opened }, range: diagnostic.range, context: { diagnostics: [diagnostic], only: ['quickfix'] },
  });

  const typedAt = performance.now();
  notify('textDocument/didChange', {
    textDocument: { uri: opened, version: 2 },
    contentChanges: [{ range: { start: { line: 6, character: 0 }, end: { line: 6, character: 0 } }, text: '\thits["total"]++\n' }],
  });
  // The typed write joins the existing finding as a related "also written here" (line 7, 0-based 6).
  const typedWrite = (d) => d.code === 'concurrent-map-access' && d.relatedInformation?.some((r) => r.location.range.start.line === 6 && /also written/.test(r.message));
  await until(() => diagnostics[opened]?.version === 2 && diagnostics[opened].diagnostics.some(typedWrite), 'the typed finding');
  const typing = performance.now() - typedAt;
  await request('shutdown');
  worker.terminate();
  const flat = Object.fromEntries(Object.entries(diagnostics).filter(([, p]) => p.diagnostics.length).map(([u, p]) => [u, p.diagnostics]));
  return {
    diagnostics: flat, opened: openedV1, actions, typed: diagnostics[opened],
    timings: { firstDiagnostics: Math.round(firstDiagnostics), typing: Math.round(typing) },
  };
}
