// Editor experience over JSON-RPC: workspace scan of closed files, settings, .racelens.json,
// suppressions and the ignore action, fix-all idempotence, file watching and go.mod changes.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import type { TextEdit } from 'vscode-languageserver-protocol';
import { LineIndex } from '../server/src/engine/text';
import { LspClient } from './support/lsp-client';

function applyTextEdits(text: string, edits: TextEdit[]): string {
  const idx = new LineIndex(text);
  const sorted = edits.map((e) => ({ start: idx.offsetAt(e.range.start), end: idx.offsetAt(e.range.end), text: e.newText })).sort((a, b) => b.start - a.start);
  for (const e of sorted) text = text.slice(0, e.start) + e.text + text.slice(e.end);
  return text;
}

async function until(ok: () => boolean, ms = 5000): Promise<void> {
  for (const t0 = Date.now(); !ok(); await new Promise((r) => setTimeout(r, 20))) {
    if (Date.now() - t0 > ms) throw new Error('timed out');
  }
}

const ws = fs.mkdtempSync(path.join(os.tmpdir(), 'racelens-ws-'));
const write = (rel: string, text: string) => {
  fs.mkdirSync(path.dirname(path.join(ws, rel)), { recursive: true });
  fs.writeFileSync(path.join(ws, rel), text);
  return pathToFileURL(path.join(ws, rel)).href;
};
const GC = (pkg: string) => `package ${pkg}\n\nimport "runtime"\n\nfunc f() {\n\truntime.GC()\n}\n`;
const COUNTER = 'package counter\n\nimport "net/http"\n\nvar hits int64\n\nfunc handle(w http.ResponseWriter, r *http.Request) {\n\thits++\n}\n';

describe('editor experience over JSON-RPC', () => {
  let client: LspClient;
  const closedUri = write('svc/closed.go', GC('svc'));
  const vendorUri = write('vendor/v/v.go', GC('v'));
  const genUri = write('gen/gen.go', GC('gen'));
  const counterUri = write('counter/counter.go', COUNTER);
  write('.racelens.json', JSON.stringify({ exclude: ['gen/**'], rules: { 'manaul-gc': 'off' } }));

  before(async () => {
    client = new LspClient({ debounceMs: 0 }, [ws]);
    await client.initialize();
  });
  after(async () => {
    await client.shutdown();
    fs.rmSync(ws, { recursive: true, force: true });
  });

  it('scans the workspace on worker threads: closed files get diagnostics; vendor/ and excluded files do not', async () => {
    const p = await client.diagnostics(closedUri, (x) => x.diagnostics.length === 1);
    assert.equal(p.diagnostics[0].code, 'manual-gc');
    assert.equal(p.version, undefined);
    await client.diagnostics(counterUri, (x) => x.diagnostics.length === 1);
    await until(() => client.logs.some((l) => /checked \d+ packages/.test(l)));
    const scanned = client.logs.find((l) => /checked \d+ packages/.test(l))!;
    const [, total, inWorkers] = /checked (\d+) packages .*\((\d+) on worker threads\)/.exec(scanned)!;
    assert.ok(Number(inWorkers) >= 2 && Number(inWorkers) <= Number(total), scanned);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal((await client.diagnostics(closedUri)).diagnostics.length, 1);
    await assert.rejects(client.diagnostics(vendorUri, () => true, 300));
    await assert.rejects(client.diagnostics(genUri, () => true, 300));
  });

  it('warns once about a mistyped rule id in .racelens.json, and in racelens.rules; the typo turns nothing off', async () => {
    await until(() => client.messages.some((m) => /\.racelens\.json: unknown rule "manaul-gc"; did you mean "manual-gc"\?/.test(m)));
    assert.equal((await client.diagnostics(closedUri)).diagnostics[0]?.code, 'manual-gc');
    assert.equal(client.messages.filter((m) => /unknown rule/.test(m)).length, 1);
    await client.configure({ rules: { 'gc-disabeld': 'off' } });
    await until(() => client.messages.some((m) => /racelens\.rules: unknown rule "gc-disabeld"; did you mean "gc-disabled"\?/.test(m)));
    await client.configure({ rules: {} });
  });

  it('applies per-rule severity and "off" from settings, and re-enables', async () => {
    await client.configure({ rules: { 'manual-gc': 'off' } });
    await client.diagnostics(closedUri, (x) => x.diagnostics.length === 0);
    await client.configure({ rules: { 'manual-gc': 'error' } });
    const p = await client.diagnostics(closedUri, (x) => x.diagnostics.length === 1 && x.diagnostics[0].severity === 1);
    assert.equal(p.diagnostics[0].severity, 1);
    await client.configure({ rules: {} });
    await client.diagnostics(closedUri, (x) => x.diagnostics[0]?.severity === 2);
  });

  it('honours suppressions, reports an unused one, and the ignore action inserts one', async () => {
    const uri = write('supp/a.go', 'package supp\n\nimport "runtime"\n\nfunc f() {\n\tif true {\n\t\truntime.GC()\n\t}\n\t//racelens:ignore gc-disabled stale\n\truntime.NumCPU()\n}\n');
    const text = fs.readFileSync(new URL(uri), 'utf8');
    await client.open(uri, text, 1);
    const p = await client.diagnostics(uri, (x) => x.version === 1 && x.diagnostics.length === 2);
    assert.deepEqual(p.diagnostics.map((d) => d.code), ['manual-gc', 'unused-suppression']);
    assert.equal(p.diagnostics[1].severity, 3);
    const ignore = (await client.codeActions(uri, p.diagnostics[0])).find((a) => a.title === 'Ignore manual-gc for this line')!;
    const fixed = applyTextEdits(text, ignore.edit!.changes![uri]);
    assert.match(fixed, /\n\t\t\/\/racelens:ignore manual-gc explain why this is safe\n\t\truntime\.GC\(\)/);
    await client.change(uri, 2, [{ text: fixed }]);
    // File rules answer at once; package-wide ones (unused-suppression among them) once typing pauses.
    const q = await client.diagnostics(uri, (x) => x.version === 2 && x.diagnostics.length > 0);
    assert.deepEqual(q.diagnostics.map((d) => d.code), ['unused-suppression']);
    await client.close(uri);
  });

  it('fix-all applies safe fixes once and then offers nothing', async () => {
    const text = fs.readFileSync(new URL(counterUri), 'utf8');
    await client.open(counterUri, text, 1);
    await client.diagnostics(counterUri, (x) => x.version === 1 && x.diagnostics.length === 1);
    const [action] = await client.fixAll(counterUri);
    assert.equal(action.kind, 'source.fixAll.racelens');
    const fixed = applyTextEdits(text, action.edit!.changes![counterUri]);
    assert.match(fixed, /atomic\.AddInt64\(&hits, 1\)/);
    await client.change(counterUri, 2, [{ text: fixed }]);
    await client.diagnostics(counterUri, (x) => x.version === 2 && x.diagnostics.length === 0);
    assert.deepEqual(await client.fixAll(counterUri), []);
    await client.change(counterUri, 3, [{ text }]);
    await client.diagnostics(counterUri, (x) => x.version === 3 && x.diagnostics.length === 1);
  });

  it('follows go.mod: the counter fix becomes atomic.Int64 once go.mod says go 1.21', async () => {
    const d = (await client.diagnostics(counterUri, (x) => x.version === 3)).diagnostics[0];
    assert.deepEqual((await client.codeActions(counterUri, d)).map((a) => a.title).filter((t) => t.startsWith('Use')), ['Use atomic.AddInt64']);
    const mod = write('go.mod', 'module example.com/ws\n\ngo 1.21\n');
    await client.watched([{ uri: mod, type: 1 }]);
    await new Promise((r) => setTimeout(r, 300));
    const again = (await client.diagnostics(counterUri, (x) => x.version === 3)).diagnostics[0];
    assert.deepEqual((await client.codeActions(counterUri, again)).map((a) => a.title).filter((t) => t.startsWith('Use')), ['Use atomic.Int64']);
    await client.close(counterUri);
  });

  it('follows file events: a created file gets diagnostics, a deleted one loses them', async () => {
    const uri = write('svc/added.go', GC('svc'));
    await client.watched([{ uri, type: 1 }]);
    await client.diagnostics(uri, (x) => x.diagnostics.length === 1);
    fs.rmSync(new URL(uri));
    await client.watched([{ uri, type: 3 }]);
    await client.diagnostics(uri, (x) => x.diagnostics.length === 0);
  });

  it('run: onSave waits for the save', async () => {
    await client.configure({ run: 'onSave' });
    const uri = write('save/a.go', 'package save\n\nfunc f() {\n}\n');
    await client.open(uri, 'package save\n\nfunc f() {\n}\n', 1);
    await client.diagnostics(uri, (x) => x.version === 1);
    await client.change(uri, 2, [{ text: GC('save') }]);
    await assert.rejects(client.diagnostics(uri, (x) => x.version === 2, 300));
    await client.save(uri);
    await client.diagnostics(uri, (x) => x.version === 2 && x.diagnostics.length === 1);
    await client.configure({ run: 'onType' });
    await client.close(uri);
  });

  it('reports a status with counts', async () => {
    await new Promise((r) => setTimeout(r, 100));
    const s = client.status as { state: string; warnings: number };
    assert.equal(s.state, 'ready');
    assert.ok(s.warnings >= 1);
  });
});
