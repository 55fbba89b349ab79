// The README's CLI install route: `npm pack`, then `npm install -g ./racelens-<version>.tgz`, into
// a scratch prefix with no network (the package has no dependencies: everything is bundled).
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { RACY, REPO, tree } from './support/cli';

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'racelens-install-'));
const env = { ...process.env, PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH}`, npm_config_cache: path.join(scratch, 'cache') };

function npm(args: string[], cwd: string) {
  const r = spawnSync('npm', args, { cwd, env, encoding: 'utf8' });
  assert.equal(r.status, 0, `npm ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

describe('installing the CLI from npm pack', () => {
  after(() => fs.rmSync(scratch, { recursive: true, force: true }));

  it('npm pack holds the CLI, its grammars and docs, and nothing of the repository besides', () => {
    const [packed] = JSON.parse(npm(['pack', '--dry-run', '--json'], REPO)) as { files: { path: string }[] }[];
    const files = packed.files.map((f) => f.path);
    for (const f of ['dist/cli.js', 'grammars/tree-sitter-go.wasm', 'grammars/web-tree-sitter.wasm', 'README.md', 'CHANGELOG.md', 'docs/cli.md', 'package.json']) assert.ok(files.includes(f), f);
    assert.deepEqual(files.filter((f) => /^(test|examples|server|client|scripts|node_modules)\//.test(f)), []);
    const pkg = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8'));
    assert.equal(pkg.dependencies, undefined, 'dist/cli.js is bundled: installing it needs nothing from the registry');
  });

  it('installs into a scratch prefix offline, and the installed racelens checks a tree', () => {
    const [packed] = JSON.parse(npm(['pack', '--json', '--pack-destination', scratch], REPO)) as { filename: string; version: string }[];
    const prefix = path.join(scratch, 'prefix');
    npm(['install', '-g', '--offline', '--no-audit', '--no-fund', '--prefix', prefix, path.join(scratch, packed.filename)], scratch);
    const bin = path.join(prefix, 'bin', 'racelens');
    const version = spawnSync(bin, ['--version'], { env, encoding: 'utf8' });
    assert.equal(version.stdout, `racelens ${packed.version}\n`, version.stderr);
    const r = spawnSync(bin, ['check', './...'], { cwd: tree({ 'svc/a.go': RACY }), env, encoding: 'utf8' });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stdout, /^svc\/a\.go:9:2: warning: \[manual-gc\]/);
  });
});
