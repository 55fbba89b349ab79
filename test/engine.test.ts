// Engine unit tests: grammar loading, incremental reparse, import resolution and shadowing,
// package grouping, and rule-failure isolation.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import type { Node } from 'web-tree-sitter';
import { analyze } from '../server/src/engine/analyze';
import { defaultPackageName } from '../server/src/engine/imports';
import { groupIntoPackages } from '../server/src/engine/package';
import type { Rule } from '../server/src/engine/rule';
import { SourceFile } from '../server/src/engine/source-file';
import { LineIndex, LiteralCounts } from '../server/src/engine/text';
import { grammarDir } from '../server/src/node/grammar';
import { doubleLock } from '../server/src/rules/locks/double-lock';
import { manualGc } from '../server/src/rules/runtime/manual-gc';
import { testParser } from './support/engine';
import { rng } from './support/rng';

describe('grammar', () => {
  it('build copied both .wasm files into grammars/, and the Go grammar parses', async () => {
    const dir = grammarDir();
    assert.ok(fs.statSync(path.join(dir, 'tree-sitter-go.wasm')).size > 100_000);
    assert.ok(fs.statSync(path.join(dir, 'web-tree-sitter.wasm')).size > 100_000);
    const p = await testParser();
    const f = SourceFile.parse(p, 'a.go', 'package a\n\nfunc f() { go g() }\n');
    assert.equal(f.root.type, 'source_file');
    assert.equal(f.root.hasError, false);
    assert.equal(f.root.descendantsOfType('go_statement').length, 1);
    f.dispose();
  });
});


/** Every node's type, offsets and tree-sitter points, in document order. */
function positions(root: Node): string[] {
  const out: string[] = [];
  const cursor = root.walk();
  for (let more = true; more;) {
    const { startPosition: s, endPosition: e } = cursor;
    out.push(`${cursor.nodeType} ${cursor.startIndex}-${cursor.endIndex} ${s.row}:${s.column}-${e.row}:${e.column}`);
    if (cursor.gotoFirstChild() || cursor.gotoNextSibling()) continue;
    for (more = false; cursor.gotoParent();) if (cursor.gotoNextSibling()) { more = true; break; }
  }
  cursor.delete();
  return out;
}

describe('incremental reparse', () => {
  const BASE = 'package main\r\n\r\nimport "runtime"\n\n// 注释 😀 emoji\nfunc main() {\n\tx := "日本語🎌"\n\truntime.GC()\n\t_ = x\n}\n';
  const INSERTS = ['a', '日', '😀', '\n', '\r\n', '\r', '{', '}', 'runtime.GC()\n', '"', '// 中文\n', ' ', 'go func() {}()\n'];

  it('keeps the edited tree identical to a fresh parse, positions included, over random edits with CJK, emoji, CRLF and lone CR', async () => {
    const p = await testParser();
    for (let seed = 1; seed <= 30; seed++) {
      const rand = rng(seed);
      const file = SourceFile.parse(p, 'a.go', BASE);
      for (let step = 0; step < 25; step++) {
        const text = file.text;
        let start = Math.floor(rand() * (text.length + 1));
        let end = Math.min(text.length, start + Math.floor(rand() * 6));
        // Never split a surrogate pair: editors do not either.
        if (start > 0 && start < text.length && /[\uDC00-\uDFFF]/.test(text[start])) start--;
        if (end > 0 && end < text.length && /[\uDC00-\uDFFF]/.test(text[end])) end++;
        end = Math.max(start, end);
        const insert = rand() < 0.3 ? '' : INSERTS[Math.floor(rand() * INSERTS.length)];
        if (step % 2) file.positionAt(0); // with a line index, edits take their points from it
        file.applyChanges(p, [{ start, end, text: insert }]);
        const fresh = SourceFile.parse(p, 'b.go', file.text);
        assert.equal(file.root.toString(), fresh.root.toString(), `seed ${seed} step ${step}`);
        assert.deepEqual(positions(file.root), positions(fresh.root), `seed ${seed} step ${step}: node positions`);
        fresh.dispose();
      }
      file.dispose();
    }
  });

  it('batches several changes into one reparse', async () => {
    const p = await testParser();
    const file = SourceFile.parse(p, 'a.go', 'package a\n\nfunc f() {}\n');
    file.edit([{ start: 10, end: 10, text: 'import "runtime"\n\n' }]);
    assert.equal(file.stale, true);
    file.edit([{ start: file.text.indexOf('{}') + 1, end: file.text.indexOf('{}') + 1, text: ' runtime.GC() ' }]);
    file.reparse(p);
    assert.equal(file.stale, false);
    assert.equal(file.callsTo('runtime', ['GC']).length, 1);
    file.dispose();
  });
});

describe('line index', () => {
  it('updates incrementally exactly as a fresh scan, with LF, CRLF and lone CR', () => {
    const rand = rng(42);
    const pieces = ['a', '\n', '\r\n', '\r', '日', '😀', 'xy\nz', '\r\n\r\n', ''];
    for (let run = 0; run < 200; run++) {
      let text = 'package x\r\nfunc f() {\n\tgo g()\r}\n';
      let idx = new LineIndex(text);
      for (let step = 0; step < 30; step++) {
        const start = Math.floor(rand() * (text.length + 1));
        const end = Math.min(text.length, start + Math.floor(rand() * 4));
        const ins = pieces[Math.floor(rand() * pieces.length)];
        const next = text.slice(0, start) + ins + text.slice(end);
        idx = idx.withChange(next, start, end, ins);
        text = next;
        const fresh = new LineIndex(text);
        assert.equal(idx.lineCount, fresh.lineCount, `run ${run} step ${step}`);
        for (let l = 0; l < fresh.lineCount; l++) assert.equal(idx.lineStart(l), fresh.lineStart(l), `run ${run} step ${step} line ${l}`);
      }
    }
  });
});

describe('literal counts', () => {
  it('stay equal to a fresh count through random edits, including overlapping occurrences', () => {
    const rand = rng(7);
    const pieces = ['r', 'a', 'range', 'ang', '\r\n', '\n', 'aa', '日😀', 'go ', ''];
    const literals = ['range', 'aa', '\r\n', 'go', '😀', 'absent'];
    const fresh = (t: string, l: string) => { let n = 0; for (let i = t.indexOf(l); i !== -1; i = t.indexOf(l, i + 1)) n++; return n; };
    for (let run = 0; run < 200; run++) {
      let text = 'for _, v := range xs { aaa }\r\n';
      const counts = new LiteralCounts();
      for (const l of literals) counts.count(text, l);
      for (let step = 0; step < 30; step++) {
        const start = Math.floor(rand() * (text.length + 1));
        const end = Math.min(text.length, start + Math.floor(rand() * 6));
        const ins = pieces[Math.floor(rand() * pieces.length)];
        const next = text.slice(0, start) + ins + text.slice(end);
        counts.update(text, next, start, end, ins);
        text = next;
        for (const l of literals) assert.equal(counts.count(text, l), fresh(text, l), `run ${run} step ${step} ${JSON.stringify(l)} in ${JSON.stringify(text)}`);
      }
    }
  });
});

describe('import resolution and shadowing', () => {
  it('derives default package names', () => {
    assert.equal(defaultPackageName('runtime/debug'), 'debug');
    assert.equal(defaultPackageName('math/rand/v2'), 'rand');
    assert.equal(defaultPackageName('gopkg.in/yaml.v3'), 'yaml');
  });

  it('resolves aliases and dot imports, and respects locals that shadow the package', async () => {
    const p = await testParser();
    const src = `package a

import (
	rt "runtime"
	. "runtime/debug"
	"runtime/pprof"
)

func a() { rt.GC() }
func b() { FreeOSMemory() }
func c(rt int) { rt.GC() }
func d() { if rt := 1; rt > 0 { rt.GC() } }
func e() { for rt := range xs { rt.GC() } }
func f() { FreeOSMemory := func() {}; FreeOSMemory() }
func g() { var runtime struct{}; runtime.GC() }
func h() { rt.GC(); rt := 1; _ = rt }
func i() { func() { rt.GC() }() }
func j() { pprof.StopCPUProfile() }
`;
    const file = SourceFile.parse(p, 'a.go', src);
    const lineOf = (n: { startIndex: number }) => file.positionAt(n.startIndex).line + 1;
    assert.deepEqual(file.callsTo('runtime', ['GC']).map((c) => lineOf(c.call)), [9, 16, 17]);
    assert.deepEqual(file.callsTo('runtime/debug', ['FreeOSMemory']).map((c) => lineOf(c.call)), [10]);
    assert.deepEqual(file.callsTo('runtime/trace', ['Start']), []);
    file.dispose();
  });

  it('groups files by directory and package clause, keeping external test packages apart', async () => {
    const p = await testParser();
    const files = [
      SourceFile.parse(p, '/x/a.go', 'package x\n'),
      SourceFile.parse(p, '/x/b.go', 'package x\nconst N = 1\n'),
      SourceFile.parse(p, '/x/x_test.go', 'package x_test\n'),
      SourceFile.parse(p, '/y/a.go', 'package x\n'),
      SourceFile.parse(p, '/x/junk.go', '\u0000\u0001 not go'),
    ];
    const pkgs = groupIntoPackages(files);
    assert.deepEqual(pkgs.map((k) => `${k.dir}:${k.name}:${k.files.length}`), ['/x:x:2', '/x:x_test:1', '/y:x:1']);
    assert.ok(pkgs[0].decls.has('N'));
    files.forEach((f) => f.dispose());
  });
});

describe('analyze', () => {
  it('a rule that throws costs only its own findings', async () => {
    const p = await testParser();
    const file = SourceFile.parse(p, '/x/a.go', 'package x\nimport "runtime"\nfunc f() { runtime.GC() }\n');
    const broken: Rule = { id: 'broken', title: 'b', doc: 'b', severity: 'error', run() { throw new Error('boom'); } };
    const [pkg] = groupIntoPackages([file]);
    const result = analyze(pkg, [broken, manualGc]);
    assert.deepEqual(result.findings.map((f) => f.ruleId), ['manual-gc']);
    assert.equal(result.failures.length, 1);
    assert.equal(result.failures[0].ruleId, 'broken');
    file.dispose();
  });

  it('generated files take part in the facts, but no rule looks at them for findings', async () => {
    const p = await testParser();
    const gen = SourceFile.parse(p, '/x/g.go', '// Code generated by gen. DO NOT EDIT.\n\npackage x\n\nfunc (s *S) bump() { s.mu.Lock(); s.n++; s.mu.Unlock() }\n\nfunc (s *S) genTwice() { s.mu.Lock(); s.bump(); s.mu.Unlock() }\n');
    const own = SourceFile.parse(p, '/x/a.go', 'package x\n\nimport "sync"\n\ntype S struct {\n\tmu sync.Mutex\n\tn  int\n}\n\nfunc (s *S) Twice() {\n\ts.mu.Lock()\n\tdefer s.mu.Unlock()\n\ts.bump()\n}\n');
    const seen: string[] = [];
    const probe: Rule = { id: 'probe', title: 'p', doc: 'p', severity: 'info', run(pass) { for (const f of pass.files) seen.push(f.path); } };
    const [pkg] = groupIntoPackages([gen, own]);
    const result = analyze(pkg, [probe, doubleLock]);
    assert.deepEqual(seen, ['/x/a.go']);
    // The hand-written call into the generated helper is found; the same shape inside g.go is not shown.
    assert.deepEqual(result.findings.map((f) => `${f.ruleId} ${f.path}:${f.range.start.line + 1}`), ['double-lock /x/a.go:13']);
    gen.dispose();
    own.dispose();
  });

  it('a package of generated files only runs no rule and builds no fact', async () => {
    const p = await testParser();
    const gen = SourceFile.parse(p, '/y/g.go', '// Code generated by gen. DO NOT EDIT.\n\npackage y\n\nimport "runtime"\n\nfunc f() { runtime.GC() }\n');
    let ran = 0;
    const probe: Rule = { id: 'probe', title: 'p', doc: 'p', severity: 'info', run() { ran++; } };
    const [pkg] = groupIntoPackages([gen]);
    const result = analyze(pkg, [probe, manualGc, doubleLock]);
    assert.equal(ran, 0);
    assert.deepEqual(result, { findings: [], failures: [] });
    gen.dispose();
  });

  it('survives broken, half-typed and binary input', async () => {
    const p = await testParser();
    const inputs = [
      'package x\nimport "runtime"\nfunc f() { runtime.GC(',
      'package x\nimport "runtime"\nfunc f() { runtime.',
      '\u0000\u00ff\ufffd'.repeat(1000),
      'package x\nfunc f() {' + '{'.repeat(5000),
      '',
    ];
    for (const src of inputs) {
      const file = SourceFile.parse(p, '/x/a.go', src);
      const pkgs = groupIntoPackages([file]);
      for (const pkg of pkgs) assert.deepEqual(analyze(pkg, [manualGc]).failures, []);
      file.dispose();
    }
  });
});

describe('suppression comments', () => {
  it('honours racelens:ignore, racelens:file-ignore and golangci nolint forms', async () => {
    const p = await testParser();
    const src = `package x

import "runtime"

func a() {
	runtime.GC() //racelens:ignore manual-gc warm-up before serving
	//racelens:ignore gc-disabled,manual-gc batch job between phases
	runtime.GC()
	runtime.GC() //nolint:errcheck,racelens // test harness
	runtime.GC() //nolint
	runtime.GC() //nolint:errcheck
	runtime.GC() //racelens:ignore gc-disabled wrong rule
	//racelens:ignore manual-gc only the next line

	runtime.GC()
}
`;
    const file = SourceFile.parse(p, '/x/a.go', src);
    const [pkg] = groupIntoPackages([file]);
    const lines = analyze(pkg, [manualGc]).findings.map((f) => f.range.start.line + 1);
    assert.deepEqual(lines, [11, 12, 15]);
    file.dispose();
    const whole = SourceFile.parse(p, '/x/b.go', '//racelens:file-ignore manual-gc legacy batch tool\npackage x\n\nimport "runtime"\n\nfunc b() { runtime.GC() }\n');
    assert.deepEqual(analyze(groupIntoPackages([whole])[0], [manualGc]).findings, []);
    whole.dispose();
  });
});
