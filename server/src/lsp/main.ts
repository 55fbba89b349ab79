// The racelens language server: incremental sync, debounced per-package analysis, diagnostics
// and quick-fixes. Start with --stdio or --node-ipc.
import * as path from 'path';
import {
  createConnection, ProposedFeatures, TextDocumentSyncKind,
  type CodeAction, type Diagnostic, type InitializeResult,
} from 'vscode-languageserver/node';
import { newGoParser } from '../engine/parser';
import type { Finding } from '../engine/rule';
import type { SourceFile } from '../engine/source-file';
import { initGoForNode } from '../node/grammar';
import { allRules } from '../rules';
import { toCodeAction, toDiagnostic } from './convert';
import { GoWorkspace, uriToPath } from './workspace';
import { version } from '../../../package.json';

const connection = createConnection(ProposedFeatures.all);

interface Settings { enable: boolean; debounceMs: number }
let settings: Settings = { enable: true, debounceMs: 25 };

/** What was last published for a document, kept to answer code actions for that exact version. */
interface Published {
  version: number;
  findings: Finding[];
  diagnostics: Diagnostic[];
  files: Map<string, SourceFile>;
  /** Versions of the package's open documents at analysis time: a fix touching a changed one is stale. */
  openVersions: Map<string, number>;
}
const published = new Map<string, Published>();

let workspace: GoWorkspace | undefined;
const ready = initGoForNode().then(() => { workspace = new GoWorkspace(newGoParser()); });

const timers = new Map<string, NodeJS.Timeout>();

function schedule(uri: string): void {
  clearTimeout(timers.get(uri));
  timers.set(uri, setTimeout(() => {
    timers.delete(uri);
    void ready.then(() => analyzeNow(uri));
  }, settings.debounceMs));
}

/** Analyses the package of `uri` and publishes for every open document in it. */
function analyzeNow(uri: string): void {
  if (!workspace) return;
  const doc = workspace.document(uri);
  if (!doc) return;
  if (!settings.enable) {
    publish(uri, doc.version, [], new Map());
    return;
  }
  const analysed = workspace.analyzePackage(uri, allRules);
  if (!analysed) return;
  const { pkg, result } = analysed;
  for (const f of result.failures) {
    connection.console.error(`racelens: rule ${f.ruleId} failed on ${pkg.dir}: ${(f.error as Error)?.stack ?? f.error}`);
  }
  const files = new Map(pkg.files.map((f) => [f.path, f]));
  const openInPackage = workspace.openDocuments().filter((d) => files.has(d.file.path));
  const openVersions = new Map(openInPackage.map((d) => [d.file.path, d.version]));
  for (const open of openInPackage) {
    publish(open.uri, open.version, result.findings.filter((f) => f.path === open.file.path), files, openVersions);
  }
}

function publish(uri: string, version: number, findings: Finding[], files: Map<string, SourceFile>, openVersions = new Map<string, number>()): void {
  const current = workspace?.document(uri);
  if (!current || current.version !== version) return; // stale: a newer edit will publish
  const diagnostics = findings.map((f) => toDiagnostic(f, (p) => workspace!.uriOf(p)));
  published.set(uri, { version, findings, diagnostics, files, openVersions });
  void connection.sendDiagnostics({ uri, version, diagnostics });
}

connection.onInitialize((params): InitializeResult => {
  const opts = params.initializationOptions as Partial<Settings> | undefined;
  settings = { ...settings, ...opts };
  return {
    capabilities: {
      textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental, save: false },
      codeActionProvider: { codeActionKinds: ['quickfix'] },
    },
    serverInfo: { name: 'racelens', version },
  };
});

connection.onDidChangeConfiguration((change) => {
  const s = (change.settings as { racelens?: Partial<Settings> } | undefined)?.racelens;
  if (s) settings = { ...settings, ...s };
  for (const d of workspace?.openDocuments() ?? []) schedule(d.uri);
});

connection.onDidOpenTextDocument(async ({ textDocument: td }) => {
  await ready;
  workspace!.openDocument(td.uri, td.version, td.text);
  schedule(td.uri);
});

connection.onDidChangeTextDocument(async ({ textDocument: td, contentChanges }) => {
  await ready;
  if (!workspace!.changeDocument(td.uri, td.version, contentChanges as { range?: { start: { line: number; character: number }; end: { line: number; character: number } }; text: string }[])) return;
  schedule(td.uri);
});

connection.onDidCloseTextDocument(async ({ textDocument: td }) => {
  await ready;
  const closed = workspace!.document(td.uri);
  clearTimeout(timers.get(td.uri));
  workspace!.closeDocument(td.uri);
  published.delete(td.uri);
  void connection.sendDiagnostics({ uri: td.uri, diagnostics: [] });
  // Siblings in the package now see the file as it is on disk.
  for (const d of workspace!.openDocuments()) {
    if (closed && path.dirname(d.file.path) === path.dirname(closed.file.path)) schedule(d.uri);
  }
});

connection.onDidChangeWatchedFiles(async ({ changes }) => {
  await ready;
  for (const c of changes) workspace!.invalidateDisk(uriToPath(c.uri));
  for (const d of workspace!.openDocuments()) schedule(d.uri);
});

connection.onCodeAction(({ textDocument, range, context }): CodeAction[] => {
  const doc = workspace?.document(textDocument.uri);
  const pub = published.get(textDocument.uri);
  if (!doc || !pub || pub.version !== doc.version) return [];
  const actions: CodeAction[] = [];
  const wanted = context.only;
  if (wanted && !wanted.some((k) => k === 'quickfix' || 'quickfix'.startsWith(k + '.'))) return [];
  pub.findings.forEach((f, i) => {
    const d = pub.diagnostics[i];
    const overlaps = !(d.range.end.line < range.start.line || (d.range.end.line === range.start.line && d.range.end.character < range.start.character)
      || d.range.start.line > range.end.line || (d.range.start.line === range.end.line && d.range.start.character > range.end.character));
    if (!overlaps) return;
    for (const fix of f.fixes) {
      const fileOf = (p: string) => {
        const open = workspace!.document(workspace!.uriOf(p));
        return open && open.version !== pub.openVersions.get(p) ? undefined : pub.files.get(p);
      };
      const action = toCodeAction(fix, d, fileOf, (p) => workspace!.uriOf(p));
      if (action) actions.push(action);
    }
  });
  return actions;
});

connection.onShutdown(() => workspace?.dispose());
connection.listen();
