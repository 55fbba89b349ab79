// The language server's host in Node: files on disk, go.mod and .racelens.json read with fs, and
// closed directories analysed on worker threads (this same bundle, started again as a worker).
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { fileURLToPath, pathToFileURL } from 'url';
import type { ServerHost } from '../lsp/host';
import { readGoFile } from './check';
import { checkInWorkers } from './check-pool';
import { loadConfig, relativeToRoot } from './config';
import { clearGoModCache, goFilesIn, goVersionFor } from './files';
import { initGoForNode } from './grammar';

export function nodeHost(entry: string): ServerHost {
  return {
    runsIn: `Node ${process.version}`,
    initGo: () => initGoForNode(),
    toPath: (uri) => (uri.startsWith('file:') ? fileURLToPath(uri) : uri),
    toUri: (p) => (path.isAbsolute(p) ? pathToFileURL(p).href : p),
    inWorkspace: (uri) => uri.startsWith('file:'),
    dirname: path.dirname,
    relative: (root, p) => {
      if (!path.isAbsolute(p)) return undefined;
      const rel = relativeToRoot(root, p);
      return rel.startsWith('../') ? undefined : rel;
    },
    goFilesIn: async (dir) => {
      try {
        return fs.readdirSync(dir).filter((n) => n.endsWith('.go')).map((n) => path.join(dir, n));
      } catch {
        return [];
      }
    },
    goFilesUnder: async (folderUri) => (folderUri.startsWith('file:') ? goFilesIn(fileURLToPath(folderUri), true).files : []),
    stat: async (p) => {
      try {
        const st = fs.statSync(p);
        return { mtime: st.mtimeMs, size: st.size };
      } catch {
        return undefined;
      }
    },
    readGoFile: async (p) => {
      const r = readGoFile(p);
      return { text: r.text, skipped: r.text === undefined ? r.error ?? 'unreadable' : undefined };
    },
    goVersionFor: async (dir) => goVersionFor(dir),
    loadConfig: async (dir) => loadConfig(dir),
    forgetCaches: clearGoModCache,
    analyzeClosedDirs: async (dirs, ruleIds, onResult) => {
      // One core stays with the server, so typing is answered while the workspace is checked.
      const jobs = Math.max(1, (os.availableParallelism?.() ?? os.cpus().length) - 1);
      const batches = [...dirs.values()].map((files) => ({ files: [...files] })).sort((a, b) => b.files.length - a.files.length);
      await checkInWorkers(batches, { entry, jobs, ruleIds }, (batch, r) => {
        onResult({ dir: path.dirname(batch.files[0]), paths: batch.files, findings: r.findings, errors: r.errors.filter((e) => e.kind === 'error').map((e) => `${e.path}: ${e.message}`) });
      });
    },
  };
}
