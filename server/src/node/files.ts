// Finding Go files on disk the way the go tool sees a tree, and reading go.mod versions.
import * as fs from 'fs';
import * as path from 'path';
import { goDirective, skipsDir } from '../engine/go-tree';

export interface WalkResult { files: string[]; errors: { path: string; message: string }[] }

/** The .go files in `dir`, and in its subdirectories when `recursive`, as the go tool sees a tree. */
export function goFilesIn(dir: string, recursive: boolean): WalkResult {
  const out: WalkResult = { files: [], errors: [] };
  walk(dir, dir, recursive, (f) => out.files.push(f), out.errors);
  return out;
}

function walk(root: string, dir: string, recursive: boolean, add: (f: string) => void, errors: WalkResult['errors']): void {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch (e) {
    errors.push({ path: dir, message: (e as Error).message });
    return;
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : 1));
  for (const e of entries) {
    const full = path.join(dir, e.name);
    let isDir = e.isDirectory();
    let isFile = e.isFile();
    if (e.isSymbolicLink()) {
      // Follow a link only while it stays inside the tree being checked.
      try {
        const real = fs.realpathSync(full);
        if (!(real + path.sep).startsWith(fs.realpathSync(root) + path.sep)) continue;
        const st = fs.statSync(real);
        isDir = st.isDirectory() && !(fs.realpathSync(dir) + path.sep).startsWith(real + path.sep);
        isFile = st.isFile();
      } catch {
        continue;
      }
    }
    if (isDir) {
      if (recursive && !skipsDir(e.name)) walk(root, full, true, add, errors);
    } else if (isFile && e.name.endsWith('.go')) {
      add(full);
    }
  }
}

const goModCache = new Map<string, string | undefined>();

/** The `go` directive of the nearest go.mod at or above `dir`. */
export function goVersionFor(dir: string): string | undefined {
  if (goModCache.has(dir)) return goModCache.get(dir);
  let version: string | undefined;
  try {
    const mod = fs.readFileSync(path.join(dir, 'go.mod'), 'utf8');
    version = goDirective(mod);
  } catch {
    const parent = path.dirname(dir);
    version = parent === dir ? undefined : goVersionFor(parent);
  }
  goModCache.set(dir, version);
  return version;
}

export function clearGoModCache(): void { goModCache.clear(); }
