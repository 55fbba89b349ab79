// Licence headers and build constraints before the package clause, in any number, change nothing
// but line numbers: every fixture package gives the same findings (shifted) and the same fixes.
// Also: a file with no package clause is reported, never passed in silence.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import type { Finding } from '../server/src/engine/rule';
import { SourceFile } from '../server/src/engine/source-file';
import { allRules } from '../server/src/rules';
import { analyzeTexts, fixTexts, goFilesIn, testParser } from './support/engine';
import { LspClient } from './support/lsp-client';
import { spawnSync } from 'node:child_process';

const FIXTURES = path.join(__dirname, '..', '..', 'test', 'fixtures');
const COUNTS = [0, 1, 7, 8, 9, 40, 200];
const CLI = path.join(__dirname, '..', '..', 'dist', 'cli.js');

type Form = 'line' | 'block' | 'build';

/** `n` lines to put before the package clause, in one of three forms. */
function header(n: number, form: Form): string {
  if (n === 0) return '';
  const lines: string[] = [];
  if (form === 'line') for (let i = 1; i <= n; i++) lines.push(`// Licence header line ${i}.`);
  else if (form === 'block') {
    if (n === 1) lines.push('/* Licence header. */');
    else { lines.push('/*'); for (let i = 2; i < n; i++) lines.push(` * Licence header line ${i}.`); lines.push(' */'); }
  } else {
    // Comments and blank lines, then a build constraint and the blank line gofmt wants after it.
    for (let i = 1; i <= n - 2; i++) lines.push(i % 3 === 0 ? '' : `// header ${i}`);
    if (n >= 2) lines.push('//go:build go1.18', '');
    else lines.push('');
  }
  return lines.join('\n') + '\n';
}

function packages(): Map<string, string>[] {
  const out: Map<string, string>[] = [];
  const walk = (dir: string) => {
    const texts = goFilesIn(dir);
    if (texts.size) out.push(texts);
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) walk(path.join(dir, e.name));
  };
  walk(FIXTURES);
  return out;
}

/** A finding as the user sees it, with line numbers (in positions and messages) moved back by `shift`. */
function shape(f: Finding, shift: number): string {
  const back = (s: string) => s.replace(/(line |\.go:)(\d+)/g, (_, p: string, n: string) => `${p}${Number(n) - shift}`);
  const rel = f.related.map((r) => `${path.basename(r.path)}:${r.range.start.line - shift}:${r.range.start.character} ${back(r.message)}`);
  return `${path.basename(f.path)}:${f.range.start.line - shift}:${f.range.start.character} [${f.ruleId}] ${back(f.message)} | ${rel.join(' | ')} | fixes: ${f.fixes.map((x) => x.title).join(', ')}`;
}

function withHeader(texts: Map<string, string>, h: string): Map<string, string> {
  return new Map([...texts].map(([p, t]) => [p, h + t]));
}

describe('headers before the package clause', () => {
  it('change nothing but line numbers, for every fixture package, count and form', async () => {
    const p = await testParser();
    let compared = 0;
    for (const texts of packages()) {
      const base = analyzeTexts(p, texts, allRules).map((f) => shape(f, 0));
      for (const form of ['line', 'block', 'build'] as const) {
        for (const n of COUNTS) {
          const h = header(n, form);
          const shift = h.split('\n').length - 1;
          const got = analyzeTexts(p, withHeader(texts, h), allRules).map((f) => shape(f, shift));
          assert.deepEqual(got, base, `${path.dirname([...texts.keys()][0])} with ${n} ${form} header lines`);
          compared++;
        }
      }
    }
    assert.ok(compared > 100, `only ${compared} packages compared`);
  });

  it('keep every fix applicable: the fixed text is the shifted golden', async () => {
    const p = await testParser();
    let checked = 0;
    for (const texts of packages()) {
      const dir = path.dirname([...texts.keys()][0]);
      const goldens = fs.readdirSync(dir).filter((n) => n.endsWith('.go.golden'));
      if (!goldens.length) continue;
      const rule = allRules.find((r) => r.id === path.relative(FIXTURES, dir).split(path.sep)[0])!;
      const rules = rule.id === 'unused-suppression' ? allRules : [rule];
      for (const [n, form] of [[8, 'line'], [40, 'block'], [9, 'build']] as const) {
        const h = header(n, form);
        const headed = withHeader(texts, h);
        const outcome = await fixTexts(p, headed, rules, rule.id);
        for (const g of goldens) {
          const file = path.join(dir, g.replace(/\.golden$/, ''));
          const want = h + fs.readFileSync(path.join(dir, g), 'utf8');
          // A golden equal to its source pins a fix that verification refuses: the file stays as it is.
          assert.equal(outcome.changed.get(file)?.after ?? headed.get(file), want, `${g} with ${n} ${form} header lines`);
          checked++;
        }
      }
    }
    assert.ok(checked > 20, `only ${checked} goldens checked`);
  });

  it('find the package clause however long, and report a file without one', async () => {
    const p = await testParser();
    const long = SourceFile.parse(p, 'a.go', `${header(200, 'line')}package licensed\n`);
    const none = SourceFile.parse(p, 'b.go', `${header(13, 'line')}func F() {}\n`);
    const junk = SourceFile.parse(p, 'c.go', '\u0001\u0002 not go at all');
    try {
      assert.equal(long.packageName, 'licensed');
      assert.equal(long.notChecked, undefined);
      assert.equal(none.packageName, undefined);
      assert.match(none.notChecked ?? '', /no package clause/);
      assert.match(junk.notChecked ?? '', /no package clause/);
    } finally {
      long.dispose(); none.dispose(); junk.dispose();
    }
  });

  it('the CLI checks a file with a 13-line header and names a file with no package clause', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'racelens-headers-'));
    try {
      fs.writeFileSync(path.join(dir, 'a.go'), `${header(13, 'line')}package p\n\nimport "runtime"\n\nfunc F() { runtime.GC() }\n`);
      fs.writeFileSync(path.join(dir, 'b.go'), `${header(13, 'line')}\nfunc half() {}\n`);
      const r = spawnSync(process.execPath, [CLI, 'check', `${dir}/...`], { encoding: 'utf8' });
      assert.equal(r.status, 1, r.stderr);
      assert.match(r.stdout, /a\.go:18:\d+: warning: \[manual-gc\]/);
      assert.match(r.stderr, /b\.go: skipped: no package clause/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('an open document keeps its findings while a long header is typed above the clause', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'racelens-headers-lsp-'));
    const uri = pathToFileURL(path.join(dir, 'main.go')).href;
    const client = new LspClient();
    try {
      await client.initialize();
      await client.open(uri, 'package main\n\nimport "runtime"\n\nfunc handle() {\n\truntime.GC()\n}\n', 1);
      let d = await client.diagnostics(uri, (x) => x.version === 1);
      assert.deepEqual(d.diagnostics.map((x) => [x.code, x.range.start.line]), [['manual-gc', 5]]);
      // Type a 13-line licence header one line at a time, each line character by character.
      let version = 1;
      for (let line = 0; line < 13; line++) {
        const text = `// Copyright line ${line + 1}.\n`;
        for (let i = 0; i < text.length; i++) {
          await client.change(uri, ++version, [{ range: { start: { line, character: i }, end: { line, character: i } }, text: text[i] }]);
        }
        d = await client.diagnostics(uri, (x) => x.version === version);
        assert.deepEqual(d.diagnostics.map((x) => [x.code, x.range.start.line]), [['manual-gc', 5 + line + 1]], `after header line ${line + 1}`);
      }
      // Deleting the clause itself leaves a file that says why it is not checked.
      await client.change(uri, ++version, [{ range: { start: { line: 13, character: 0 }, end: { line: 14, character: 0 } }, text: '' }]);
      d = await client.diagnostics(uri, (x) => x.version === version);
      assert.deepEqual(d.diagnostics.map((x) => x.code), ['skipped']);
      assert.match(String(d.diagnostics[0].message), /no package clause/);
    } finally {
      await client.shutdown();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
