// Drives the bundled server (dist/server.js) over JSON-RPC on stdio, as an editor would.
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter, type MessageConnection } from 'vscode-jsonrpc/node';
import type { CodeAction, Diagnostic, InitializeResult, PublishDiagnosticsParams } from 'vscode-languageserver-protocol';

export const SERVER = path.join(__dirname, '..', '..', '..', 'dist', 'server.js');

export class LspClient {
  readonly conn: MessageConnection;
  private readonly proc: ChildProcess;
  private readonly latest = new Map<string, PublishDiagnosticsParams>();
  private waiters: (() => void)[] = [];
  stderr = '';

  constructor(initOptions: Record<string, unknown> = { debounceMs: 0 }, private readonly workspaceFolders: string[] = [], env: Record<string, string> = {}) {
    this.proc = spawn(process.execPath, [SERVER, '--stdio'], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    this.proc.stderr!.on('data', (d) => { this.stderr += d; });
    this.conn = createMessageConnection(new StreamMessageReader(this.proc.stdout!), new StreamMessageWriter(this.proc.stdin!));
    this.conn.onNotification('textDocument/publishDiagnostics', (p: PublishDiagnosticsParams) => {
      this.latest.set(p.uri, p);
      const w = this.waiters;
      this.waiters = [];
      w.forEach((f) => f());
    });
    this.conn.onNotification('window/logMessage', (m: { message: string }) => { this.logs.push(m.message); });
    this.conn.onRequest('workspace/configuration', () => []);
    this.conn.onRequest('client/registerCapability', () => null);
    this.conn.onRequest('window/workDoneProgress/create', () => null);
    this.conn.onNotification('$/progress', () => undefined);
    this.conn.onNotification('racelens/status', (s: unknown) => {
      this.status = s;
      const w = this.statusWaiters;
      this.statusWaiters = [];
      w.forEach((f) => f());
    });
    this.conn.onNotification('window/showMessage', (m: { message: string }) => { this.messages.push(m.message); });
    this.conn.listen();
    this.initOptions = initOptions;
  }
  private initOptions: Record<string, unknown>;
  status: unknown;
  messages: string[] = [];

  async initialize(): Promise<InitializeResult> {
    const r = await this.conn.sendRequest<InitializeResult>('initialize', {
      processId: process.pid, rootUri: null, capabilities: { window: { workDoneProgress: true } }, initializationOptions: this.initOptions,
      workspaceFolders: this.workspaceFolders.map((f) => ({ uri: pathToFileURL(f).href, name: path.basename(f) })),
    });
    await this.conn.sendNotification('initialized', {});
    return r;
  }

  open(uri: string, text: string, version = 1): Promise<void> {
    return this.conn.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'go', version, text } });
  }

  change(uri: string, version: number, contentChanges: unknown[]): Promise<void> {
    return this.conn.sendNotification('textDocument/didChange', { textDocument: { uri, version }, contentChanges });
  }

  save(uri: string): Promise<void> {
    return this.conn.sendNotification('textDocument/didSave', { textDocument: { uri } });
  }

  configure(racelens: Record<string, unknown>): Promise<void> {
    return this.conn.sendNotification('workspace/didChangeConfiguration', { settings: { racelens } });
  }

  /** type: 1 created, 2 changed, 3 deleted */
  watched(changes: { uri: string; type: 1 | 2 | 3 }[]): Promise<void> {
    return this.conn.sendNotification('workspace/didChangeWatchedFiles', { changes });
  }

  fixAll(uri: string): Promise<CodeAction[]> {
    return this.conn.sendRequest('textDocument/codeAction', {
      textDocument: { uri }, range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
      context: { diagnostics: [], only: ['source.fixAll.racelens'] },
    });
  }

  close(uri: string): Promise<void> {
    return this.conn.sendNotification('textDocument/didClose', { textDocument: { uri } });
  }

  codeActions(uri: string, diagnostic: Diagnostic): Promise<CodeAction[]> {
    return this.conn.sendRequest('textDocument/codeAction', { textDocument: { uri }, range: diagnostic.range, context: { diagnostics: [diagnostic] } });
  }

  /** Resolves with the first publication for `uri` that satisfies `ok` (including one already received). */
  diagnostics(uri: string, ok: (p: PublishDiagnosticsParams) => boolean = () => true, timeoutMs = 5000): Promise<PublishDiagnosticsParams> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching diagnostics for ${uri}; last: ${JSON.stringify(this.latest.get(uri))}\n${this.stderr}`)), timeoutMs);
      const check = () => {
        const p = this.latest.get(uri);
        if (p && ok(p)) { clearTimeout(timer); resolve(p); } else this.waiters.push(check);
      };
      check();
    });
  }

  private statusWaiters: (() => void)[] = [];

  /** Resolves with the first status notification that satisfies `ok` (including the last one received). */
  statusWhere<S>(ok: (s: S) => boolean, timeoutMs = 5000): Promise<S> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching status; last: ${JSON.stringify(this.status)}\n${this.stderr}`)), timeoutMs);
      const check = () => {
        const s = this.status as S | undefined;
        if (s && ok(s)) { clearTimeout(timer); resolve(s); } else this.statusWaiters.push(check);
      };
      check();
    });
  }

  get exitCode(): number | null { return this.proc.exitCode; }

  /** Writes raw bytes to the server's stdin (malformed-message tests). */
  writeRaw(data: string): void { this.proc.stdin!.write(data); }

  logs: string[] = [];

  async shutdown(): Promise<void> {
    try {
      const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error('shutdown timed out')), 3000));
      await Promise.race([this.conn.sendRequest('shutdown'), timeout]);
      await this.conn.sendNotification('exit');
    } catch { /* already gone, or wedged: killed below */ }
    this.conn.dispose();
    this.proc.kill();
  }
}
