// CLI output: byte columns as go vet counts them, JSON/SARIF/GitHub formats, an order that does
// not depend on --jobs, help texts, --diff's unfixed findings, a reader that leaves early.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { allRules } from '../server/src/rules';
import { CLI, RACY, run, tree } from './support/cli';

// "日本語" is 3 UTF-16 code units and 9 bytes: runtime.GC() starts at UTF-16 column 13, byte column 19.
const CJK = 'package svc\n\nimport (\n\t"net/http"\n\t"runtime"\n)\n\nfunc handle(w http.ResponseWriter, r *http.Request) {\n\t_ = "日本語"; runtime.GC()\n}\n';

interface JsonEdit { path: string; start: number; end: number; startUtf16: number; endUtf16: number; newText: string }
interface JsonFinding { line: number; column: number; columnUtf16: number; endColumn: number; endColumnUtf16: number; fixes: { edits: JsonEdit[] }[] }

describe('racelens check output', () => {
  it('text output counts columns in bytes, like go vet', () => {
    const r = run(['check', './...'], tree({ 'a.go': CJK }));
    assert.match(r.stdout, /^a\.go:9:19: warning: \[manual-gc\]/);
  });

  it('json carries byte and UTF-16 columns, and edits in both units', () => {
    const r = run(['check', '--format', 'json', './...'], tree({ 'a.go': CJK }));
    const [f] = JSON.parse(r.stdout) as JsonFinding[];
    assert.deepEqual([f.line, f.column, f.columnUtf16, f.endColumn, f.endColumnUtf16], [9, 19, 13, 31, 25]);
    const bytes = Buffer.from(CJK);
    const edits = f.fixes.flatMap((x) => x.edits);
    assert.ok(edits.length > 0);
    for (const e of edits) {
      assert.equal(bytes.subarray(e.start, e.end).toString(), CJK.slice(e.startUtf16, e.endUtf16));
      assert.ok(e.start > e.startUtf16 || e.startUtf16 < CJK.indexOf('日'), 'offsets after the CJK text differ by unit');
    }
  });

  it('sarif says its columns are UTF-16 code units and uses them', () => {
    const log = JSON.parse(run(['check', '--format', 'sarif', './...'], tree({ 'a.go': CJK })).stdout);
    assert.equal(log.runs[0].columnKind, 'utf16CodeUnits');
    assert.equal(log.runs[0].results[0].locations[0].physicalLocation.region.startColumn, 13);
  });

  it('--format github prints workflow-command annotations', () => {
    const r = run(['check', '--format', 'github', './...'], tree({ 'svc/a.go': RACY }));
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '::warning file=svc/a.go,line=9,col=2,endLine=9,endColumn=14,title=racelens manual-gc::runtime.GC() forces a stop-the-world collection; in a request path it stalls every goroutine under load\n');
  });

  it('prints the same output in the same order for --jobs 1 and --jobs 4', () => {
    // b/ has more files, so it is handed out first; the output is still in path order.
    const dir = tree({ 'a/x.go': RACY, 'b/x.go': RACY, 'b/y.go': RACY.replace('func handle', 'func handle2'), 'b/z.go': RACY.replace('func handle', 'func handle3') });
    const one = run(['check', '-q', '--jobs', '1', './...'], dir);
    const four = run(['check', '-q', '--jobs', '4', './...'], dir);
    assert.deepEqual(one.stdout.match(/^\S+?:/gm), ['a/x.go:', 'b/x.go:', 'b/y.go:', 'b/z.go:']);
    assert.equal(four.stdout, one.stdout);
    assert.equal(run(['check', '--format', 'json', '-j', '4', './...'], dir).stdout, run(['check', '--format', 'json', '-j', '1', './...'], dir).stdout);
  });

  it('a reader that stops early (| head -1) ends the run quietly', () => {
    const calls = '\truntime.GC()\n'.repeat(3000);
    const dir = tree({ 'a.go': RACY.replace('\truntime.GC()\n', calls) });
    const r = spawnSync('sh', ['-c', `"${process.execPath}" "${CLI}" check ./... | head -1`], { cwd: dir, encoding: 'utf8' });
    assert.equal(r.stdout.split('\n').filter(Boolean).length, 1);
    assert.doesNotMatch(r.stderr, /EPIPE|Error|\n\s+at /);
  });

  it('--help and -h print each command\'s usage and exit 0', () => {
    const dir = tree({});
    for (const args of [['check', '--help'], ['check', '-h'], ['help', 'check'], ['check', './...', '--help']]) {
      const r = run(args, dir);
      assert.equal(r.code, 0, args.join(' '));
      assert.match(r.stdout, /^usage: racelens check/);
      assert.match(r.stdout, /--format/);
    }
    for (const args of [['rules', '--help'], ['rules', '-h']]) assert.match(run(args, dir).stdout, /^usage: racelens rules/);
    for (const args of [['--help'], ['-h']]) assert.match(run(args, dir).stdout, /^usage: racelens check/m);
    assert.match(run(['--version'], dir).stdout, /^racelens \d+\.\d+\.\d+\n$/);
  });

  it('a usage error in check shows check\'s usage', () => {
    const r = run(['check', '--bogus'], tree({}));
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^racelens: unknown flag --bogus\n\nusage: racelens check/);
  });

  it('--diff names the findings it could not fix', () => {
    const src = 'package svc\n\nimport (\n\t"net/http"\n\t"runtime"\n\t"runtime/debug"\n)\n\nfunc handle(w http.ResponseWriter, r *http.Request) {\n\tdebug.SetGCPercent(-1)\n\truntime.GC()\n}\n';
    const r = run(['check', '--diff', './...'], tree({ 'a.go': src }));
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^-\truntime\.GC\(\)$/m);
    assert.match(r.stderr, /^racelens: 1 finding not fixed .*:\na\.go:9:2: error: \[gc-disabled\]/m, "positions are in the fixed text");
  });

  it('the rules table keeps its columns aligned', () => {
    const lines = run(['rules'], tree({})).stdout.split('\n').filter(Boolean);
    assert.equal(lines.length, allRules.length);
    const severityAt = new Set(lines.map((l, i) => l.indexOf(` ${allRules[i].severity} `) + 1));
    const titleAt = new Set(lines.map((l, i) => l.indexOf(allRules[i].title)));
    assert.equal(severityAt.size, 1, lines.join('\n'));
    assert.equal(titleAt.size, 1, lines.join('\n'));
  });

  it('a mistyped rule id says which one was meant', () => {
    const r = run(['check', '--rules', 'manaul-gc', './...'], tree({}));
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown rule "manaul-gc"; did you mean "manual-gc"\?/);
    const dir = tree({ 'a.go': RACY, '.racelens.json': JSON.stringify({ rules: { 'manaul-gc': 'off' } }) });
    const c = run(['check', './...'], dir);
    assert.equal(c.code, 1, 'the typo did not turn manual-gc off');
    assert.match(c.stderr, /^racelens: \.racelens\.json: unknown rule "manaul-gc"; did you mean "manual-gc"\?$/m);
  });

  it('a mistyped id in a suppression comment is reported, with a suggested rename that --fix leaves alone', () => {
    const src = RACY.replace('\truntime.GC()\n', '\truntime.GC() //racelens:ignore manaul-gc warm-up\n');
    const dir = tree({ 'a.go': src });
    const r = run(['check', './...'], dir);
    assert.match(r.stdout, /^a\.go:9:15: info: \[unused-suppression\] unknown rule manaul-gc; did you mean manual-gc\?/m);
    assert.match(r.stdout, /^a\.go:9:2: warning: \[manual-gc\]/m, 'the typo suppresses nothing');
    const [typo] = (JSON.parse(run(['check', '--format', 'json', './...'], dir).stdout) as { ruleId: string; fixes: { title: string; isPreferred: boolean }[] }[])
      .filter((f) => f.ruleId === 'unused-suppression');
    assert.deepEqual(typo.fixes.map((x) => [x.title, x.isPreferred]), [['Change manaul-gc to manual-gc', false]]);
  });
});
