// A reparse bounded in time (the editor's keystroke path): one that runs out leaves the file stale
// with its edited tree and the parser free for other files; finishing it later, at once or in
// slices with edits in between, gives the tree a fresh parse gives. And a soak (issue 16).
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { analyze } from '../server/src/engine/analyze';
import { groupIntoPackages } from '../server/src/engine/package';
import { newGoParser } from '../server/src/engine/parser';
import type { ParseBudget } from '../server/src/engine/parse-budget';
import { SourceFile } from '../server/src/engine/source-file';
import { goVersionFor } from '../server/src/node/files';
import { allRules } from '../server/src/rules';
import { analyzeTexts, goFilesIn, testParser } from './support/engine';
import { rng } from './support/rng';
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

describe('soak: 10,000 edits with syntax errors in and out, reparses often running out', () => {
  it('finds the original findings whenever the text is the original again, and does not grow the WASM heap', async () => {
    const p = await testParser();
    const dir = path.join(__dirname, '..', '..', 'examples', 'orderservice');
    const texts = goFilesIn(dir);
    const want = analyzeTexts(p, texts, allRules);
    assert.ok(want.length >= 6, 'the example has findings of file and package rules');
    const files = [...texts].map(([f, t]) => SourceFile.parse(p, f, t));
    const targets = files.filter((f) => /\/(admin|config|cache)\.go$/.test(f.path));
    const rand = rng(16);
    const pieces = ['{', '}', '(', ')', 'func ', '"', '`', '/*', '\n', 'x := ', '[', 'go '];
    // Gives up after a random number of progress checks, as a keystroke's reparse does when it runs out of time.
    const someBudget = (): ParseBudget => {
      let checks = Math.floor(rand() * 3);
      return { exhausted: () => checks-- <= 0 };
    };
    const only = (f: SourceFile) => ({ only: new Set([f.path]) });
    let edits = 0, ranOut = 0, heapAt1k = 0;
    try {
      while (edits < 10_000) {
        const file = targets[edits % targets.length];
        const undo: { start: number; end: number; text: string }[] = [];
        for (let i = 0; i < 25; i++, edits++) {
          const start = Math.floor(rand() * file.text.length);
          const end = rand() < 0.3 ? Math.min(file.text.length, start + 1 + Math.floor(rand() * 3)) : start;
          const text = end > start ? '' : pieces[Math.floor(rand() * pieces.length)];
          undo.push({ start, end: start + text.length, text: file.text.slice(start, end) });
          file.edit([{ start, end, text }]);
          if (!file.reparse(p, someBudget())) ranOut++;
        }
        while (undo.length) {
          file.edit([undo.pop()!]);
          if (!file.reparse(p, someBudget())) ranOut++;
          edits++;
        }
        assert.equal(file.text, texts.get(file.path));
        file.reparse(p); // typing paused: finished without a bound
        const pkg = groupIntoPackages(files, goVersionFor)[0];
        const mine = analyze(pkg, allRules).findings;
        assert.deepEqual(mine, want, `after ${edits} edits: the whole package`);
        const fileRules = allRules.filter((r) => r.scope !== 'package');
        assert.deepEqual(analyze(pkg, fileRules, only(file)).findings, analyzeTexts(p, texts, fileRules).filter((f) => f.path === file.path), `after ${edits} edits: ${file.path} incrementally`);
        if (!heapAt1k && edits >= 1000) heapAt1k = process.memoryUsage().arrayBuffers;
      }
      assert.ok(ranOut > 1000, `many reparses ran out (${ranOut})`);
      const grown = process.memoryUsage().arrayBuffers - heapAt1k;
      assert.ok(grown < 32 * 1024 * 1024, `WASM and other buffers grew by ${Math.round(grown / 1048576)} MB between 1,000 and 10,000 edits`);
    } finally {
      for (const f of files) f.dispose();
    }
  });
});
