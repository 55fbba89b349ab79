// CLI tests: exit codes, output formats (text, json, SARIF 2.1.0), --fix, --diff, skipped folders.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { allRules } from '../server/src/rules';
import { CLEAN, RACY, run, tree } from './support/cli';

describe('racelens check', () => {
  it('exits 0 and prints nothing on a clean tree', () => {
    const r = run(['check', './...'], tree({ 'a.go': CLEAN }));
    assert.equal(r.code, 0);
    assert.equal(r.stdout, '');
  });

  it('exits 1 and prints path:line:col: severity: [rule-id] message', () => {
    const r = run(['check', './...'], tree({ 'svc/a.go': RACY }));
    assert.equal(r.code, 1);
    assert.equal(r.stdout, 'svc/a.go:9:2: warning: [manual-gc] runtime.GC() forces a stop-the-world collection; in a request path it stalls every goroutine under load\n');
  });

  it('exits 2 on usage errors with a clear message', () => {
    const dir = tree({ 'a.go': CLEAN });
    for (const args of [['check', '--format', 'xml'], ['check', '--bogus'], ['frobnicate'], [], ['check', '--rules', 'nope'], ['check', '--fix', '--diff']]) {
      const r = run(args, dir);
      assert.equal(r.code, 2, args.join(' '));
      assert.match(r.stderr, /racelens: |usage:/);
    }
  });

  it('reports a missing path with exit 2 but still checks the others', () => {
    const dir = tree({ 'svc/a.go': RACY });
    const r = run(['check', 'missing', './...'], dir);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /missing: no such file or directory/);
    assert.match(r.stdout, /\[manual-gc\]/);
  });

  it('skips binary junk with a notice instead of crashing', () => {
    const dir = tree({ 'svc/a.go': RACY, 'svc/junk.go': '\u0000\u0001\u0002 binary' });
    const r = run(['check', './...'], dir);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /junk\.go: skipped: binary file/);
  });

  it('skips vendor/, testdata/ and node_modules/', () => {
    const dir = tree({ 'vendor/v/a.go': RACY, 'testdata/a.go': RACY, 'node_modules/m/a.go': RACY, 'ok.go': CLEAN });
    assert.equal(run(['check', './...'], dir).code, 0);
  });

  it('does not follow symlinks that leave the tree', () => {
    const outside = tree({ 'a.go': RACY });
    const dir = tree({ 'ok.go': CLEAN });
    fs.symlinkSync(outside, path.join(dir, 'escape'));
    assert.equal(run(['check', './...'], dir).code, 0);
  });

  it('gives the same findings on one thread and on several', () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 12; i++) files[`p${i}/a.go`] = RACY;
    const dir = tree(files);
    const one = run(['check', '-j', '1', './...'], dir);
    const many = run(['check', '--jobs=2', './...'], dir);
    assert.equal(one.code, 1);
    assert.equal(one.stdout.split('\n').filter(Boolean).length, 12);
    assert.equal(many.stdout, one.stdout);
  });

  it('--format json lists findings with positions and fixes', () => {
    const r = run(['check', '--format', 'json', './...'], tree({ 'a.go': RACY }));
    const out = JSON.parse(r.stdout);
    assert.equal(out.length, 1);
    assert.deepEqual({ path: out[0].path, line: out[0].line, column: out[0].column, ruleId: out[0].ruleId, severity: out[0].severity },
      { path: 'a.go', line: 9, column: 2, ruleId: 'manual-gc', severity: 'warning' });
    assert.equal(out[0].fixes[0].title, 'Remove runtime.GC()');
  });

  it('--format sarif emits a valid SARIF 2.1.0 log with stable rule ids', () => {
    const r = run(['check', '--format', 'sarif', './...'], tree({ 'a.go': RACY }));
    assert.equal(r.code, 1);
    const log = JSON.parse(r.stdout);
    assert.equal(log.version, '2.1.0');
    assert.match(log.$schema, /sarif-2\.1\.0/);
    assert.equal(log.runs.length, 1);
    const { driver } = log.runs[0].tool;
    assert.equal(driver.name, 'racelens');
    assert.deepEqual(driver.rules.map((x: { id: string }) => x.id), allRules.map((x) => x.id));
    for (const rule of driver.rules) {
      assert.ok(rule.shortDescription.text && rule.fullDescription.text && rule.helpUri);
      assert.ok(['error', 'warning', 'note'].includes(rule.defaultConfiguration.level));
    }
    for (const res of log.runs[0].results) {
      assert.equal(driver.rules[res.ruleIndex].id, res.ruleId);
      assert.ok(['error', 'warning', 'note'].includes(res.level));
      assert.equal(typeof res.message.text, 'string');
      const loc = res.locations[0].physicalLocation;
      assert.equal(loc.artifactLocation.uri, 'a.go');
      assert.ok(loc.region.startLine >= 1 && loc.region.startColumn >= 1 && loc.region.endLine >= loc.region.startLine);
    }
    assert.equal(log.runs[0].results[0].ruleId, 'manual-gc');
  });

  it('--diff prints the fix as a unified diff and leaves files alone', () => {
    const dir = tree({ 'a.go': RACY });
    const r = run(['check', '--diff', './...'], dir);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^--- a\/a\.go\n\+\+\+ b\/a\.go\n@@ /);
    assert.match(r.stdout, /^-\truntime\.GC\(\)$/m);
    assert.match(r.stdout, /^-\t"runtime"$/m);
    assert.equal(fs.readFileSync(path.join(dir, 'a.go'), 'utf8'), RACY);
  });

  it('--fix rewrites files in place; a second run is clean', () => {
    const dir = tree({ 'a.go': RACY.replace('runtime.GC()', 'runtime.GC()\n\truntime.GC()') });
    const r = run(['check', '--fix', './...'], dir);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stderr, /fixed 2 findings in 1 file/);
    const fixed = fs.readFileSync(path.join(dir, 'a.go'), 'utf8');
    assert.equal(fixed, 'package svc\n\nimport (\n\t"net/http"\n)\n\nfunc handle(w http.ResponseWriter, r *http.Request) {\n}\n');
    assert.equal(run(['check', './...'], dir).code, 0);
  });

  it('--fix and --diff skip a fix that fails verification and say why on stderr', () => {
    const feed = fs.readFileSync(path.join(__dirname, '..', '..', 'test', 'fixtures', 'unguarded-access', 'fix-refused', 'feed.go'), 'utf8');
    const dir = tree({ 'feed/feed.go': feed });
    for (const flag of ['--fix', '--diff']) {
      const r = run(['check', flag, './...'], dir);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /not fixed: unguarded-access at feed\/feed\.go:28:12 \("Wrap in mutex: guard version with feed\.mu"\): it would add a finding: blocking-under-lock at feed\.go:18:2/);
      assert.equal(fs.readFileSync(path.join(dir, 'feed', 'feed.go'), 'utf8'), feed);
    }
  });

  it('honours .racelens.json: rules off, severities, excludes', () => {
    const gc = 'package svc\n\nimport "runtime"\n\nfunc f() {\n\truntime.GOMAXPROCS(2)\n\truntime.GC()\n}\n';
    const dir = tree({ 'svc/a.go': gc, 'gen/b.go': gc, 'svc/sub/c.go': gc });
    fs.writeFileSync(path.join(dir, '.racelens.json'), JSON.stringify({ rules: { 'manual-gc': 'off', 'gomaxprocs-hardcoded': 'error' }, exclude: ['gen/**', '**/sub'] }));
    const r = run(['check', '--format', 'json', './...'], path.join(dir, 'svc'));
    const out = JSON.parse(r.stdout);
    assert.deepEqual(out.map((f: { path: string; ruleId: string; severity: string }) => `${f.path} ${f.ruleId} ${f.severity}`), ['a.go gomaxprocs-hardcoded error']);
  });

  it('rejects a malformed .racelens.json with exit 2 and a clear message', () => {
    const dir = tree({ 'a.go': CLEAN, '.racelens.json': '{"rules": {"manual-gc": "loud"}}' });
    const r = run(['check', './...'], dir);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /rule "manual-gc" is set to "loud"; use error, warning, info or off/);
  });

  it('honours suppression comments and reports unused ones', () => {
    const src = 'package svc\n\nimport "runtime"\n\nfunc f() {\n\truntime.GC() //racelens:ignore manual-gc warm-up\n\t//racelens:ignore gc-disabled stale\n\truntime.GC()\n}\n';
    const r = run(['check', './...'], tree({ 'a.go': src }));
    assert.equal(r.stdout, 'a.go:7:2: info: [unused-suppression] this suppression of gc-disabled matches no finding; remove it\na.go:8:2: warning: [manual-gc] runtime.GC() forces a stop-the-world collection; in a request path it stalls every goroutine under load\n');
  });

  it('prints the version and the rule list', () => {
    assert.match(run(['--version'], os.tmpdir()).stdout, /^racelens \d+\.\d+\.\d+/);
    const rules = run(['rules'], os.tmpdir()).stdout;
    for (const r of allRules) assert.match(rules, new RegExp(`^${r.id}\\s`, 'm'));
  });
});
