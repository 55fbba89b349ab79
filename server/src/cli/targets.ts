// What `racelens check` arguments name, as the go tool reads them: `dir/...` a tree, `dir` one
// directory's package, `file.go` one file checked in its package's context.
import * as fs from 'fs';
import * as path from 'path';
import type { Batch, FileError } from '../node/check';
import { goFilesIn } from '../node/files';

export interface Targets {
  /** One batch per directory: its files to analyse, and which of them to report on. */
  batches: Batch[];
  /** Every file whose findings are reported. */
  reported: Set<string>;
  /** Files named one by one: any notice about them means they could not be checked (exit 2). */
  named: Set<string>;
  /** Arguments that name nothing racelens can check. */
  errors: FileError[];
  /** Notices that are not failures: files excluded by the configuration, patterns matching nothing. */
  notices: FileError[];
}

/** `excluded` says whether .racelens.json excludes an absolute path. */
export function resolveTargets(args: readonly string[], cwd: string, excluded: (file: string) => boolean): Targets {
  const out: Targets = { batches: [], reported: new Set(), named: new Set(), errors: [], notices: [] };
  /** Per directory: its files for context, and the reported ones ('all' for every file). */
  const dirs = new Map<string, { files: Set<string>; only: Set<string> | 'all'; listed: boolean }>();
  const dirEntry = (dir: string) => {
    let e = dirs.get(dir);
    if (!e) dirs.set(dir, (e = { files: new Set(), only: new Set(), listed: false }));
    return e;
  };
  const reportAll = (files: readonly string[]) => {
    for (const f of files) {
      if (excluded(f)) continue;
      const entry = dirEntry(path.dirname(f));
      entry.files.add(f);
      entry.only = 'all';
    }
  };
  /** A named file's package is the rest of its directory. */
  const withContext = (dir: string) => {
    const entry = dirEntry(dir);
    if (!entry.listed) {
      entry.listed = true;
      for (const f of goFilesIn(dir, false).files) if (!excluded(f)) entry.files.add(f);
    }
    return entry;
  };
  for (const arg of args.length ? args : ['./...']) {
    if (!arg.trim()) {
      out.errors.push({ path: JSON.stringify(arg), kind: 'error', message: 'an empty path names nothing (the current directory is ".")' });
      continue;
    }
    const recursive = arg === '...' || arg.endsWith('/...');
    const target = path.resolve(cwd, recursive ? arg.slice(0, -3) || '.' : arg);
    let stat: fs.Stats;
    try {
      stat = fs.statSync(target);
    } catch (e) {
      out.errors.push({ path: arg, kind: 'error', message: (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (e as Error).message });
      continue;
    }
    if (recursive && !stat.isDirectory()) {
      out.errors.push({ path: arg, kind: 'error', message: 'not a directory ("/..." walks a directory tree)' });
    } else if (stat.isDirectory()) {
      const walked = goFilesIn(target, recursive);
      out.errors.push(...walked.errors.map((e): FileError => ({ ...e, kind: 'error' })));
      if (walked.files.length) reportAll(walked.files);
      else if (recursive) out.notices.push({ path: arg, kind: 'skipped', message: 'matched no .go files' });
      else out.errors.push({ path: arg, kind: 'error', message: `no .go files in this directory${fs.readdirSync(target).some((n) => isDir(target, n)) ? ` (check the tree with ${arg.replace(/\/$/, '')}/...)` : ''}` });
    } else if (!target.endsWith('.go')) {
      out.errors.push({ path: arg, kind: 'error', message: 'not a .go file' });
    } else if (excluded(target)) {
      out.notices.push({ path: arg, kind: 'skipped', message: 'skipped: excluded by .racelens.json' });
    } else {
      const entry = withContext(path.dirname(target));
      entry.files.add(target);
      out.named.add(target);
      if (entry.only !== 'all') entry.only.add(target);
    }
  }
  for (const { files, only } of dirs.values()) {
    const list = [...files].sort();
    out.batches.push(only === 'all' ? { files: list } : { files: list, only: [...only].sort() });
    for (const f of only === 'all' ? list : only) out.reported.add(f);
  }
  out.batches.sort((a, b) => b.files.length - a.files.length); // largest first, for the workers
  return out;
}

function isDir(dir: string, name: string): boolean {
  try {
    return fs.statSync(path.join(dir, name)).isDirectory();
  } catch {
    return false;
  }
}
