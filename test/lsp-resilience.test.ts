// The server stays alive: malformed JSON-RPC, requests about unknown documents, a rule that throws.
import * as assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { LspClient } from './support/lsp-client';

const GC = 'package x\n\nimport "runtime"\n\nfunc f() {\n\truntime.GC()\n}\n';

describe('server resilience', () => {
  let client: LspClient;
  before(async () => {
    client = new LspClient({ debounceMs: 0 }, [], { RACELENS_FAULT: 'throw-rule' });
    await client.initialize();
  });
  after(() => client.shutdown());

  it('a rule that throws costs only its own findings, and is logged', async () => {
    await client.open('untitled:a.go', GC, 1);
    const p = await client.diagnostics('untitled:a.go', (x) => x.version === 1);
    assert.deepEqual(p.diagnostics.map((d) => d.code), ['manual-gc']);
    assert.ok(client.logs.some((l) => /rule fault-injection failed/.test(l)), 'the failure is logged');
  });

  it('survives malformed messages and keeps answering', async () => {
    const frame = (body: string) => `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
    client.writeRaw(frame('{not json!!}'));
    client.writeRaw(frame('{"jsonrpc":"2.0","id":99,"method":"no/such"}'));
    client.writeRaw(frame('{"jsonrpc":"2.0","method":"textDocument/didChange","params":{"textDocument":{}}}'));
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(client.exitCode, null);
    await client.change('untitled:a.go', 2, [{ text: GC.replace('runtime.GC()', 'runtime.NumCPU()') }]);
    const p = await client.diagnostics('untitled:a.go', (x) => x.version === 2);
    assert.deepEqual(p.diagnostics, []);
  });

  it('answers requests about unknown documents with nothing', async () => {
    const none = { textDocument: { uri: 'file:///nowhere/x.go' }, position: { line: 0, character: 0 } };
    assert.equal(await client.conn.sendRequest('textDocument/hover', none), null);
    assert.deepEqual(await client.conn.sendRequest('textDocument/codeAction', {
      textDocument: { uri: 'file:///nowhere/x.go' }, range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, context: { diagnostics: [], only: ['source.fixAll.racelens'] },
    }), []);
    await client.change('file:///nowhere/x.go', 3, [{ text: 'package x' }]);
    await client.close('file:///nowhere/y.go');
    assert.equal(client.exitCode, null);
  });
});
