// Runs the built CLI (dist/cli.js) in a scratch tree, for the CLI tests.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const CLI = path.join(__dirname, '..', '..', '..', 'dist', 'cli.js');
export const REPO = path.join(__dirname, '..', '..', '..');

export function run(args: string[], cwd: string) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const made: string[] = [];
process.on('exit', () => { for (const d of made) fs.rmSync(d, { recursive: true, force: true }); });

/** A fresh directory holding `files` (path → text or bytes), removed when the test process ends. */
export function tree(files: Record<string, string | Buffer>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'racelens-cli-'));
  made.push(dir);
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

/** A handler calling runtime.GC(): one manual-gc finding at line 9, column 2, with a fix. */
export const RACY = 'package svc\n\nimport (\n\t"net/http"\n\t"runtime"\n)\n\nfunc handle(w http.ResponseWriter, r *http.Request) {\n\truntime.GC()\n}\n';
export const CLEAN = 'package svc\n\nimport "runtime"\n\nfunc cores() int { return runtime.GOMAXPROCS(0) }\n';
