// The web extension (vscode.dev, github.dev): the language server runs in a web worker and reads
// the workspace through this client, which answers its requests with vscode.workspace.fs.
import * as vscode from 'vscode';
import { LanguageClient } from 'vscode-languageclient/browser';
import { SKIPPED_DIRS_GLOB, skipsDir } from '../../server/src/engine/go-tree';
import { FIND_GO_FILES, GRAMMAR_FILES, READ_DIRECTORY, READ_FILE, STAT, type BrowserInitOptions, type UriParams } from '../../server/src/protocol';
import { activateWith, clientOptions } from './activate';

let stop: (() => Promise<void>) | undefined;

/** Runs a file-system call; a missing file is null, not an error. */
async function orNull<T>(f: () => Thenable<T>): Promise<T | null> {
  try {
    return await f();
  } catch {
    return null;
  }
}

/**
 * .go files under a folder through the search service. A scheme without a search provider gets
 * [] or no answer at all: undefined after a while, and the caller walks the directories instead.
 */
async function searchGoFiles(folder: vscode.Uri): Promise<vscode.Uri[] | undefined> {
  const cancel = new vscode.CancellationTokenSource();
  const timer = setTimeout(() => cancel.cancel(), 15000);
  try {
    const search = vscode.workspace.findFiles(new vscode.RelativePattern(folder, '**/*.go'), SKIPPED_DIRS_GLOB, undefined, cancel.token);
    const cancelled = new Promise<undefined>((resolve) => cancel.token.onCancellationRequested(() => resolve(undefined)));
    return await Promise.race([Promise.resolve(search).catch(() => undefined), cancelled]);
  } finally {
    clearTimeout(timer);
    cancel.dispose();
  }
}

/** .go files under a folder by reading directories, for file systems that cannot search. */
async function walkGoFiles(dir: vscode.Uri, depth = 0): Promise<vscode.Uri[]> {
  const entries = depth > 32 ? [] : await orNull(() => vscode.workspace.fs.readDirectory(dir)) ?? [];
  const out: vscode.Uri[] = [];
  for (const [name, type] of entries) {
    const child = vscode.Uri.joinPath(dir, name);
    if (type & vscode.FileType.Directory) {
      if (!skipsDir(name)) out.push(...await walkGoFiles(child, depth + 1));
    } else if (name.endsWith('.go')) out.push(child);
  }
  return out;
}

function answerFileRequests(client: LanguageClient): void {
  const uri = (p: UriParams) => vscode.Uri.parse(p.uri, true);
  client.onRequest(READ_DIRECTORY, (p: UriParams) => orNull(async () => {
    const dir = uri(p);
    return (await vscode.workspace.fs.readDirectory(dir)).map(([name, type]) => [vscode.Uri.joinPath(dir, name).toString(), type]);
  }));
  client.onRequest(STAT, (p: UriParams) => orNull(async () => {
    const st = await vscode.workspace.fs.stat(uri(p));
    return { mtime: st.mtime, size: st.size };
  }));
  client.onRequest(READ_FILE, (p: UriParams) => orNull(async () => new TextDecoder().decode(await vscode.workspace.fs.readFile(uri(p)))));
  client.onRequest(FIND_GO_FILES, async (p: UriParams) => {
    const found = await searchGoFiles(uri(p));
    return (found?.length ? found : await walkGoFiles(uri(p))).map((u) => u.toString());
  });
}

function toBase64(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

/**
 * The worker and where its grammars come from. An extension served over http(s) (vscode.dev,
 * github.dev) gives the worker its URLs. One installed on a remote (code-server) has vscode-remote:
 * URIs, from which a worker cannot be started nor fetch: its files are read with workspace.fs and
 * handed over (the script as a blob URL, the .wasm files in base64).
 */
async function serverSource(extensionUri: vscode.Uri): Promise<{ workerUrl: string; grammars: BrowserInitOptions }> {
  const main = vscode.Uri.joinPath(extensionUri, 'dist', 'browser', 'server.js');
  const grammars = vscode.Uri.joinPath(extensionUri, 'grammars');
  if (/^https?$/.test(extensionUri.scheme)) return { workerUrl: main.toString(true), grammars: { grammarsUri: grammars.toString(true) } };
  const read = (uri: vscode.Uri) => vscode.workspace.fs.readFile(uri);
  const [script, runtime, go] = await Promise.all([read(main), read(vscode.Uri.joinPath(grammars, GRAMMAR_FILES.runtime)), read(vscode.Uri.joinPath(grammars, GRAMMAR_FILES.go))]);
  return {
    workerUrl: URL.createObjectURL(new Blob([new Uint8Array(script)], { type: 'text/javascript' })), // a copy backed by a plain ArrayBuffer, as Blob wants
    grammars: { grammars: { runtime: toBase64(runtime), go: toBase64(go) } },
  };
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const { workerUrl, grammars } = await serverSource(context.extensionUri);
  stop = await activateWith(context, (output) => {
    const client = new LanguageClient('racelens', 'racelens', new Worker(workerUrl), clientOptions(output, [{ language: 'go' }], grammars));
    answerFileRequests(client);
    return client;
  });
}

export async function deactivate(): Promise<void> {
  await stop?.();
}
