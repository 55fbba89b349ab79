// The racelens language server: incremental sync, debounced analysis per directory, diagnostics
// for open and closed files (workspace scan, file watching), quick-fixes, ignore/explain actions,
// fix-all, hover and a status notification. Start with --stdio or --node-ipc.
import * as path from 'path';
import { fileURLToPath } from 'url';
import {
  CodeActionKind, createConnection, DiagnosticSeverity, DidChangeWatchedFilesNotification, FileChangeType, ProposedFeatures, TextDocumentSyncKind,
  type CodeAction, type Diagnostic, type Hover, type InitializeResult,
} from 'vscode-languageserver/node';
import { version } from '../../../package.json';
import { applySeverities, enabledRules, isExcluded } from '../engine/config';
import { newGoParser } from '../engine/parser';
import type { Finding } from '../engine/rule';
import type { SourceFile, TextChange } from '../engine/source-file';
import { relativeToRoot } from '../node/config';
import { clearGoModCache, expandPaths } from '../node/files';
import { initGoForNode } from '../node/grammar';
import type { Rule } from '../engine/rule';
import { allRules as shippedRules, docsUrl, ruleById } from '../rules';
import { explainAction, FIX_ALL_KIND, fixAllAction, ignoreAction, quickFixActions } from './actions';
import { toDiagnostic } from './convert';
import { fixAllText } from './fix-all';
import { ConfigResolver, DEFAULT_SETTINGS, readSettings, type Settings } from './settings';
import { GoWorkspace, uriToPath } from './workspace';

const connection = createConnection(ProposedFeatures.all);

/**
 * Test hook: RACELENS_FAULT=throw-rule adds a rule that always throws, to prove one broken rule
 * costs only its own findings and the server stays up.
 */
const faultyRule: Rule = { id: 'fault-injection', title: 'fault', doc: 'fault', severity: 'error', run() { throw new Error('injected fault'); } };
const allRules: readonly Rule[] = process.env.RACELENS_FAULT === 'throw-rule' ? [...shippedRules, faultyRule] : shippedRules;
let settings: Settings = DEFAULT_SETTINGS;
const configs = new ConfigResolver(settings, (m) => connection.window.showWarningMessage(`racelens: ${m}`));
let workspaceFolders: string[] = [];

/** What was last published for a file, kept to answer code actions and hovers for that version. */
interface Published {
  version?: number;
  findings: Finding[];
  diagnostics: Diagnostic[];
  files: Map<string, SourceFile>;
  /** Versions of the directory's open documents at analysis time: a fix touching a changed one is stale. */
  openVersions: Map<string, number>;
}
const published = new Map<string, Published>(); // by uri

let workspace: GoWorkspace | undefined;
const ready = initGoForNode().then(() => { workspace = new GoWorkspace(newGoParser()); });

const timers = new Map<string, NodeJS.Timeout>();
const fastTimers = new Map<string, NodeJS.Timeout>();

/** Package-wide rules need the whole package: they wait until typing pauses. */
const PACKAGE_RULE_DELAY_MS = 250;
const FILE_RULES = allRules.filter((r) => r.scope !== 'package');
const PACKAGE_RULE_IDS = new Set(allRules.filter((r) => r.scope === 'package').map((r) => r.id));

/**
 * Package-rule findings of each open document from the last full analysis, moved along with the
 * edits made since (their fixes dropped: offsets are only trusted until the next full analysis).
 */
const carried = new Map<string, Finding[]>(); // by uri

/** Re-analyses a directory after a short quiet period; a newer request replaces a pending one. */
function schedule(dir: string, delay = settings.debounceMs): void {
  clearTimeout(timers.get(dir));
  timers.set(dir, setTimeout(() => {
    timers.delete(dir);
    void ready.then(() => analyzeDir(dir, true)); // closed files' trees are freed unless a document of the directory is open
  }, delay));
}

/** As you type: file rules on the edited document now, package rules once typing pauses. */
function scheduleTyping(uri: string): void {
  const dir = workspace!.dirOf(uri);
  clearTimeout(fastTimers.get(uri));
  fastTimers.set(uri, setTimeout(() => {
    fastTimers.delete(uri);
    void ready.then(() => analyzeEdited(uri));
  }, settings.debounceMs));
  schedule(dir, Math.max(PACKAGE_RULE_DELAY_MS, settings.debounceMs));
}

function shiftFindings(findings: Finding[], changes: readonly TextChange[]): Finding[] {
  let out = findings;
  for (const c of changes) {
    const delta = c.text.length - (c.end - c.start);
    out = out.flatMap((f) => {
      if (f.end <= c.start && !(f.start === f.end && f.start === c.start)) return [f];
      if (f.start >= c.end) return [{ ...f, start: f.start + delta, end: f.end + delta }];
      return []; // the edit touched it: the next full analysis decides
    });
  }
  return out;
}

function analyzeEdited(uri: string): void {
  const doc = workspace?.document(uri);
  if (!doc || !settings.enable) return;
  const dir = workspace!.dirOf(uri);
  const { config, root } = configs.forDir(dir);
  if (path.isAbsolute(doc.file.path) && isExcluded(relativeToRoot(root, doc.file.path), config)) return;
  const result = workspace!.analyzeDir(dir, enabledRules(FILE_RULES, config), false, new Set([doc.file.path]));
  for (const f of result.failures) connection.console.error(`racelens: rule ${f.ruleId} failed in ${dir}: ${(f.error as Error)?.stack ?? f.error}`);
  const mine = applySeverities(result.findings, config).filter((f) => f.path === doc.file.path);
  const kept = (carried.get(uri) ?? []).map((f) => ({ ...f, range: doc.file.rangeOf(f.start, f.end), related: [], fixes: [] }));
  const files = new Map(result.files.map((f) => [f.path, f]));
  const findings = [...mine, ...kept].sort((a, b) => a.start - b.start || a.ruleId.localeCompare(b.ruleId));
  publish(uri, doc.version, findings, files, new Map([[doc.file.path, doc.version]]), skippedNotice(doc.file));
  sendStatus();
}

/** Every directory analysed so far: what a settings or go.mod change must re-check. */
const knownDirs = new Set<string>();

function analyzeDir(dir: string, transient: boolean): void {
  if (!workspace) return;
  knownDirs.add(dir);
  const { config, root } = configs.forDir(dir);
  const excluded = (p: string) => path.isAbsolute(p) && isExcluded(relativeToRoot(root, p), config);
  const result = settings.enable
    ? workspace.analyzeDir(dir, enabledRules(allRules, config), transient)
    : { dir, files: workspace.openDocuments().filter((d) => workspace!.dirOf(d.uri) === dir).map((d) => d.file), findings: [], failures: [] };
  for (const f of result.failures) connection.console.error(`racelens: rule ${f.ruleId} failed in ${dir}: ${(f.error as Error)?.stack ?? f.error}`);
  const findings = applySeverities(result.findings, config);
  const files = new Map(result.files.map((f) => [f.path, f]));
  const open = workspace.openDocuments().filter((d) => files.has(d.file.path));
  const openVersions = new Map(open.map((d) => [d.file.path, d.version]));
  for (const file of result.files) {
    const uri = workspace.uriOf(file.path);
    const doc = workspace.document(uri);
    const mine = excluded(file.path) ? [] : findings.filter((f) => f.path === file.path);
    if (doc) carried.set(uri, mine.filter((f) => PACKAGE_RULE_IDS.has(f.ruleId)));
    publish(uri, doc?.version, mine, files, openVersions, doc ? skippedNotice(file) : undefined);
  }
  // Files that left the directory (deleted, or closed and never saved) keep no diagnostics.
  for (const uri of [...published.keys()]) {
    if (workspace.dirOf(uri) === dir && !files.has(uriToPath(uri))) {
      published.delete(uri);
      void connection.sendDiagnostics({ uri, diagnostics: [] });
    }
  }
  sendStatus();
}

/** One info diagnostic for an open file racelens does not check: too large, or generated. */
function skippedNotice(file: SourceFile): Diagnostic | undefined {
  const reason = file.skipped ?? (file.isGenerated ? 'a generated file (// Code generated ... DO NOT EDIT.)' : undefined);
  if (!reason) return undefined;
  return {
    range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
    severity: DiagnosticSeverity.Information, source: 'racelens', code: 'skipped',
    message: `racelens does not check this file: ${reason}`,
  };
}

function publish(
  uri: string, version: number | undefined, findings: Finding[], files: Map<string, SourceFile>,
  openVersions = new Map<string, number>(), notice?: Diagnostic,
): void {
  const current = workspace?.document(uri);
  if (current && current.version !== version) return; // stale: a newer edit will publish
  const diagnostics = findings.map((f) => toDiagnostic(f, (p) => workspace!.uriOf(p)));
  if (notice) {
    void connection.sendDiagnostics({ uri, version, diagnostics: [notice] });
    published.delete(uri);
    return;
  }
  if (!diagnostics.length && !published.has(uri) && !current) return; // closed file, nothing new to say
  if (diagnostics.length) published.set(uri, { version, findings, diagnostics, files, openVersions });
  else published.delete(uri);
  void connection.sendDiagnostics({ uri, version, diagnostics });
}

let scanning = false;

function sendStatus(): void {
  let errors = 0, warnings = 0, infos = 0;
  for (const p of published.values()) {
    for (const f of p.findings) {
      if (f.severity === 'error') errors++; else if (f.severity === 'warning') warnings++; else infos++;
    }
  }
  void connection.sendNotification('racelens/status', { state: scanning ? 'scanning' : settings.enable ? 'ready' : 'disabled', errors, warnings, infos });
}

/** Analyses every .go file of the workspace folders, a directory at a time, with progress. */
async function scanWorkspace(): Promise<void> {
  await ready;
  if (!settings.enable || !workspaceFolders.length) return;
  scanning = true;
  const progress = await connection.window.createWorkDoneProgress().catch(() => undefined);
  const dirs = [...new Set(workspaceFolders.flatMap((f) => expandPaths([path.join(f, '...')]).files).map((f) => path.dirname(f)))];
  progress?.begin('racelens', 0, `Checking ${dirs.length} packages`, false);
  for (let i = 0; i < dirs.length; i++) {
    analyzeDir(dirs[i], true);
    if (i % 10 === 9) {
      progress?.report(Math.round((100 * (i + 1)) / dirs.length), `${i + 1}/${dirs.length} packages`);
      await new Promise((r) => setImmediate(r)); // let edits and requests through
    }
  }
  progress?.done();
  scanning = false;
  sendStatus();
}

let clientHasFolders = false;
let clientHasDocumentChanges = false;

connection.onInitialize((params): InitializeResult => {
  clientHasFolders = !!params.capabilities.workspace?.workspaceFolders;
  clientHasDocumentChanges = !!params.capabilities.workspace?.workspaceEdit?.documentChanges;
  settings = readSettings(params.initializationOptions, DEFAULT_SETTINGS);
  configs.update(settings);
  workspaceFolders = (params.workspaceFolders ?? []).filter((f) => f.uri.startsWith('file:')).map((f) => fileURLToPath(f.uri));
  if (!workspaceFolders.length && params.rootUri?.startsWith('file:')) workspaceFolders = [fileURLToPath(params.rootUri)];
  return {
    capabilities: {
      textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental, save: { includeText: false } },
      codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix, FIX_ALL_KIND] },
      hoverProvider: true,
      workspace: { workspaceFolders: { supported: true, changeNotifications: true } },
    },
    serverInfo: { name: 'racelens', version },
  };
});

connection.onInitialized(() => {
  void connection.client.register(DidChangeWatchedFilesNotification.type, {
    watchers: [{ globPattern: '**/*.go' }, { globPattern: '**/go.mod' }, { globPattern: '**/.racelens.json' }],
  }).catch(() => undefined);
  if (clientHasFolders) {
    connection.workspace.onDidChangeWorkspaceFolders((e) => {
      workspaceFolders = workspaceFolders.filter((f) => !e.removed.some((r) => fileURLToPath(r.uri) === f));
      workspaceFolders.push(...e.added.filter((a) => a.uri.startsWith('file:')).map((a) => fileURLToPath(a.uri)));
      void scanWorkspace();
    });
  }
  void scanWorkspace();
});

function reanalyzeEverything(): void {
  for (const d of workspace?.openDocuments() ?? []) knownDirs.add(workspace!.dirOf(d.uri));
  for (const dir of knownDirs) schedule(dir, 0);
}

connection.onDidChangeConfiguration((change) => {
  const raw = (change.settings as { racelens?: unknown } | undefined)?.racelens;
  if (raw) {
    settings = readSettings(raw, settings);
    configs.update(settings);
  }
  if (!settings.enable) {
    for (const uri of [...published.keys()]) publish(uri, workspace?.document(uri)?.version, [], new Map());
    sendStatus();
    return;
  }
  reanalyzeEverything();
});

connection.onDidOpenTextDocument(async ({ textDocument: td }) => {
  await ready;
  workspace!.openDocument(td.uri, td.version, td.text);
  // File rules answer at once; the package-wide pass follows.
  analyzeEdited(td.uri);
  schedule(workspace!.dirOf(td.uri), 0);
});

connection.onDidChangeTextDocument(async ({ textDocument: td, contentChanges }) => {
  await ready;
  const applied = workspace!.changeDocument(td.uri, td.version, contentChanges as Parameters<GoWorkspace['changeDocument']>[2]);
  if (!applied) return;
  carried.set(td.uri, shiftFindings(carried.get(td.uri) ?? [], applied));
  if (settings.run === 'onType') scheduleTyping(td.uri);
});

connection.onDidSaveTextDocument(async ({ textDocument: td }) => {
  await ready;
  schedule(workspace!.dirOf(td.uri), 0);
});

connection.onDidCloseTextDocument(async ({ textDocument: td }) => {
  await ready;
  const dir = workspace!.dirOf(td.uri);
  workspace!.closeDocument(td.uri);
  carried.delete(td.uri);
  // The editor's version is gone: clear it now. A file that exists on disk gets its diagnostics
  // back from the directory's re-analysis, as every closed file of the workspace does.
  published.delete(td.uri);
  void connection.sendDiagnostics({ uri: td.uri, diagnostics: [] });
  if (td.uri.startsWith('file:')) schedule(dir, 0);
});

connection.onDidChangeWatchedFiles(async ({ changes }) => {
  await ready;
  let everything = false;
  for (const c of changes) {
    const p = uriToPath(c.uri);
    if (p.endsWith('go.mod')) { clearGoModCache(); everything = true; continue; }
    if (p.endsWith('.racelens.json')) { configs.clear(); everything = true; continue; }
    workspace!.invalidateDisk(p);
    if (c.type === FileChangeType.Deleted && !workspace!.document(c.uri)) {
      published.delete(c.uri);
      void connection.sendDiagnostics({ uri: c.uri, diagnostics: [] });
    }
    schedule(path.dirname(p), 0);
  }
  if (everything) reanalyzeEverything();
});

function overlaps(d: Diagnostic, range: { start: { line: number; character: number }; end: { line: number; character: number } }): boolean {
  const before = (a: typeof range.start, b: typeof range.start) => a.line < b.line || (a.line === b.line && a.character < b.character);
  return !before(d.range.end, range.start) && !before(range.end, d.range.start);
}

connection.onCodeAction(async ({ textDocument, range, context }): Promise<CodeAction[]> => {
  await ready;
  const doc = workspace!.document(textDocument.uri);
  const pub = published.get(textDocument.uri);
  const only = context.only;
  const wants = (kind: string) => !only || only.some((k) => kind === k || kind.startsWith(`${k}.`));
  const actions: CodeAction[] = [];
  if (doc && wants(FIX_ALL_KIND) && only) {
    const dir = workspace!.dirOf(textDocument.uri);
    const analysed = workspace!.analyzeDir(dir, []);
    const texts = new Map(analysed.files.map((f) => [f.path, f.text]));
    const parser = newGoParser();
    try {
      const result = await fixAllText(parser, texts, doc.file.path, allRules, configs.forDir(dir).config);
      if (result) actions.push(fixAllAction(textDocument.uri, doc.file, result.after, result.count));
    } finally {
      parser.delete();
    }
    return actions;
  }
  if (!pub || (doc && pub.version !== doc.version) || !wants(CodeActionKind.QuickFix)) return actions;
  const fileOf = (p: string) => {
    const open = workspace!.document(workspace!.uriOf(p));
    return open && open.version !== pub.openVersions.get(p) ? undefined : pub.files.get(p);
  };
  pub.findings.forEach((f, i) => {
    const d = pub.diagnostics[i];
    if (!overlaps(d, range)) return;
    const versionOf = clientHasDocumentChanges ? (p: string) => pub.openVersions.get(p) ?? null : undefined;
    actions.push(...quickFixActions(f, d, fileOf, (p) => workspace!.uriOf(p), versionOf));
    const file = pub.files.get(f.path);
    if (file && f.ruleId !== 'unused-suppression') actions.push(ignoreAction(f, d, file, textDocument.uri));
    actions.push(explainAction(f, d));
  });
  return actions;
});

connection.onHover(({ textDocument, position }): Hover | null => {
  const pub = published.get(textDocument.uri);
  if (!pub) return null;
  const hits = pub.diagnostics
    .map((d, i) => ({ d, f: pub.findings[i] }))
    .filter(({ d }) => overlaps(d, { start: position, end: position }));
  if (!hits.length) return null;
  const parts = hits.map(({ f }) => {
    const rule = ruleById(f.ruleId);
    return `**racelens: ${rule?.title ?? f.ruleId}** (\`${f.ruleId}\`, ${f.severity})\n\n${rule?.doc ?? ''}\n\n[Rule documentation](${docsUrl(f.ruleId)})`;
  });
  return { contents: { kind: 'markdown', value: parts.join('\n\n---\n\n') } };
});

connection.onShutdown(() => workspace?.dispose());
connection.listen();
