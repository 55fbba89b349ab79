// GoWorkspace over a host whose reads take time, as the web worker's do (each is a round trip to
// the client): edits, closes and watched-file events that land while an analysis waits.
import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FileStamp, ReadFile, ServerHost } from '../server/src/lsp/host';
import { GoWorkspace } from '../server/src/lsp/workspace';
import { concurrentMapAccess } from '../server/src/rules/shared-state/concurrent-map-access';
import { testParser } from './support/engine';

const DIR = 'mem://ws/api';
const STORE = 'package api\n\nvar hits = make(map[string]int)\n';
const SERVER = 'package api\n\nimport "net/http"\n\nfunc count(w http.ResponseWriter, r *http.Request) {\n\thits[r.URL.Path]++\n}\n\nfunc main() { http.HandleFunc("/count", count) }\n';

/** An in-memory host whose every answer takes `ms` (per path), and which counts listings. */
function slowHost(files: Map<string, string>, ms: (p: string) => number = () => 5): ServerHost & { listings: number } {
  const later = <T>(v: T, p = '') => new Promise<T>((r) => setTimeout(() => r(v), ms(p)));
  const host = {
    listings: 0,
    runsIn: 'a test',
    initGo: async () => undefined,
    toPath: (uri: string) => uri,
    toUri: (p: string) => p,
    inWorkspace: () => true,
    dirname: (p: string) => p.slice(0, p.lastIndexOf('/')),
    relative: () => undefined,
    goFilesIn: (dir: string) => { host.listings++; return later([...files.keys()].filter((p) => p.startsWith(`${dir}/`))); },
    goFilesUnder: async () => [...files.keys()],
    stat: (p: string) => later<FileStamp | undefined>(files.has(p) ? { mtime: files.get(p)!.length, size: files.get(p)!.length } : undefined, p),
    readGoFile: (p: string) => later<ReadFile>(files.has(p) ? { text: files.get(p) } : { skipped: 'no such file' }, p),
    goVersionFor: () => later('1.21'),
    loadConfig: async (dir: string) => ({ config: {}, root: dir }),
    forgetCaches: () => undefined,
  };
  return host;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('workspace over a slow host (the web worker)', () => {
  it('a sibling changed on disk while an analysis waits is read again, not used freed', async () => {
    const files = new Map([[`${DIR}/store.go`, STORE], [`${DIR}/server.go`, SERVER], [`${DIR}/slow.go`, 'package api\n']]);
    const ws = new GoWorkspace(await testParser(), slowHost(files, (p) => (p.endsWith('slow.go') ? 60 : 5)));
    try {
      ws.openDocument(`${DIR}/server.go`, 1, SERVER);
      assert.equal((await ws.analyzeDir(DIR, [concurrentMapAccess]))!.findings.length, 1);
      const pending = ws.analyzeDir(DIR, [concurrentMapAccess]);
      await sleep(30); // store.go's cached entry is in hand; slow.go is still being read
      files.set(`${DIR}/store.go`, `${STORE}// changed\n`);
      ws.invalidateDisk(`${DIR}/store.go`); // the watcher frees the cached tree meanwhile
      const result = (await pending)!;
      assert.equal(result.findings.length, 1);
      assert.ok(result.files.some((f) => f.path.endsWith('store.go')), 'store.go is part of the package');
    } finally {
      ws.dispose();
    }
  });

  it('a document closed while an analysis waits is read from disk, so its package stays whole', async () => {
    const files = new Map([[`${DIR}/store.go`, STORE], [`${DIR}/server.go`, SERVER]]);
    const ws = new GoWorkspace(await testParser(), slowHost(files));
    try {
      ws.openDocument(`${DIR}/server.go`, 1, SERVER);
      ws.openDocument(`${DIR}/store.go`, 1, STORE);
      const pending = ws.analyzeDir(DIR, [concurrentMapAccess]);
      await sleep(7); // listed, still asking for the go version
      ws.closeDocument(`${DIR}/store.go`);
      const result = (await pending)!;
      assert.deepEqual(result.files.map((f) => f.path).sort(), [`${DIR}/server.go`, `${DIR}/store.go`]);
      assert.equal(result.findings.length, 1, 'the map declared in the closed file is still known');
    } finally {
      ws.dispose();
    }
  });

  it('per-keystroke analyses reuse the listing and the siblings of the last full one', async () => {
    const files = new Map([[`${DIR}/store.go`, STORE], [`${DIR}/server.go`, SERVER]]);
    const host = slowHost(files);
    const ws = new GoWorkspace(await testParser(), host);
    try {
      ws.openDocument(`${DIR}/server.go`, 1, SERVER);
      await ws.analyzeDir(DIR, [concurrentMapAccess]);
      const before = host.listings;
      for (let v = 2; v < 6; v++) {
        ws.changeDocument(`${DIR}/server.go`, v, [{ range: { start: { line: 6, character: 0 }, end: { line: 6, character: 0 } }, text: '\n' }]);
        await ws.analyzeDir(DIR, [], { only: new Set([`${DIR}/server.go`]) });
      }
      assert.equal(host.listings, before, 'no directory listing per keystroke');
      ws.invalidateDisk(`${DIR}/store.go`);
      await ws.analyzeDir(DIR, [], { only: new Set([`${DIR}/server.go`]) });
      assert.equal(host.listings, before + 1, 'a watched-file event makes the next analysis list again');
    } finally {
      ws.dispose();
    }
  });
});
