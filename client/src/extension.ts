// The desktop extension: starts the bundled Node language server over IPC; the client restarts
// it if it crashes.
import * as path from 'path';
import type * as vscode from 'vscode';
import { LanguageClient, TransportKind, type ServerOptions } from 'vscode-languageclient/node';
import { activateWith, clientOptions } from './activate';

let stop: (() => Promise<void>) | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const module = context.asAbsolutePath(path.join('dist', 'server.js'));
  const serverOptions: ServerOptions = {
    run: { module, transport: TransportKind.ipc },
    debug: { module, transport: TransportKind.ipc, options: { execArgv: ['--nolazy', '--inspect=6019'] } },
  };
  const selector = [{ scheme: 'file', language: 'go' }, { scheme: 'untitled', language: 'go' }];
  stop = await activateWith(context, (output) => new LanguageClient('racelens', 'racelens', serverOptions, clientOptions(output, selector)));
}

export async function deactivate(): Promise<void> {
  await stop?.();
}
