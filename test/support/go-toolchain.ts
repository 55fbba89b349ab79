// Runs Debian's Go 1.19 (gofmt, go vet) on fixed fixture output. Missing Go is a failure, never a
// silent skip: the project's setup script installs it.
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const cacheDir = path.join(os.tmpdir(), 'racelens-gocache');

export function requireGo(): void {
  const r = spawnSync('go', ['version'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error('Go toolchain not found: run scripts/setup.sh (apt-get install golang-go)');
}

/** Writes the package into a scratch module and returns gofmt -l and go vet problems (empty = clean). */
export function gofmtAndVet(files: ReadonlyMap<string, string>, build = false): string[] {
  requireGo();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'racelens-vet-'));
  try {
    fs.writeFileSync(path.join(dir, 'go.mod'), 'module racelens.test/fixture\n\ngo 1.19\n');
    for (const [file, text] of files) fs.writeFileSync(path.join(dir, path.basename(file)), text);
    const env = { ...process.env, GOCACHE: cacheDir, GOPATH: path.join(cacheDir, 'gopath'), GOFLAGS: '-mod=mod', GOPROXY: 'off', GOTOOLCHAIN: 'local', GO111MODULE: 'on' };
    const problems: string[] = [];
    const unformatted = execFileSync('gofmt', ['-l', '.'], { cwd: dir, encoding: 'utf8' }).trim();
    if (unformatted) problems.push(`gofmt -l: ${unformatted}\n${spawnSync('gofmt', ['-d', '.'], { cwd: dir, encoding: 'utf8' }).stdout}`);
    for (const args of build ? [['vet', './...'], ['build', './...']] : [['vet', './...']]) {
      const r = spawnSync('go', args, { cwd: dir, env, encoding: 'utf8' });
      if (r.status !== 0) problems.push(`go ${args[0]}: ${r.stderr || r.stdout}`);
    }
    return problems;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
