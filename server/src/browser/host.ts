// The language server's host in a browser web worker (vscode.dev, github.dev): documents and
// their sibling files are read through the client (protocol.ts), the grammars are fetched from
// the extension's URI, and paths are the URIs themselves.
import type { Connection } from 'vscode-languageserver';
import { CONFIG_FILE, parseConfig, type LoadedConfig } from '../engine/config';
import { initGo } from '../engine/parser';
import type { FileStamp, ServerHost } from '../lsp/host';
import { skipReason } from '../engine/limits';
import { goDirective, skipsDir } from '../engine/go-tree';
import { FIND_GO_FILES, GRAMMAR_FILES, READ_DIRECTORY, READ_FILE, STAT, type BrowserInitOptions } from '../protocol';

const NOT_IN_WORKSPACE = /^(untitled|git|vscode-scm|vscode-notebook-cell|output):/;

function fromBase64(text: string): Uint8Array {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

/** The directory of a URI; undefined at the root of its authority. */
function parentOf(uri: string): string | undefined {
  const i = uri.lastIndexOf('/');
  const pathStart = uri.indexOf('/', uri.indexOf('//') + 2);
  return i <= pathStart ? undefined : uri.slice(0, i);
}

/** Whether a file under a workspace folder sits in a folder the go tool ignores. */
function inSkippedDir(folderUri: string, fileUri: string): boolean {
  const segments = fileUri.slice(folderUri.length).split('/').filter(Boolean).slice(0, -1).map(decodeURIComponent);
  return segments.some(skipsDir);
}

export function browserHost(connection: Connection): ServerHost {
  const stat = (uri: string) => connection.sendRequest<FileStamp | null>(STAT, { uri }).then((s) => s ?? undefined);
  const read = (uri: string) => connection.sendRequest<string | null>(READ_FILE, { uri }).then((t) => t ?? undefined);
  /** The nearest `name` at or above `dir`: its directory and text. */
  const nearest = async (dir: string, name: string): Promise<{ dir: string; text: string } | undefined> => {
    for (let d: string | undefined = dir; d; d = parentOf(d)) {
      const text = await read(`${d}/${name}`).catch(() => undefined);
      if (text !== undefined) return { dir: d, text };
    }
    return undefined;
  };
  const versions = new Map<string, Promise<string | undefined>>();
  const configs = new Map<string, Promise<LoadedConfig>>();

  return {
    runsIn: 'a web worker',
    initGo: async (options) => {
      const { grammarsUri: base, grammars } = (options ?? {}) as BrowserInitOptions;
      if (grammars) return initGo({ locateRuntime: (name) => name, runtime: fromBase64(grammars.runtime), goGrammar: fromBase64(grammars.go) });
      if (!base) throw new Error('racelens: the client sent neither initializationOptions.grammarsUri nor the grammars');
      return initGo({ locateRuntime: (name) => `${base}/${name}`, goGrammar: `${base}/${GRAMMAR_FILES.go}` });
    },
    toPath: (uri) => uri,
    toUri: (p) => p,
    // Untitled buffers, git diff sides and notebook cells have no directory of siblings.
    inWorkspace: (uri) => !NOT_IN_WORKSPACE.test(uri),
    dirname: (p) => parentOf(p) ?? p,
    relative: (root, p) => (p.startsWith(`${root}/`) ? decodeURIComponent(p.slice(root.length + 1)) : undefined),
    goFilesIn: async (dir) => {
      const entries = await connection.sendRequest<[string, number][] | null>(READ_DIRECTORY, { uri: dir }).catch(() => null);
      return (entries ?? []).filter(([uri, type]) => uri.endsWith('.go') && (type & 1) !== 0).map(([uri]) => uri);
    },
    goFilesUnder: async (folderUri) => {
      const files = await connection.sendRequest<string[]>(FIND_GO_FILES, { uri: folderUri });
      return files.filter((f) => !inSkippedDir(folderUri, f));
    },
    stat,
    readGoFile: async (uri) => {
      const text = await read(uri);
      if (text === undefined) return { skipped: 'no such file' };
      const binary = skipReason(text.length, text.includes('\0'));
      return binary ? { skipped: binary } : { text };
    },
    goVersionFor: (dir) => {
      let v = versions.get(dir);
      if (!v) {
        v = nearest(dir, 'go.mod').then((m) => (m ? goDirective(m.text) : undefined));
        versions.set(dir, v);
      }
      return v;
    },
    loadConfig: (dir) => {
      let c = configs.get(dir);
      if (!c) {
        c = nearest(dir, CONFIG_FILE).then((f) => (f ? { config: parseConfig(f.text, `${f.dir}/${CONFIG_FILE}`), root: f.dir, file: `${f.dir}/${CONFIG_FILE}` } : { config: {}, root: dir }));
        configs.set(dir, c);
      }
      return c;
    },
    forgetCaches: () => {
      versions.clear();
      configs.clear();
    },
  };
}
