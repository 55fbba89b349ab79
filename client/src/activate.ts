// What the desktop and the web extension share: the status bar, the commands and (re)starting a
// language client. Each entry (extension.ts, browser.ts) only says how to create the client.
import * as vscode from 'vscode';
import { State, type BaseLanguageClient, type LanguageClientOptions } from 'vscode-languageclient';
import { STATUS, type Status } from '../../server/src/protocol';
import { statusLabel } from './status';


/** Options both clients use; `documentSelector` says which schemes the server can see. */
export function clientOptions(output: vscode.LogOutputChannel, documentSelector: LanguageClientOptions['documentSelector'], extra: object = {}): LanguageClientOptions {
  return {
    documentSelector,
    synchronize: { configurationSection: 'racelens' },
    // Plain data: a web worker receives it by structured clone, which refuses the object's methods.
    initializationOptions: { ...JSON.parse(JSON.stringify(vscode.workspace.getConfiguration('racelens'))), ...extra },
    outputChannel: output,
  };
}

function render(status: vscode.StatusBarItem, s: Status | undefined, running: boolean): void {
  const { text, tooltip } = statusLabel(s, running);
  status.text = text;
  status.tooltip = tooltip;
}

/** Registers the commands and the status bar, starts the client; returns a stop function. */
export async function activateWith(
  context: vscode.ExtensionContext,
  createClient: (output: vscode.LogOutputChannel) => BaseLanguageClient,
): Promise<() => Promise<void>> {
  const output = vscode.window.createOutputChannel('racelens', { log: true });
  const status = vscode.window.createStatusBarItem('racelens.status', vscode.StatusBarAlignment.Right, 100);
  status.name = 'racelens';
  status.command = 'workbench.actions.view.problems';
  status.show();
  context.subscriptions.push(output, status);
  let client: BaseLanguageClient | undefined;
  let last: Status | undefined;

  const start = async () => {
    client = createClient(output);
    client.onDidChangeState((e) => render(status, last, e.newState !== State.Stopped));
    await client.start();
    client.onNotification(STATUS, (s: Status) => { last = s; render(status, s, true); });
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
  return async () => { await client?.stop(); };
}
