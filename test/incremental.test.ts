// Incremental re-checking as you type (engine/incremental.ts) must give exactly what checking the
// whole file gives, and what checking a fresh parse of it gives whenever that parse is the same: seeded random typing in fixture packages, a CRLF file with CJK and emoji, and
// a standard-library file, compared after every batch of edits. FUZZ_RUNS=n types n times as much.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import type { Parser } from 'web-tree-sitter';
import { analyze, type AnalysisResult } from '../server/src/engine/analyze';
import { incrementalChecks } from '../server/src/engine/incremental';
import { groupIntoPackages, type Package } from '../server/src/engine/package';
import type { Rule } from '../server/src/engine/rule';
import { runRules, settleFindings } from '../server/src/engine/run-rules';
import { SourceFile, type TextChange } from '../server/src/engine/source-file';
import { goVersionFor } from '../server/src/node/files';
import { allRules } from '../server/src/rules';
import { goFilesIn, testParser } from './support/engine';
import { rng } from './support/rng';

const RUNS = Number(process.env.FUZZ_RUNS ?? 1);
const FIXTURES = path.join(__dirname, '..', '..', 'test', 'fixtures');
const FILE_RULES: readonly Rule[] = allRules.filter((r) => r.scope !== 'package');
const DECLARATION_RULES = allRules.filter((r) => r.scope === 'declaration');

/** Typing: code that makes and breaks findings, line breaks of every kind, braces, CJK, emoji. */
const SNIPPETS = [
  'x', ' ', '\n', '\r\n', '\t', '日本', '😀', '{', '}', '(', '"', '`', '/* ', '// ',
  'go func() {\n\t\tch <- v\n\t}()\n', 'v = append(v, x)\n', 'for _, v := range m {\n', 'for k, v := range m {\n\t\tv = append(v, 1)\n\t}\n',
  'wg.Add(1)\n', 'defer wg.Done()\n', 'runtime.GC()\n', 'go func() { t.Fatal(err) }()\n', 'm[a][b] = 1\n',
  'ch := make(chan int)\n', 'return\n', 'if _, ok := sm.Load(k); !ok {\n\t\tsm.Store(k, v)\n\t}\n', 'out = append(out, v)\n',
  '//racelens:ignore loop-var-capture\n', 'p := &v\n', 'ptrs = append(ptrs, &v)\n', 'unsafe.Pointer(&f)\n', 'func g() {}\n',
];

/** A random offset, not inside a surrogate pair; nine times in ten inside a function body. */
function randomOffset(rand: () => number, file: SourceFile): number {
  const text = file.text;
  let at = Math.floor(rand() * (text.length + 1));
  if (rand() < 0.9) {
    const bodies = file.root.namedChildren
      .filter((n) => n?.type === 'function_declaration' || n?.type === 'method_declaration')
      .map((n) => n!.childForFieldName('body'))
      .filter((b) => !!b && b.endIndex - b.startIndex > 2);
    const body = bodies[Math.floor(rand() * bodies.length)];
    if (body) at = body.startIndex + 1 + Math.floor(rand() * (body.endIndex - body.startIndex - 1));
  }
  if (at > 0 && at < text.length && /[\uDC00-\uDFFF]/.test(text[at])) at--;
  return at;
}

function randomEdit(rand: () => number, file: SourceFile): TextChange {
  const text = file.text;
  const start = randomOffset(rand, file);
  let end = Math.min(text.length, start + (rand() < 0.5 ? 0 : Math.floor(rand() * (rand() < 0.9 ? 6 : 60))));
  if (end > 0 && end < text.length && /[\uDC00-\uDFFF]/.test(text[end])) end++;
  const insert = rand() < 0.3 ? '' : SNIPPETS[Math.floor(rand() * SNIPPETS.length)];
  return { start, end, text: insert };
}

/** What checking the whole file finds, the way analyze() did before checks became incremental. */
function wholeCheck(pkg: Package, file: SourceFile): AnalysisResult {
  const only = new Set([file.path]);
  const { findings, failures } = runRules(pkg, [file], FILE_RULES, { only });
  return { findings: settleFindings(pkg, [file], FILE_RULES, findings), failures };
}

/** What a check of a freshly parsed copy of the file finds, when the parse agrees with the edited tree. */
function freshCheck(p: Parser, edited: SourceFile, others: readonly SourceFile[], goVersion?: string): AnalysisResult | undefined {
  const fresh = SourceFile.parse(p, edited.path, edited.text);
  try {
    // tree-sitter's incremental parse of broken code may recover from errors differently.
    if (fresh.root.toString() !== edited.root.toString()) return undefined;
    const pkg = groupIntoPackages([fresh, ...others], () => goVersion).find((g) => g.files.includes(fresh));
    return pkg && wholeCheck(pkg, fresh);
  } finally {
    fresh.dispose();
  }
}

/** Checks of typed files that re-ran only the edited declarations, and those that re-ran all. */
const typed = { partial: 0, whole: 0 };

/** Types `steps` random batches of edits (or undoes one) into `target`, checking incrementally after each. */
function typeAndCompare(p: Parser, texts: ReadonlyMap<string, string>, target: string, seed: number, steps: number): void {
  const rand = rng(seed);
  const goVersion = goVersionFor(path.dirname(target));
  const files = [...texts].map(([file, text]) => SourceFile.parse(p, file, text));
  const edited = files.find((f) => f.path === target)!;
  const others = files.filter((f) => f !== edited);
  try {
    const undo: TextChange[][] = [];
    for (let step = 0; step < steps; step++) {
      if (undo.length && rand() < 0.3) {
        edited.edit(undo.pop()!);
      } else {
        const inverse: TextChange[] = [];
        for (let i = 1 + Math.floor(rand() * (rand() < 0.8 ? 1 : 3)); i > 0; i--) {
          const e = randomEdit(rand, edited);
          inverse.unshift({ start: e.start, end: e.start + e.text.length, text: edited.text.slice(e.start, e.end) });
          edited.edit([e]);
        }
        undo.push(inverse);
      }
      edited.reparse(p);
      const pkg = groupIntoPackages(files, () => goVersion).find((g) => g.files.includes(edited));
      if (!pkg) continue; // the package clause is broken: nothing is checked
      const partial = incrementalChecks.partial;
      const got = analyze(pkg, FILE_RULES, { only: new Set([edited.path]) });
      if (incrementalChecks.partial > partial) typed.partial++; else typed.whole++;
      const want = wholeCheck(pkg, edited);
      assert.deepEqual(got.failures, want.failures, `seed ${seed} step ${step}`);
      assert.deepEqual(got.findings, want.findings, `seed ${seed} step ${step}: incremental findings differ from a whole-file check`);
      const fresh = freshCheck(p, edited, others, goVersion);
      if (fresh) assert.deepEqual(got.findings, fresh.findings, `seed ${seed} step ${step}: incremental findings differ from a fresh parse's`);
    }
  } finally {
    for (const f of files) f.dispose();
  }
}

describe('incremental checking as you type', () => {
  it('finds exactly what a fresh check finds, in the fixture packages of the declaration-scoped rules', async () => {
    const p = await testParser();
    const before = { ...typed };
    let seed = 1;
    for (const rule of DECLARATION_RULES) {
      const root = path.join(FIXTURES, rule.id);
      const dirs = [root, ...fs.readdirSync(root, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => path.join(root, e.name))];
      for (const dir of dirs) {
        const texts = goFilesIn(dir);
        for (const target of [...texts.keys()].filter((f) => /\/\/\s*want\s/.test(texts.get(f)!))) {
          for (let run = 0; run < RUNS; run++) typeAndCompare(p, texts, target, seed++, 40);
        }
      }
    }
    // The point of it: most checks re-ran only the edited declarations.
    const partial = typed.partial - before.partial, whole = typed.whole - before.whole;
    assert.ok(partial > whole, `only ${partial} of ${partial + whole} checks were incremental`);
  });

  it('finds exactly what a fresh check finds in a CRLF file with CJK and emoji', async () => {
    const p = await testParser();
    for (const id of ['loop-var-capture', 'goroutine-leak-send', 'nil-inner-map', 'syncmap-check-then-act']) {
      const dir = path.join(FIXTURES, id);
      const texts = goFilesIn(fs.existsSync(path.join(dir, 'bad.go')) ? dir : path.join(dir, 'old'));
      const target = [...texts.keys()].find((f) => f.endsWith('bad.go'))!;
      const crlf = texts.get(target)!.replace(/\n/g, '\r\n').replace(/\{\r\n/g, '{ // 注释 😀 emoji\r\n');
      for (let run = 0; run < RUNS; run++) typeAndCompare(p, new Map([...texts, [target, crlf]]), target, 1000 * (run + 1) + id.length, 40);
    }
  });

  it('finds exactly what a fresh check finds in net/http/server.go', { skip: !fs.existsSync('/usr/lib/go-1.19/src/net/http/server.go') }, async () => {
    const p = await testParser();
    const target = '/usr/lib/go-1.19/src/net/http/server.go';
    for (let run = 0; run < RUNS; run++) typeAndCompare(p, new Map([[target, fs.readFileSync(target, 'utf8')]]), target, 7 + run, 30);
  });
});
