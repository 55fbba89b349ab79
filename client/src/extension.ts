// The thin client: starts the bundled language server, forwards settings, restarts it on crash,
// and owns the output channel, the commands and the status bar item.
import * as path from 'path';
import * as vscode from 'vscode';
import { LanguageClient, State, TransportKind, type LanguageClientOptions, type ServerOptions } from 'vscode-languageclient/node';

interface Status { state: 'scanning' | 'ready' | 'disabled'; errors: number; warnings: number; infos: number }

let client: LanguageClient | undefined;

function createClient(context: vscode.ExtensionContext, output: vscode.LogOutputChannel): LanguageClient {
  const module = context.asAbsolutePath(path.join('dist', 'server.js'));
  const serverOptions: ServerOptions = {
    run: { module, transport: TransportKind.ipc },
    debug: { module, transport: TransportKind.ipc, options: { execArgv: ['--nolazy', '--inspect=6019'] } },
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [{ scheme: 'file', language: 'go' }, { scheme: 'untitled', language: 'go' }],
    synchronize: { configurationSection: 'racelens' },
    initializationOptions: vscode.workspace.getConfiguration('racelens'),
    outputChannel: output,
  };
  return new LanguageClient('racelens', 'racelens', serverOptions, clientOptions);
}

function render(status: vscode.StatusBarItem, s: Status | undefined, running: boolean): void {
  if (!running) {
    status.text = '$(error) racelens';
    status.tooltip = 'The racelens server is not running. Run "racelens: Restart Server".';
    return;
  }
  if (!s || s.state === 'scanning') {
    status.text = '$(loading~spin) racelens';
    status.tooltip = 'racelens is checking the workspace';
    return;
  }
  if (s.state === 'disabled') {
    status.text = '$(circle-slash) racelens';
    status.tooltip = 'racelens is disabled (racelens.enable)';
    return;
  }
  const total = s.errors + s.warnings + s.infos;
  status.text = total ? `$(warning) racelens ${total}` : '$(check) racelens';
  status.tooltip = `racelens: ${s.errors} errors, ${s.warnings} warnings, ${s.infos} infos. Click to open Problems.`;
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const output = vscode.window.createOutputChannel('racelens', { log: true });
  const status = vscode.window.createStatusBarItem('racelens.status', vscode.StatusBarAlignment.Right, 100);
  status.name = 'racelens';
  status.command = 'workbench.actions.view.problems';
  status.show();
  context.subscriptions.push(output, status);
  let last: Status | undefined;

  const start = async () => {
    client = createClient(context, output);
    client.onDidChangeState((e) => render(status, last, e.newState !== State.Stopped));
    await client.start();
    client.onNotification('racelens/status', (s: Status) => { last = s; render(status, s, true); });
  };

  context.subscriptions.push(
    vscode.commands.registerCommand('racelens.restartServer', async () => {
      output.info('Restarting the racelens server');
      if (client) await client.stop().catch(() => undefined);
      await start();
    }),
    vscode.commands.registerCommand('racelens.explainRule', async (ruleId?: string) => {
      const ids = (await vscode.workspace.fs.readDirectory(vscode.Uri.joinPath(context.extensionUri, 'docs', 'rules')))
        .map(([name]) => name.replace(/\.md$/, '')).sort();
      const id = ruleId ?? (await vscode.window.showQuickPick(ids, { placeHolder: 'Which racelens rule?' }));
      if (!id) return;
      await vscode.commands.executeCommand('markdown.showPreview', vscode.Uri.joinPath(context.extensionUri, 'docs', 'rules', `${id}.md`));
    }),
  );

  render(status, undefined, true);
  await start();
}

export async function deactivate(): Promise<void> {
  await client?.stop();
}
