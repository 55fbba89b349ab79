// Helpers shared by the end-to-end drivers (run.mjs, api/run-electron.mjs): staging a freshly built
// extension under .cache/e2e/ (never the repo's shared dist/ or grammars/), copying the fixture
// workspace, and the Go checks of the fixed workspace.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CACHE = join(ROOT, '.cache', 'e2e');
export const TOOLS = join(CACHE, 'tools');
export const FIXTURE = join(ROOT, 'test', 'e2e', 'workspace');

/** What the extension package holds besides the build output (see .vscodeignore). */
const PACKAGE_FILES = ['package.json', 'README.md', 'CHANGELOG.md', 'LICENSE', '.vscodeignore', 'images', 'schemas', 'docs'];

/**
 * Builds client/server/cli with scripts/build.mjs --outdir into `stage` and copies the manifest and
 * assets beside them: `stage` is then an extension folder (usable as extensionDevelopmentPath).
 * With `vsix`, also packages it with vsce (offline, --no-dependencies) and returns the .vsix path.
 * With `webOnly`, the manifest loses "main" so that VS Code runs the web extension.
 */
export function stageExtension(stage, { vsix = false, production = true, webOnly = false } = {}) {
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(stage, { recursive: true });
  for (const f of PACKAGE_FILES) cpSync(join(ROOT, f), join(stage, f), { recursive: true });
  if (webOnly) {
    // Without "main", VS Code can only run the "browser" entry: in its web worker extension host.
    const manifest = JSON.parse(readFileSync(join(stage, 'package.json'), 'utf8'));
    delete manifest.main;
    writeFileSync(join(stage, 'package.json'), JSON.stringify(manifest, null, 2));
  }
  const args = [join(ROOT, 'scripts', 'build.mjs'), '--outdir', stage];
  if (production) args.push('--production');
  execFileSync(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
  for (const f of ['dist/client.js', 'dist/server.js', 'dist/cli.js', 'dist/browser/client.js', 'dist/browser/server.js', 'grammars/tree-sitter-go.wasm', 'grammars/web-tree-sitter.wasm']) {
    if (!existsSync(join(stage, f))) throw new Error(`build did not produce ${f} in ${stage}`);
  }
  if (!vsix) return undefined;
  const out = join(stage, 'racelens.vsix');
  execFileSync(process.execPath, [join(ROOT, 'node_modules', '@vscode', 'vsce', 'vsce'), 'package', '--no-dependencies', '--readme-path', 'docs/marketplace.md', '--out', out], {
    cwd: stage, stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (!existsSync(out)) throw new Error('vsce produced no .vsix');
  return out;
}

export function copyWorkspace(dest) {
  rmSync(dest, { recursive: true, force: true });
  cpSync(FIXTURE, dest, { recursive: true });
  return dest;
}

/** Go environment kept inside .cache/e2e: offline, no writes to the real home. */
export function goEnv() {
  return {
    ...process.env,
    GOFLAGS: '-mod=mod', GOPROXY: 'off', GOTOOLCHAIN: 'local', GOTELEMETRY: 'off',
    GOCACHE: join(CACHE, 'go', 'cache'), GOPATH: join(CACHE, 'go', 'path'), GOMODCACHE: join(CACHE, 'go', 'path', 'pkg', 'mod'),
  };
}

/** gofmt -l and go vet ./... on a workspace; throws with their output when either complains. */
export function goChecks(ws) {
  const fmt = spawnSync('gofmt', ['-l', '.'], { cwd: ws, env: goEnv(), encoding: 'utf8' });
  if (fmt.status !== 0 || fmt.stdout.trim()) throw new Error(`gofmt -l is not clean: ${fmt.stdout}${fmt.stderr}`);
  const vet = spawnSync('go', ['vet', './...'], { cwd: ws, env: goEnv(), encoding: 'utf8' });
  if (vet.status !== 0) throw new Error(`go vet ./... failed:\n${vet.stdout}${vet.stderr}`);
}

/** 1-based line and column of the first line of `file` whose text contains `needle`. */
export function locate(file, needle) {
  const lines = readFileSync(file, 'utf8').split('\n');
  const i = lines.findIndex((l) => l.includes(needle));
  if (i < 0) throw new Error(`"${needle}" not found in ${file}`);
  if (lines.findIndex((l, j) => j > i && l.includes(needle)) >= 0) throw new Error(`"${needle}" is not unique in ${file}`);
  return { line: i + 1, column: lines[i].search(/\S/) + 1, text: lines[i] };
}
