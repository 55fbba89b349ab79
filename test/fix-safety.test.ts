// Fix verification (engine/verify-fix.ts) and the convergence of fix rounds (engine/fix-rounds.ts).
import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fixCheck } from '../server/src/cli/fixcheck';
import { fixInRounds } from '../server/src/engine/fix-rounds';
import { fixAllText } from '../server/src/lsp/fix-all';
import type { Finding, Fix } from '../server/src/engine/rule';
import { mapThroughEdits } from '../server/src/engine/shift';
import { verifyFix } from '../server/src/engine/verify-fix';
import { allRules } from '../server/src/rules';
import { analyzeTexts, testParser } from './support/engine';

const PATH = '/pkg/svc/handler.go';
const HANDLER = `package svc

import (
	"net/http"
	"runtime"
)

func handle(w http.ResponseWriter, r *http.Request) {
	runtime.GC()
}
`;

async function verifyOn(text: string, edits: (finding: Finding) => Fix['edits']) {
  const p = await testParser();
  const texts = new Map([[PATH, text]]);
  const before = analyzeTexts(p, texts, allRules);
  const finding = before.find((f) => f.ruleId === 'manual-gc')!;
  const fix: Fix = { title: 'test fix', edits: edits(finding), isPreferred: true };
  return verifyFix({
    finding, fix, before, parser: p,
    read: (path) => texts.get(path)!,
    inPackage: (path) => texts.has(path),
    analyze: (changed) => analyzeTexts(p, new Map([...texts, ...changed]), allRules),
  });
}

describe('verifyFix', () => {
  it('accepts the rule\'s own preferred fix, which clears the finding and adds none', async () => {
    const p = await testParser();
    const finding = analyzeTexts(p, new Map([[PATH, HANDLER]]), allRules).find((f) => f.ruleId === 'manual-gc')!;
    const verdict = await verifyOn(HANDLER, () => finding.fixes.find((x) => x.isPreferred)!.edits);
    assert.equal(verdict.ok, true);
  });

  it('refuses a fix whose result does not parse', async () => {
    const verdict = await verifyOn(HANDLER, (f) => [{ path: PATH, start: f.end - 1, end: f.end, newText: '' }]);
    assert.deepEqual(verdict, { ok: false, kind: 'unparsable', reason: 'the result does not parse' });
  });

  it('refuses a fix that leaves its own finding', async () => {
    const verdict = await verifyOn(HANDLER, () => [{ path: PATH, start: HANDLER.length, end: HANDLER.length, newText: '\n// unrelated\n' }]);
    assert.equal(verdict.ok, false);
    assert.match(!verdict.ok ? verdict.reason : '', /own finding is still reported/);
  });

  it('refuses a fix that clears its finding but adds one elsewhere', async () => {
    const verdict = await verifyOn(HANDLER, (f) => [
      { path: PATH, start: f.start, end: f.end, newText: '_ = r' },
      { path: PATH, start: HANDLER.length, end: HANDLER.length, newText: '\nfunc other(w http.ResponseWriter, r *http.Request) {\n\truntime.GC()\n}\n' },
    ]);
    assert.equal(verdict.ok, false);
    assert.match(!verdict.ok ? verdict.reason : '', /would add a finding: manual-gc at handler\.go:13:2/);
  });

  it('refuses a fix that edits another package or grows past the bounds', async () => {
    const outside = await verifyOn(HANDLER, () => [{ path: '/elsewhere/x.go', start: 0, end: 0, newText: 'x' }]);
    assert.match(!outside.ok ? outside.reason : '', /outside the package/);
    const huge = await verifyOn(HANDLER, (f) => [{ path: PATH, start: f.start, end: f.end, newText: '_ = r' + '\n\t_ = r'.repeat(300) }]);
    assert.match(!huge.ok ? huge.reason : '', /adds 300 lines to one file/);
  });

  it('maps offsets through edits: moved, inside a replacement, at an insertion', () => {
    const edits = [{ start: 2, end: 4, newText: 'xyz' }, { start: 10, end: 10, newText: 'ab' }];
    assert.deepEqual(mapThroughEdits(edits, 1), { lo: 1, hi: 1 });
    assert.deepEqual(mapThroughEdits(edits, 3), { lo: 2, hi: 5 });
    assert.deepEqual(mapThroughEdits(edits, 6), { lo: 7, hi: 7 });
    assert.deepEqual(mapThroughEdits(edits, 10), { lo: 11, hi: 13 });
  });
});

/** A toy package: one finding per marker letter in the text, each fixed by its own edit. */
function toyFindings(path: string, text: string, fixOf: (letter: string, at: number, text: string) => Fix['edits']): Finding[] {
  return [...text.matchAll(/[A-Z]/g)].map((m) => ({
    ruleId: `toy-${m[0]}`, severity: 'warning' as const, path, start: m.index!, end: m.index! + 1,
    range: { start: { line: 0, character: m.index! }, end: { line: 0, character: m.index! + 1 } },
    message: m[0], related: [], fixes: [{ title: `fix ${m[0]}`, edits: fixOf(m[0], m.index!, text), isPreferred: true }],
  }));
}

async function toyRun(text: string, fixOf: Parameters<typeof toyFindings>[2], limits = {}) {
  const p = await testParser();
  const path = '/toy/a.go';
  return fixInRounds({
    findings: toyFindings(path, text, fixOf), read: () => text, packageOf: () => '/toy', parser: p,
    analyzePackage: (_, texts) => toyFindings(path, texts.get(path) ?? text, fixOf), limits,
  });
}

describe('fix rounds converge', () => {
  const deleteLetter = (_: string, at: number) => [{ path: '/toy/a.go', start: at, end: at + 1, newText: '' }];

  it('apply one verified fix per package per round until none is left', async () => {
    const outcome = await toyRun('package a // ABC\n', deleteLetter);
    assert.equal(outcome.fixed, 3);
    assert.equal(outcome.changed.get('/toy/a.go')?.after, 'package a // \n');
    assert.equal(outcome.stopped, undefined);
  });

  it('stop at the bound on rounds, and on fixes per file, and say so', async () => {
    const rounds = await toyRun('package a // ABC\n', deleteLetter, { rounds: 2 });
    assert.equal(rounds.fixed, 2);
    assert.match(rounds.stopped ?? '', /stopped after 2 rounds of fixes/);
    const perFile = await toyRun('package a // ABC\n', deleteLetter, { fixesPerFile: 1 });
    assert.equal(perFile.fixed, 1);
    assert.match(perFile.stopped ?? '', /after 1 fixes/);
  });

  it('never let a fix change text an earlier fix of the run inserted', async () => {
    // A's fix writes "xy" before B; B's fix then wants to replace that "xy".
    const fixOf = (letter: string, at: number, text: string) => letter === 'A'
      ? [{ path: '/toy/a.go', start: at, end: at + 1, newText: '' }, { path: '/toy/a.go', start: text.indexOf('B'), end: text.indexOf('B'), newText: 'xy' }]
      : text.includes('xyB') ? [{ path: '/toy/a.go', start: at - 2, end: at + 1, newText: '' }] : [{ path: '/toy/a.go', start: at, end: at + 1, newText: '' }];
    const outcome = await toyRun('package a // A B\n', fixOf);
    assert.equal(outcome.fixed, 1);
    assert.equal(outcome.changed.get('/toy/a.go')?.after, 'package a //  xyB\n');
    assert.deepEqual(outcome.refused.map((r) => [r.finding.ruleId, r.reason]), [['toy-B', 'it would change code an earlier fix of this run inserted']]);
  });

  it('try every candidate, past the attempts one round allows', async () => {
    // Nine refused fixes (each keeps its own marker) before the one that verifies.
    const fixOf = (letter: string, at: number) => [{ path: '/toy/a.go', start: at, end: at + 1, newText: letter === 'Z' ? '' : letter + letter }];
    const outcome = await toyRun('package a // ABCDEFGHIZ\n', (l, at) => fixOf(l, at), { attemptsPerRound: 2 });
    assert.equal(outcome.refused.length, 9);
    assert.equal(outcome.fixed, 1);
    assert.equal(outcome.changed.get('/toy/a.go')?.after, 'package a // ABCDEFGHI\n');
  });

  it('refuse a fix that adds a finding, and apply the others', async () => {
    // C's fix writes a new marker: refused; A's is applied.
    const fixOf = (letter: string, at: number) => [{ path: '/toy/a.go', start: at, end: at + 1, newText: letter === 'C' ? 'D' : '' }];
    const outcome = await toyRun('package a // AC\n', (l, at) => (l === 'D' ? [] : fixOf(l, at)));
    assert.equal(outcome.fixed, 1);
    assert.equal(outcome.refused.length, 1);
    assert.match(outcome.refused[0].reason, /would add a finding: toy-D/);
  });
});

const REFUSED = path.join(__dirname, '..', '..', 'test', 'fixtures', 'unguarded-access', 'fix-refused', 'feed.go');

describe('every path that applies fixes verifies them', () => {
  it('fix-all leaves a document alone when its only fix fails verification', async () => {
    const p = await testParser();
    const file = '/ws/feed/feed.go';
    const outcome = await fixAllText(p, new Map([[file, fs.readFileSync(REFUSED, 'utf8')]]), file, allRules, {}, undefined);
    assert.equal(outcome, undefined);
  });

  it('fixcheck counts offered and refused fixes per directory', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'racelens-fixcheck-'));
    try {
      fs.mkdirSync(path.join(root, 'feed'));
      fs.copyFileSync(REFUSED, path.join(root, 'feed', 'feed.go'));
      fs.mkdirSync(path.join(root, 'svc'));
      fs.writeFileSync(path.join(root, 'svc', 'handler.go'), HANDLER);
      const counts = await fixCheck(root);
      assert.deepEqual({ ...counts, refusals: counts.refusals.length }, {
        packages: 2, findings: 2, preferred: 2, offered: 1, unparsable: 0, ownKept: 0, newFindings: 1, runaway: 0, otherRefusals: 0, notGofmtClean: 0, refusals: 1,
      });
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
