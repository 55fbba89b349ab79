// The web extension (vscode.dev, github.dev): the language server runs in a web worker and reads
// the workspace through this client, which answers its requests with vscode.workspace.fs.
import * as vscode from 'vscode';
import { LanguageClient } from 'vscode-languageclient/browser';
import { FIND_GO_FILES, READ_DIRECTORY, READ_FILE, STAT, type UriParams } from '../../server/src/browser/protocol';
import { activateWith, clientOptions } from './activate';

/** The web extension host's Worker (the tsconfig has no DOM library). */
declare const Worker: new (url: string) => ConstructorParameters<typeof LanguageClient>[3];

let stop: (() => Promise<void>) | undefined;

/** Runs a file-system call; a missing file is null, not an error. */
async function orNull<T>(f: () => Thenable<T>): Promise<T | null> {
  try {
    return await f();
  } catch {
    return null;
  }
}

function answerFileRequests(client: LanguageClient): void {
  const uri = (p: UriParams) => vscode.Uri.parse(p.uri, true);
  client.onRequest(READ_DIRECTORY, (p: UriParams) => orNull(() => vscode.workspace.fs.readDirectory(uri(p))));
  client.onRequest(STAT, (p: UriParams) => orNull(async () => {
    const st = await vscode.workspace.fs.stat(uri(p));
    return { mtime: st.mtime, size: st.size };
  }));
  client.onRequest(READ_FILE, (p: UriParams) => orNull(async () => new TextDecoder().decode(await vscode.workspace.fs.readFile(uri(p)))));
  client.onRequest(FIND_GO_FILES, async (p: UriParams) => {
    const found = await vscode.workspace.findFiles(new vscode.RelativePattern(uri(p), '**/*.go'), '**/{vendor,testdata,node_modules}/**');
    return found.map((u) => u.toString());
  });
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const serverMain = vscode.Uri.joinPath(context.extensionUri, 'dist', 'browser', 'server.js');
  const grammarsUri = vscode.Uri.joinPath(context.extensionUri, 'grammars').toString();
  stop = await activateWith(context, (output) => {
    const worker = new Worker(serverMain.toString(true));
    const client = new LanguageClient('racelens', 'racelens', clientOptions(output, [{ language: 'go' }], { grammarsUri }), worker);
    answerFileRequests(client);
    return client;
  });
}

export async function deactivate(): Promise<void> {
  await stop?.();
}
