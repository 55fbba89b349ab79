// A reparse bounded in time (the editor's keystroke path): one that runs out leaves the file stale
// with its edited tree and the parser free for other files; finishing it later, at once or in
// slices with edits in between, gives the tree a fresh parse gives.
import * as assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { newGoParser } from '../server/src/engine/parser';
import type { ParseBudget } from '../server/src/engine/parse-budget';
import { SourceFile } from '../server/src/engine/source-file';
import { testParser } from './support/engine';
import { LspClient } from './support/lsp-client';

/** A file long enough that reparsing it after a broken brace takes many parser steps. */
const LONG = `package a\n\nimport "sync"\n\n${Array.from({ length: 200 }, (_, i) => `func f${i}(mu *sync.Mutex, m map[int]int) {\n\tmu.Lock()\n\tm[${i}] = ${i}\n\tmu.Unlock()\n}\n`).join('\n')}`;

/** Gives up at the parser's first progress check. */
const NONE: ParseBudget = { exhausted: () => true };

function freshTree(text: string): string {
  const p = newGoParser();
  try {
    const tree = p.parse(text)!;
    const s = tree.rootNode.toString();
    tree.delete();
    return s;
  } finally {
    p.delete();
  }
}

/** Deletes the first `{` of the file's first function: everything after it recovers from errors. */
function breakBrace(file: SourceFile): void {
  const at = file.text.indexOf('{');
  file.edit([{ start: at, end: at + 1, text: '' }]);
}

describe('bounded reparse', () => {
  it('runs out of its budget: the file stays stale, and the parser parses other files as if fresh', async () => {
    const p = await testParser();
    const file = SourceFile.parse(p, 'a.go', LONG);
    try {
      const before = file.root.toString();
      breakBrace(file);
      assert.equal(file.reparse(p, NONE), false);
      assert.equal(file.stale, true);
      assert.equal(file.root.toString(), before, 'the edited tree is kept');
      const other = SourceFile.parse(p, 'b.go', 'package b\n\nfunc g() { go h() }\n');
      assert.equal(other.root.toString(), freshTree(other.text), 'no stopped parse resumed on another text');
      other.dispose();
      // Another edit on top, then a reparse without a bound: as a fresh parse.
      file.edit([{ start: file.text.length, end: file.text.length, text: '\nfunc tail() {}\n' }]);
      assert.equal(file.reparse(p), true);
      assert.equal(file.stale, false);
      assert.equal(file.root.toString(), freshTree(file.text));
    } finally {
      file.dispose();
    }
  });

  it('a budget that lasts reparses as usual', async () => {
    const p = await testParser();
    const file = SourceFile.parse(p, 'a.go', LONG);
    try {
      breakBrace(file);
      assert.equal(file.reparse(p, { exhausted: () => false }), true);
      assert.equal(file.root.toString(), freshTree(file.text));
    } finally {
      file.dispose();
    }
  });

  it('finishes in slices, resuming the stopped parse, and starts again after an edit between slices', async () => {
    const p = await testParser();
    const slices = newGoParser();
    const file = SourceFile.parse(p, 'a.go', LONG);
    try {
      breakBrace(file);
      let pauses = 0;
      const pause = async () => {
        if (++pauses === 3) file.edit([{ start: 0, end: 0, text: '// typed meanwhile\n' }]);
      };
      assert.equal(await file.reparseInSlices(slices, 0, pause, () => false), true);
      assert.ok(pauses > 3, `a zero-length slice stops at each progress check (${pauses} pauses)`);
      assert.equal(file.stale, false);
      assert.equal(file.root.toString(), freshTree(file.text));
    } finally {
      file.dispose();
      slices.delete();
    }
  });

  it('stops when cancelled, leaving the file stale and the slice parser reset', async () => {
    const p = await testParser();
    const slices = newGoParser();
    const file = SourceFile.parse(p, 'a.go', LONG);
    try {
      breakBrace(file);
      assert.equal(await file.reparseInSlices(slices, 0, async () => undefined, () => true), false);
      assert.equal(file.stale, true);
      const other = SourceFile.parse(slices, 'b.go', 'package b\n');
      assert.equal(other.root.toString(), freshTree(other.text));
      other.dispose();
      file.reparse(p);
      assert.equal(file.root.toString(), freshTree(file.text));
    } finally {
      file.dispose();
      slices.delete();
    }
  });
});

describe('editor: a file that cannot be reparsed in a keystroke', () => {
  const URI = 'untitled:long.go';
  // runtime.GC() in the last function: a file-rule finding far below the broken brace.
  const TEXT = LONG.replace('package a\n\nimport "sync"\n', 'package a\n\nimport (\n\t"runtime"\n\t"sync"\n)\n') + '\nfunc gc() {\n\truntime.GC()\n}\n';
  const gcLine = TEXT.split('\n').findIndex((l) => l.includes('runtime.GC()'));
  let client: LspClient;
  // A zero budget: every keystroke's reparse of this file runs out; the package pass finishes it.
  before(async () => {
    client = new LspClient({ debounceMs: 0, reparseBudgetMs: 0 });
    await client.initialize();
  });
  after(() => client.shutdown());

  it('shows the earlier findings, moved along the edits, as stale; then the fresh ones once typing pauses', async () => {
    await client.open(URI, TEXT, 1);
    const first = await client.diagnostics(URI, (p) => p.version === 1 && p.diagnostics.length > 0);
    assert.deepEqual(first.diagnostics.map((d) => [d.code, d.range.start.line]), [['manual-gc', gcLine]]);
    const brace = TEXT.split('\n').findIndex((l) => l.startsWith('func f0('));
    const braceAt = { line: brace, character: TEXT.split('\n')[brace].indexOf('{') };
    // Break the first function's brace and add a line above the finding.
    await client.change(URI, 2, [
      { range: { start: braceAt, end: { ...braceAt, character: braceAt.character + 1 } }, text: '' },
      { range: { start: { line: 1, character: 0 }, end: { line: 1, character: 0 } }, text: '\n' },
    ]);
    const stale = await client.diagnostics(URI, (p) => p.version === 2);
    assert.deepEqual(stale.diagnostics.map((d) => [d.code, d.range.start.line]), [['manual-gc', gcLine + 1]], 'moved one line down');
    await client.statusWhere((s: { stale?: number }) => s.stale === 1);
    await client.statusWhere((s: { stale?: number }) => s.stale === 0); // the package pass reparsed it
    // Mend the brace: the finding is there, fresh, at its place.
    await client.change(URI, 3, [{ range: { start: { line: brace + 1, character: braceAt.character }, end: { line: brace + 1, character: braceAt.character } }, text: '{' }]);
    await client.statusWhere((s: { stale?: number }) => s.stale === 1);
    await client.statusWhere((s: { stale?: number }) => s.stale === 0);
    const fresh = await client.diagnostics(URI, (p) => p.version === 3);
    assert.deepEqual(fresh.diagnostics.map((d) => [d.code, d.range.start.line]), [['manual-gc', gcLine + 1]]);
  });
});
