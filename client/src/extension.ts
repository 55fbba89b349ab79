// The thin client: starts the bundled language server, forwards settings, restarts it on crash,
// and owns the output channel, the restart command and the status bar item.
import * as path from 'path';
import * as vscode from 'vscode';
import { LanguageClient, State, TransportKind, type LanguageClientOptions, type ServerOptions } from 'vscode-languageclient/node';

let client: LanguageClient | undefined;

function createClient(context: vscode.ExtensionContext, output: vscode.LogOutputChannel): LanguageClient {
  const module = context.asAbsolutePath(path.join('dist', 'server.js'));
  const serverOptions: ServerOptions = {
    run: { module, transport: TransportKind.ipc },
    debug: { module, transport: TransportKind.ipc, options: { execArgv: ['--nolazy', '--inspect=6019'] } },
  };
  const config = vscode.workspace.getConfiguration('racelens');
  const clientOptions: LanguageClientOptions = {
    documentSelector: [{ scheme: 'file', language: 'go' }, { scheme: 'untitled', language: 'go' }],
    synchronize: {
      configurationSection: 'racelens',
      fileEvents: [vscode.workspace.createFileSystemWatcher('**/*.go'), vscode.workspace.createFileSystemWatcher('**/go.mod')],
    },
    initializationOptions: { enable: config.get('enable', true), debounceMs: config.get('debounceMs', 25) },
    outputChannel: output,
  };
  return new LanguageClient('racelens', 'racelens', serverOptions, clientOptions);
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const output = vscode.window.createOutputChannel('racelens', { log: true });
  const status = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Right, 100);
  status.name = 'racelens';
  status.command = 'workbench.actions.view.problems';
  status.text = '$(loading~spin) racelens';
  status.show();
  context.subscriptions.push(output, status);

  const start = async () => {
    client = createClient(context, output);
    client.onDidChangeState((e) => {
      status.text = e.newState === State.Running ? '$(pulse) racelens' : e.newState === State.Starting ? '$(loading~spin) racelens' : '$(error) racelens';
      status.tooltip = e.newState === State.Running ? 'racelens is checking Go files. Click to open Problems.' : 'racelens server is not running';
    });
    await client.start();
  };

  context.subscriptions.push(vscode.commands.registerCommand('racelens.restartServer', async () => {
    output.appendLine('Restarting the racelens server…');
    if (client) await client.stop().catch(() => undefined);
    await start();
  }));

  await start();
}

export async function deactivate(): Promise<void> {
  await client?.stop();
}
