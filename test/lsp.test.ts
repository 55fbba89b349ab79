// LSP-level tests: spawn the bundled server and drive it over JSON-RPC like an editor.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import type { CodeAction, TextEdit } from 'vscode-languageserver-protocol';
import { LineIndex } from '../server/src/engine/text';
import { LspClient } from './support/lsp-client';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'racelens-lsp-'));
const file = path.join(dir, 'main.go');
const uri = pathToFileURL(file).href;

// The flagged call sits after CJK and an emoji on the same line: UTF-16 columns must be exact.
const TEXT = [
  'package main', //                                   0
  '',
  'import "runtime"', //                               2
  '',
  '// 处理请求 — handles a request 🚀', //             4
  'func handle() {', //                                5
  '\t/* 中文😀 */ runtime.GC()', //                     6: the call starts at UTF-16 column 12
  '}',
  '',
].join('\n');

function applyTextEdits(text: string, edits: TextEdit[]): string {
  const idx = new LineIndex(text);
  const sorted = edits.map((e) => ({ start: idx.offsetAt(e.range.start), end: idx.offsetAt(e.range.end), text: e.newText })).sort((a, b) => b.start - a.start);
  for (const e of sorted) text = text.slice(0, e.start) + e.text + text.slice(e.end);
  return text;
}

describe('language server over JSON-RPC', () => {
  let client: LspClient;
  before(async () => {
    client = new LspClient();
    const init = await client.initialize();
    assert.equal((init.capabilities.textDocumentSync as { change: number }).change, 2, 'incremental sync');
    assert.ok(init.capabilities.codeActionProvider);
  });
  after(async () => {
    await client.shutdown();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('publishes a diagnostic with exact UTF-16 range, source, code and docs link', async () => {
    await client.open(uri, TEXT, 1);
    const p = await client.diagnostics(uri, (x) => x.version === 1);
    assert.equal(p.diagnostics.length, 1);
    const d = p.diagnostics[0];
    assert.deepEqual(d.range, { start: { line: 6, character: 12 }, end: { line: 6, character: 24 } });
    assert.equal(d.source, 'racelens');
    assert.equal(d.code, 'manual-gc');
    assert.equal(d.severity, 2);
    assert.match(d.codeDescription!.href, /docs\/rules\/manual-gc\.md$/);
  });

  it('moves the diagnostic with incremental edits, including multi-byte text', async () => {
    // v2: insert two lines above the function.
    await client.change(uri, 2, [{ range: { start: { line: 4, character: 0 }, end: { line: 4, character: 0 } }, text: 'var a = 1\nvar b = "日本語"\n' }]);
    let p = await client.diagnostics(uri, (x) => x.version === 2);
    assert.deepEqual(p.diagnostics.map((d) => d.range.start), [{ line: 8, character: 12 }]);
    // v3: two changes in one notification: an emoji (2 UTF-16 units) before the space that precedes
    // the call, then `/*变*/ ` (6 units) after the tab. The call moves from column 12 to 20.
    await client.change(uri, 3, [
      { range: { start: { line: 8, character: 11 }, end: { line: 8, character: 11 } }, text: '🎉' },
      { range: { start: { line: 8, character: 1 }, end: { line: 8, character: 1 } }, text: '/*变*/ ' },
    ]);
    p = await client.diagnostics(uri, (x) => x.version === 3);
    assert.deepEqual(p.diagnostics.map((d) => d.range), [{ start: { line: 8, character: 20 }, end: { line: 8, character: 32 } }]);
    // v4: delete the two inserted lines again.
    await client.change(uri, 4, [{ range: { start: { line: 4, character: 0 }, end: { line: 6, character: 0 } }, text: '' }]);
    p = await client.diagnostics(uri, (x) => x.version === 4);
    assert.deepEqual(p.diagnostics.map((d) => d.range.start), [{ line: 6, character: 20 }]);
  });

  it('offers the preferred quick-fix; applying it clears the diagnostic', async () => {
    const p = await client.diagnostics(uri, (x) => x.version === 4);
    const all: CodeAction[] = await client.codeActions(uri, p.diagnostics[0]);
    assert.deepEqual(all.map((a) => a.title), ['Remove runtime.GC()', 'Ignore manual-gc for this line', 'Explain manual-gc']);
    assert.deepEqual(all[2].command, { title: 'Explain manual-gc', command: 'racelens.explainRule', arguments: ['manual-gc'] });
    const actions = all.slice(0, 1);
    assert.equal(actions[0].isPreferred, true);
    assert.equal(actions[0].kind, 'quickfix');
    const edits = actions[0].edit!.changes![uri];
    // The server's text at v4: TEXT with the v3 insertions.
    const v4 = TEXT.replace('\t/* 中文😀 */ runtime.GC()', '\t/*变*/ /* 中文😀 */🎉 runtime.GC()');
    const fixed = applyTextEdits(v4, edits);
    assert.ok(!fixed.includes('runtime'), 'the call and the now-unused import are gone');
    assert.ok(fixed.includes('/*变*/ /* 中文😀 */🎉'), 'comments on the line are kept');
    await client.change(uri, 5, [{ text: fixed }]);
    const after = await client.diagnostics(uri, (x) => x.version === 5);
    assert.deepEqual(after.diagnostics, []);
  });

  it('sees package-level declarations of other files on disk', async () => {
    fs.writeFileSync(path.join(dir, 'consts.go'), 'package main\n\nconst procs = 4\n');
    const other = pathToFileURL(path.join(dir, 'setup.go')).href;
    await client.open(other, 'package main\n\nimport "runtime"\n\nfunc setup() {\n\truntime.GOMAXPROCS(procs)\n}\n', 1);
    const p = await client.diagnostics(other, (x) => x.version === 1 && x.diagnostics.length > 0);
    assert.equal(p.diagnostics[0].code, 'gomaxprocs-hardcoded');
    assert.match(String(p.diagnostics[0].message), /pins the service to 4 Ps/);
    await client.close(other);
    assert.deepEqual((await client.diagnostics(other, (x) => x.diagnostics.length === 0)).diagnostics, []);
  });

  it('offers Wrap in mutex as one WorkspaceEdit across the files of the package', async () => {
    const pkgDir = fs.mkdtempSync(path.join(os.tmpdir(), 'racelens-wrap-'));
    const fixtures = path.join(__dirname, '..', '..', 'test', 'fixtures', 'concurrent-map-access', 'handlers');
    for (const f of ['cache.go', 'server.go']) fs.copyFileSync(path.join(fixtures, f), path.join(pkgDir, f));
    const serverUri = pathToFileURL(path.join(pkgDir, 'server.go')).href;
    const cacheUri = pathToFileURL(path.join(pkgDir, 'cache.go')).href;
    const serverText = fs.readFileSync(path.join(pkgDir, 'server.go'), 'utf8');
    await client.open(serverUri, serverText, 1);
    const p = await client.diagnostics(serverUri, (x) => x.version === 1 && x.diagnostics.length > 0);
    const d = p.diagnostics.find((x) => x.code === 'concurrent-map-access')!;
    assert.deepEqual(d.range.start, { line: 8, character: 1 });
    assert.ok(d.relatedInformation?.some((r) => r.location.uri === cacheUri), 'the conflicting read in cache.go is related');
    const [wrap] = (await client.codeActions(serverUri, d)).filter((a) => a.title.startsWith('Wrap in mutex'));
    assert.equal(wrap.isPreferred, true);
    const changes = wrap.edit!.changes!;
    assert.deepEqual(Object.keys(changes).sort(), [cacheUri, serverUri].sort());
    const fixedCache = applyTextEdits(fs.readFileSync(path.join(pkgDir, 'cache.go'), 'utf8'), changes[cacheUri]);
    const fixedServer = applyTextEdits(serverText, changes[serverUri]);
    assert.equal(fixedCache, fs.readFileSync(path.join(fixtures, 'cache.go.golden'), 'utf8'));
    assert.equal(fixedServer, fs.readFileSync(path.join(fixtures, 'server.go.golden'), 'utf8'));
    await client.close(serverUri);
    fs.rmSync(pkgDir, { recursive: true, force: true });
  });

  it('offers a fix that fails verification as not preferred, its title saying why', async () => {
    const pkgDir = fs.mkdtempSync(path.join(os.tmpdir(), 'racelens-refused-'));
    const source = path.join(__dirname, '..', '..', 'test', 'fixtures', 'unguarded-access', 'fix-refused', 'feed.go');
    fs.copyFileSync(source, path.join(pkgDir, 'feed.go'));
    const feedUri = pathToFileURL(path.join(pkgDir, 'feed.go')).href;
    await client.open(feedUri, fs.readFileSync(source, 'utf8'), 1);
    const p = await client.diagnostics(feedUri, (x) => x.version === 1 && x.diagnostics.some((d) => d.code === 'unguarded-access'));
    const d = p.diagnostics.find((x) => x.code === 'unguarded-access')!;
    const [wrap] = (await client.codeActions(feedUri, d)).filter((a) => a.title.startsWith('Wrap in mutex'));
    assert.equal(wrap.isPreferred, false);
    assert.match(wrap.title, /\(unverified: it would add a finding: blocking-under-lock at feed\.go:18:2\)$/);
    await client.close(feedUri);
    fs.rmSync(pkgDir, { recursive: true, force: true });
  });

  it('publishes only for the newest version after a burst of edits', async () => {
    const burst = pathToFileURL(path.join(dir, 'burst.go')).href;
    await client.open(burst, 'package main\n\nimport "runtime"\n\nfunc f() {\n}\n', 1);
    await client.diagnostics(burst, (x) => x.version === 1);
    const line = '\truntime.GC()\n';
    for (let v = 2; v <= 21; v++) {
      await client.change(burst, v, [{ range: { start: { line: 5, character: 0 }, end: { line: 5, character: 0 } }, text: line }]);
    }
    const p = await client.diagnostics(burst, (x) => x.version === 21);
    assert.equal(p.diagnostics.length, 20);
    assert.deepEqual(p.diagnostics.map((d) => d.range.start.line), Array.from({ length: 20 }, (_, i) => 5 + i));
  });

  it('clears diagnostics on close', async () => {
    await client.change(uri, 6, [{ range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, text: '' }]);
    await client.close(uri);
    const p = await client.diagnostics(uri, (x) => x.diagnostics.length === 0 && x.version === undefined);
    assert.deepEqual(p.diagnostics, []);
  });

  it('answers code actions for unknown documents with nothing, and stays alive', async () => {
    const actions = await client.conn.sendRequest('textDocument/codeAction', {
      textDocument: { uri: 'file:///nowhere/x.go' }, range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, context: { diagnostics: [] },
    });
    assert.deepEqual(actions, []);
    assert.equal(client.exitCode, null);
  });
});
