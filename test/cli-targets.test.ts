// CLI: what arguments name (./..., ./dir, file.go), exit codes and notices for what could not be
// checked, the summary line, and --fix on files that do not parse.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { CLEAN, RACY, REPO, run, tree } from './support/cli';

const GC_LINE = /\[manual-gc\]/;
const BROKEN = 'package svc\n\nimport "runtime"\n\nfunc f() {\n\truntime.GC()\n\tif {\n}\n';

describe('racelens check: what the arguments name', () => {
  it('./dir checks that directory\'s package only; ./dir/... the tree', () => {
    const dir = tree({ 'svc/a.go': RACY, 'svc/sub/b.go': RACY });
    const one = run(['check', './svc'], dir);
    assert.equal(one.code, 1);
    assert.deepEqual(one.stdout.match(/^\S+?:/gm), ['svc/a.go:']);
    const all = run(['check', './svc/...'], dir);
    assert.deepEqual(all.stdout.match(/^\S+?:/gm), ['svc/a.go:', 'svc/sub/b.go:']);
  });

  it('a single file is checked in its package: config.go reports what ./examples/... reports for it', () => {
    const whole = run(['check', './examples/...'], REPO);
    const configLines = whole.stdout.split('\n').filter((l) => l.startsWith('examples/orderservice/config.go:'));
    assert.ok(configLines.some((l) => l.startsWith('examples/orderservice/config.go:47:') && l.includes('[shared-var-swap]')), whole.stdout);
    const single = run(['check', 'examples/orderservice/config.go'], REPO);
    assert.equal(single.code, 1, single.stderr);
    assert.deepEqual(single.stdout.split('\n').filter(Boolean), configLines);
    assert.match(single.stderr, /in 1 file, 1 package/);
  });

  it('two files named in one directory share one analysis and report only themselves', () => {
    const dir = tree({ 'svc/a.go': RACY, 'svc/b.go': RACY.replace('func handle', 'func handle2'), 'svc/c.go': RACY.replace('func handle', 'func handle3') });
    const r = run(['check', 'svc/a.go', 'svc/c.go'], dir);
    assert.deepEqual(r.stdout.match(/^\S+?:/gm), ['svc/a.go:', 'svc/c.go:']);
    assert.match(r.stderr, /in 2 files, 1 package/);
  });

  it('exits 2 for named paths that cannot be checked, and says why', () => {
    const big = `package svc\n\nvar table = "${'x'.repeat(10 * 1024 * 1024)}"\n`;
    const dir = tree({
      'svc/a.go': RACY, 'big/big.go': big, 'bin/junk.go': Buffer.from([0, 1, 2, 3]), 'notes.txt': 'hi', 'go.mod': 'module m\n\ngo 1.22\n',
      'empty/sub/a.go': CLEAN,
    });
    const cases: [string, RegExp][] = [
      ['big/big.go', /big\/big\.go: skipped: 10\.0 MB is over the 5 MB limit/],
      ['bin/junk.go', /bin\/junk\.go: skipped: binary file/],
      ['notes.txt', /notes\.txt: not a \.go file/],
      ['go.mod', /go\.mod: not a \.go file/],
      ['./empty', /\.\/empty: no \.go files in this directory \(check the tree with \.\/empty\/\.\.\.\)/],
      ['./missing', /missing: no such file or directory/],
      ['', /"": an empty path names nothing/],
      ['svc/a.go/...', /svc\/a\.go\/\.\.\.: not a directory/],
    ];
    for (const [arg, why] of cases) {
      const r = run(['check', arg, './svc'], dir);
      assert.equal(r.code, 2, `${arg}: ${r.stderr}`);
      assert.match(r.stderr, why);
      assert.match(r.stdout, GC_LINE, 'the other paths are still checked');
    }
  });

  it('files skipped on a walk are listed and counted, but do not fail the run', () => {
    const dir = tree({ 'svc/a.go': RACY, 'svc/junk.go': Buffer.from([0, 1, 2]), 'svc/nopkg.go': 'func f() {}\n' });
    const r = run(['check', './...'], dir);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /svc\/junk\.go: skipped: binary file/);
    assert.match(r.stderr, /svc\/nopkg\.go: skipped: no package clause/);
    assert.match(r.stderr, /^racelens: 1 finding \(1 warning\) in 2 files, 1 package; 2 files skipped \(\d+\.\d\ds\)$/m);
  });

  it('lists files with syntax errors at the first error and counts them', () => {
    const dir = tree({ 'svc/a.go': BROKEN });
    const r = run(['check', './...'], dir);
    assert.match(r.stderr, /^racelens: svc\/a\.go:7:\d+: syntax error; checked in part/m);
    assert.match(r.stderr, /1 file with syntax errors/);
    assert.match(r.stdout, GC_LINE, 'the parts that parse are still checked');
  });

  it('--fix never edits a file that does not parse, and still fixes the others', () => {
    const dir = tree({ 'svc/a.go': BROKEN, 'svc/b.go': RACY });
    const r = run(['check', '--fix', './...'], dir);
    assert.equal(fs.readFileSync(path.join(dir, 'svc/a.go'), 'utf8'), BROKEN);
    assert.doesNotMatch(fs.readFileSync(path.join(dir, 'svc/b.go'), 'utf8'), /runtime\.GC/);
    assert.match(r.stderr, /fixed 1 finding in 1 file/);
    assert.match(r.stdout, /^svc\/a\.go:6:2: warning: \[manual-gc\]/m);
  });

  it('--fix edits only the files named, not the rest of their package', () => {
    const dir = tree({ 'svc/a.go': RACY, 'svc/b.go': RACY.replace('func handle', 'func handle2') });
    run(['check', '--fix', 'svc/a.go'], dir);
    assert.doesNotMatch(fs.readFileSync(path.join(dir, 'svc/a.go'), 'utf8'), /runtime\.GC/);
    assert.match(fs.readFileSync(path.join(dir, 'svc/b.go'), 'utf8'), /runtime\.GC/);
  });

  it('a clean run says so on stderr; --quiet drops the summary', () => {
    const dir = tree({ 'a.go': CLEAN, 'b/b.go': CLEAN });
    const r = run(['check', './...'], dir);
    assert.equal(r.code, 0);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^racelens: no findings in 2 files, 2 packages \(\d+\.\d\ds\)\n$/);
    const quiet = run(['check', '-q', './...'], dir);
    assert.equal(quiet.stderr, '');
  });

  it('the summary counts findings by severity', () => {
    const src = 'package svc\n\nimport (\n\t"runtime"\n\t"runtime/debug"\n)\n\nfunc f() {\n\tdebug.SetGCPercent(-1)\n\truntime.GC()\n}\n';
    const r = run(['check', './...'], tree({ 'a.go': src }));
    assert.match(r.stderr, /^racelens: 2 findings \(1 error, 1 warning\) in 1 file, 1 package/m);
  });

  it('./... in a tree without Go files is a notice, not a failure', () => {
    const r = run(['check', './...'], tree({ 'README.md': 'hi' }));
    assert.equal(r.code, 0);
    assert.match(r.stderr, /\.\/\.\.\.: matched no \.go files/);
  });
});
