// The racelens language server: incremental sync, debounced analysis per directory, diagnostics
// for open and closed files (workspace scan, file watching), quick-fixes, ignore/explain actions,
// fix-all, hover and a status notification. Runs wherever its host runs: Node (node/main.ts) or a
// browser web worker (browser/main.ts); one server per process or worker.
import {
  CodeActionKind, DiagnosticSeverity, DidChangeWatchedFilesNotification, FileChangeType, MessageType, ShowMessageNotification, TextDocumentSyncKind,
  type CodeAction, type Connection, type Diagnostic, type Hover, type InitializeResult,
} from 'vscode-languageserver';
import { version } from '../../../package.json';
import { enabledRules, isExcluded, unknownRuleIds, type RacelensConfig } from '../engine/config';
import { compareFindings, finalize } from '../engine/finalize';
import { editTouches, shiftFinding } from '../engine/shift';
import { counted, unknownRuleMessage } from '../engine/words';
import { STATUS, type Status } from '../protocol';
import { newGoParser } from '../engine/parser';
import type { Finding, Rule } from '../engine/rule';
import type { Parser } from 'web-tree-sitter';
import type { SourceFile, TextChange } from '../engine/source-file';
import { ruleById } from '../rules';
import { explainAction, FIX_ALL_KIND, fixAllAction, ignoreAction, quickFixActions } from './actions';
import { hoverMarkdown, toDiagnostic } from './convert';
import { fixAllText } from './fix-all';
import { offeredFix } from './verify-actions';
import type { ClosedDirResult, ServerHost } from './host';
import { ConfigResolver, DEFAULT_SETTINGS, readSettings, type Settings } from './settings';
import { GoWorkspace } from './workspace';

let connection: Connection;
let host: ServerHost;
let allRules: readonly Rule[] = [];
/** File rules run on the edited document per keystroke; package rules once typing pauses. */
let fileRules: readonly Rule[] = [];
let packageRuleIds = new Set<string>();
let settings: Settings = DEFAULT_SETTINGS;
let configs: ConfigResolver;
/** Workspace folders as URIs. */
let workspaceFolders: string[] = [];

/** What was last published for a file, kept to answer code actions and hovers for that version. */
interface Published {
  version?: number;
  findings: Finding[];
  diagnostics: Diagnostic[];
  files: Map<string, SourceFile>;
  /** Versions of the directory's open documents at analysis time: a fix touching a changed one is stale. */
  openVersions: Map<string, number>;
  /** The directory's texts as analysed: what its fixes are verified against. */
  texts: ReadonlyMap<string, string>;
}

const snapshots = new WeakMap<Map<string, SourceFile>, ReadonlyMap<string, string>>();
function textsOf(files: Map<string, SourceFile>): ReadonlyMap<string, string> {
  let texts = snapshots.get(files);
  if (!texts) snapshots.set(files, (texts = new Map([...files].map(([p, f]) => [p, f.text]))));
  return texts;
}

let verifyParser: Parser | undefined;
const published = new Map<string, Published>(); // by uri

let workspace: GoWorkspace | undefined;
/** Settles once the grammar is loaded; the grammar loads when initialize says where it is. */
let ready: Promise<void>;
let initialize: (initializationOptions: unknown) => void;

const timers = new Map<string, ReturnType<typeof setTimeout>>();
const fastTimers = new Map<string, ReturnType<typeof setTimeout>>();

/** Package-wide rules need the whole package: they wait until typing pauses. */
const PACKAGE_RULE_DELAY_MS = 250;

/**
 * Package-rule findings of each open document from the last full analysis, moved along with the
 * edits made since (their fixes dropped: offsets are only trusted until the next full analysis).
 */
const carried = new Map<string, Finding[]>(); // by uri

/**
 * What is shown for each open document, moved along with the edits since: shown again, marked
 * stale, while a keystroke's reparse runs out of its budget (heavy error recovery).
 */
const shown = new Map<string, Finding[]>(); // by uri
/** Open documents whose diagnostics are from before their last edits, until a reparse finishes. */
const staleUris = new Set<string>();

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

/** Findings moved along the edits since they were computed; those an edit touched wait for the next analysis. */
function shiftFindings(findings: Finding[], changes: readonly TextChange[], path: string): Finding[] {
  let out = findings;
  for (const c of changes) out = out.filter((f) => !editTouches(f, c)).map((f) => shiftFinding(f, c, path));
  return out;
}

/** Whether the configuration excludes a file (only files inside the config's root can be). */
function excluded(root: string, p: string, config: RacelensConfig): boolean {
  const rel = host.relative(root, p);
  return rel !== undefined && isExcluded(rel, config);
}

/** The findings as the configuration rooted at `root` shows them (engine/finalize.ts). */
function finalized(findings: readonly Finding[], config: RacelensConfig, root: string): Finding[] {
  return finalize(findings, config, (p) => host.relative(root, p));
}

async function analyzeEdited(uri: string): Promise<void> {
  if (!workspace?.document(uri) || !settings.enable) return;
  const dir = workspace.dirOf(uri);
  const { config, root } = await configs.forDir(dir);
  const doc = workspace.document(uri);
  if (!doc || excluded(root, doc.file.path, config)) return;
  const only = new Set([doc.file.path]);
  const result = await workspace.analyzeDir(dir, enabledRules(fileRules, config), { only, parseBudgetMs: settings.reparseBudgetMs });
  if (!result) return;
  if (result.stale.includes(doc.file)) {
    publishStale(uri);
    return; // the package pass, once typing pauses, finishes the parse
  }
  for (const f of result.failures) connection.console.error(`racelens: rule ${f.ruleId} failed in ${dir}: ${(f.error as Error)?.stack ?? f.error}`);
  const mine = finalized(result.findings, config, root).filter((f) => f.path === doc.file.path);
  const kept = (carried.get(uri) ?? []).map((f) => ({ ...f, range: doc.file.rangeOf(f.start, f.end), related: [], fixes: [] }));
  const files = new Map(result.files.map((f) => [f.path, f]));
  const findings = [...mine, ...kept].sort(compareFindings);
  publish(uri, doc.version, findings, files, new Map([[doc.file.path, doc.version]]), skippedNotice(doc.file));
  sendStatus();
}

/** Every directory analysed so far: what a settings or go.mod change must re-check. */
const knownDirs = new Set<string>();

/** Per directory, the latest analysis started: an older one that finishes later is not published. */
const analysisSeq = new Map<string, number>();

async function analyzeDir(dir: string, transient: boolean): Promise<void> {
  if (!workspace) return;
  knownDirs.add(dir);
  const seq = (analysisSeq.get(dir) ?? 0) + 1;
  analysisSeq.set(dir, seq);
  const { config, root } = await configs.forDir(dir);
  // Outdated once another analysis of the directory is scheduled (an edit schedules one) or started.
  const cancelled = () => analysisSeq.get(dir) !== seq || timers.has(dir);
  const result = settings.enable
    ? await workspace.analyzeDir(dir, enabledRules(allRules, config), { transient, cancelled })
    : { dir, files: workspace.openDocuments().filter((d) => workspace!.dirOf(d.uri) === dir).map((d) => d.file), findings: [], failures: [] };
  if (!result || analysisSeq.get(dir) !== seq) return;
  for (const f of result.failures) connection.console.error(`racelens: rule ${f.ruleId} failed in ${dir}: ${(f.error as Error)?.stack ?? f.error}`);
  const findings = finalized(result.findings, config, root);
  const files = new Map(result.files.map((f) => [f.path, f]));
  const open = workspace.openDocuments().filter((d) => files.has(d.file.path));
  const openVersions = new Map(open.map((d) => [d.file.path, d.version]));
  for (const file of result.files) {
    const uri = workspace.uriOf(file.path);
    const doc = workspace.document(uri);
    const mine = findings.filter((f) => f.path === file.path);
    if (doc) carried.set(uri, mine.filter((f) => packageRuleIds.has(f.ruleId)));
    publish(uri, doc?.version, mine, files, openVersions, doc ? skippedNotice(file) : undefined);
  }
  // Files that left the directory (deleted, or closed and never saved) keep no diagnostics.
  for (const uri of [...published.keys()]) {
    if (workspace.dirOf(uri) === dir && !files.has(host.toPath(uri))) {
      published.delete(uri);
      void connection.sendDiagnostics({ uri, diagnostics: [] });
    }
  }
  sendStatus();
}

/** One info diagnostic for an open file racelens does not check: too large, no package clause, or generated. */
function skippedNotice(file: SourceFile): Diagnostic | undefined {
  const reason = file.notChecked ?? (file.isGenerated ? 'a generated file (// Code generated ... DO NOT EDIT.)' : undefined);
  if (!reason) return undefined;
  return {
    range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
    severity: DiagnosticSeverity.Information, source: 'racelens', code: 'skipped',
    message: `racelens does not check this file: ${reason}`,
  };
}

/** The findings shown before, moved along the edits since, as a stale answer for the document's current version. */
function publishStale(uri: string): void {
  const doc = workspace?.document(uri);
  if (!doc) return;
  const file = doc.file;
  const moved = (shown.get(uri) ?? []).map((f) => ({
    ...f,
    range: file.rangeOf(f.start, f.end),
    related: f.related.map((r) => (r.path === file.path ? { ...r, range: file.rangeOf(r.start, r.end) } : r)),
    fixes: [], // offered again once the file is checked
  }));
  publish(uri, doc.version, moved, new Map([[file.path, file]]), new Map([[file.path, doc.version]]));
  staleUris.add(uri);
  sendStatus();
}

function publish(
  uri: string, version: number | undefined, findings: Finding[], files: Map<string, SourceFile>,
  openVersions = new Map<string, number>(), notice?: Diagnostic,
): void {
  const current = workspace?.document(uri);
  if (current && current.version !== version) return; // stale: a newer edit will publish
  staleUris.delete(uri);
  if (current) shown.set(uri, notice ? [] : findings);
  const diagnostics = findings.map((f) => toDiagnostic(f, (p) => workspace!.uriOf(p)));
  if (notice) {
    void connection.sendDiagnostics({ uri, version, diagnostics: [notice] });
    published.delete(uri);
    return;
  }
  if (!diagnostics.length && !published.has(uri) && !current) return; // closed file, nothing new to say
  if (diagnostics.length) published.set(uri, { version, findings, diagnostics, files, openVersions, texts: textsOf(files) });
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
  const status: Status = { state: scanning ? 'scanning' : settings.enable ? 'ready' : 'disabled', errors, warnings, infos, stale: staleUris.size };
  void connection.sendNotification(STATUS, status);
}

/** Analyses every .go file of the workspace folders, a directory at a time, with progress. */
async function scanWorkspace(): Promise<void> {
  await ready;
  if (!settings.enable || !workspaceFolders.length) return;
  scanning = true;
  sendStatus();
  const t0 = Date.now();
  const progress = await connection.window.createWorkDoneProgress().catch(() => undefined);
  const found = await Promise.all(workspaceFolders.map((f) => host.goFilesUnder(f).catch(() => [] as string[])));
  const filesByDir = new Map<string, string[]>();
  for (const f of found.flat()) {
    const dir = host.dirname(f);
    const list = filesByDir.get(dir);
    if (list) list.push(f); else filesByDir.set(dir, [f]);
  }
  const dirs = [...filesByDir.keys()];
  progress?.begin('racelens', 0, `Checking ${dirs.length} packages`, false);
  let done = 0;
  const advance = () => {
    if (++done % 10 === 0) progress?.report(Math.round((100 * done) / dirs.length), `${done}/${dirs.length} packages`);
  };
  const inline = host.analyzeClosedDirs ? dirs.filter((d) => workspace!.hasOpenDocumentIn(d)) : dirs;
  const closed = new Map([...filesByDir].filter(([d]) => !inline.includes(d)));
  await Promise.all([
    (async () => {
      for (const dir of inline) {
        await analyzeDir(dir, true);
        advance();
        await new Promise((r) => setTimeout(r, 0)); // let edits and requests through
      }
    })(),
    analyzeInWorkers(closed, advance),
  ]);
  connection.console.info(`racelens: checked ${counted(dirs.length, 'package')} in ${Date.now() - t0} ms (${host.analyzeClosedDirs ? closed.size : 0} on worker threads)`);
  progress?.done();
  scanning = false;
  sendStatus();
}

/** Closed directories on the host's worker threads, grouped by the rules their config enables. */
async function analyzeInWorkers(dirs: ReadonlyMap<string, readonly string[]>, advance: () => void): Promise<void> {
  if (!dirs.size || !host.analyzeClosedDirs) return;
  const groups = new Map<string, Map<string, readonly string[]>>();
  for (const [dir, files] of dirs) {
    const key = enabledRules(allRules, (await configs.forDir(dir)).config).map((r) => r.id).join(',');
    const group = groups.get(key);
    if (group) group.set(dir, files); else groups.set(key, new Map([[dir, files]]));
  }
  const started = new Map([...dirs.keys()].map((d) => [d, analysisSeq.get(d) ?? 0]));
  const publishClosed = async (r: ClosedDirResult) => {
    advance();
    for (const e of r.errors) connection.console.error(`racelens: ${e}`);
    // Opened or re-analysed since the scan began: that newer result stands.
    if (workspace!.hasOpenDocumentIn(r.dir) || (analysisSeq.get(r.dir) ?? 0) !== started.get(r.dir)) return;
    knownDirs.add(r.dir);
    const { config, root } = await configs.forDir(r.dir);
    const findings = finalized(r.findings, config, root);
    for (const p of r.paths) {
      publish(workspace!.uriOf(p), undefined, findings.filter((f) => f.path === p), new Map());
    }
    sendStatus();
  };
  for (const [key, group] of groups) {
    await host.analyzeClosedDirs(group, key ? key.split(',') : [], (r) => void publishClosed(r)).catch((e: Error) => {
      connection.console.error(`racelens: worker threads failed (${e.message}); checking on the server thread`);
      return Promise.all([...group.keys()].map((d) => analyzeDir(d, true)));
    });
  }
}

let clientHasFolders = false;
let clientHasDocumentChanges = false;

function overlaps(d: Diagnostic, range: { start: { line: number; character: number }; end: { line: number; character: number } }): boolean {
  const before = (a: typeof range.start, b: typeof range.start) => a.line < b.line || (a.line === b.line && a.character < b.character);
  return !before(d.range.end, range.start) && !before(range.end, d.range.start);
}

/** A warning for the user. A notification: nothing waits for it to be dismissed, and a client without message requests is fine. */
function warn(message: string): void {
  void connection.sendNotification(ShowMessageNotification.type, { type: MessageType.Warning, message: `racelens: ${message}` });
}

const warnedRuleIds = new Set<string>();

/** A mistyped rule id in .racelens.json or racelens.rules silently does nothing: say so, once per source and content. */
function warnUnknownRuleIds(source: string, config: RacelensConfig): void {
  const key = `${source}\u0000${JSON.stringify(config.rules ?? {})}`;
  if (warnedRuleIds.has(key)) return;
  warnedRuleIds.add(key);
  const known = allRules.map((r) => r.id);
  for (const id of unknownRuleIds(config, known)) warn(`${source}: ${unknownRuleMessage(id, known)}`);
}

/** Starts the server on a connection; `rules` are the rules to run (tests may add one). */
export function startServer(conn: Connection, serverHost: ServerHost, rules: readonly Rule[]): void {
  connection = conn;
  host = serverHost;
  allRules = rules;
  fileRules = rules.filter((r) => r.scope !== 'package');
  packageRuleIds = new Set(rules.filter((r) => r.scope === 'package').map((r) => r.id));
  // A notification: nothing waits for the user to dismiss it, and a client without message requests is fine.
  configs = new ConfigResolver(settings, async (dir) => {
    const loaded = await host.loadConfig(dir);
    if (loaded.file) warnUnknownRuleIds(loaded.file, loaded.config);
    return loaded;
  }, warn);
  ready = new Promise<unknown>((resolve) => { initialize = resolve; })
    .then((options) => host.initGo(options))
    .then(() => { workspace = new GoWorkspace(newGoParser(), host); });
  ready.catch((e: Error) => connection.console.error(`racelens: could not load the Go grammar: ${e.stack ?? e}`));
  registerHandlers();
  connection.listen();
}

function registerHandlers(): void {
  connection.onInitialize((params): InitializeResult => {
    clientHasFolders = !!params.capabilities.workspace?.workspaceFolders;
    clientHasDocumentChanges = !!params.capabilities.workspace?.workspaceEdit?.documentChanges;
    settings = readSettings(params.initializationOptions, DEFAULT_SETTINGS);
    warnUnknownRuleIds('racelens.rules', { rules: settings.rules });
    initialize(params.initializationOptions);
    configs.update(settings);
    workspaceFolders = (params.workspaceFolders ?? []).map((f) => f.uri).filter((u) => host.inWorkspace(u));
    if (!workspaceFolders.length && params.rootUri && host.inWorkspace(params.rootUri)) workspaceFolders = [params.rootUri];
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
    connection.console.info(`racelens ${version} started in ${host.runsIn}`);
    void connection.client.register(DidChangeWatchedFilesNotification.type, {
      watchers: [{ globPattern: '**/*.go' }, { globPattern: '**/go.mod' }, { globPattern: '**/.racelens.json' }],
    }).catch(() => undefined);
    if (clientHasFolders) {
      connection.workspace.onDidChangeWorkspaceFolders((e) => {
        workspaceFolders = workspaceFolders.filter((f) => !e.removed.some((r) => r.uri === f));
        workspaceFolders.push(...e.added.map((a) => a.uri).filter((u) => host.inWorkspace(u)));
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
      warnUnknownRuleIds('racelens.rules', { rules: settings.rules });
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
    // File rules answer at once; the package-wide pass follows, as typing would have it wait.
    void analyzeEdited(td.uri);
    schedule(workspace!.dirOf(td.uri), settings.run === 'onType' ? Math.max(PACKAGE_RULE_DELAY_MS, settings.debounceMs) : 0);
  });

  connection.onDidChangeTextDocument(async ({ textDocument: td, contentChanges }) => {
    await ready;
    const applied = workspace!.changeDocument(td.uri, td.version, contentChanges as Parameters<GoWorkspace['changeDocument']>[2]);
    if (!applied) return;
    const path = workspace!.document(td.uri)?.file.path;
    if (path) {
      carried.set(td.uri, shiftFindings(carried.get(td.uri) ?? [], applied, path));
      shown.set(td.uri, shiftFindings(shown.get(td.uri) ?? [], applied, path));
    }
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
    shown.delete(td.uri);
    staleUris.delete(td.uri);
    // The editor's version is gone: clear it now. A file that exists on disk gets its diagnostics
    // back from the directory's re-analysis, as every closed file of the workspace does.
    published.delete(td.uri);
    void connection.sendDiagnostics({ uri: td.uri, diagnostics: [] });
    if (host.inWorkspace(td.uri)) schedule(dir, 0);
  });

  connection.onDidChangeWatchedFiles(async ({ changes }) => {
    await ready;
    let everything = false;
    for (const c of changes) {
      const p = host.toPath(c.uri);
      if (p.endsWith('go.mod') || p.endsWith('.racelens.json')) { host.forgetCaches(); configs.clear(); everything = true; continue; }
      workspace!.invalidateDisk(p);
      if (c.type === FileChangeType.Deleted && !workspace!.document(c.uri)) {
        published.delete(c.uri);
        void connection.sendDiagnostics({ uri: c.uri, diagnostics: [] });
      }
      schedule(host.dirname(p), 0);
    }
    if (everything) reanalyzeEverything();
  });

  connection.onCodeAction(async ({ textDocument, range, context }): Promise<CodeAction[]> => {
    await ready;
    const doc = workspace!.document(textDocument.uri);
    const pub = published.get(textDocument.uri);
    const only = context.only;
    const wants = (kind: string) => !only || only.some((k) => kind === k || kind.startsWith(`${k}.`));
    const actions: CodeAction[] = [];
    if (doc && wants(FIX_ALL_KIND) && only) {
      const dir = workspace!.dirOf(textDocument.uri);
      const analysed = await workspace!.analyzeDir(dir, []);
      const texts = new Map((analysed?.files ?? []).map((f) => [f.path, f.text]));
      const { config } = await configs.forDir(dir);
      const goVersion = await host.goVersionFor(dir);
      const parser = newGoParser();
      try {
        const result = await fixAllText(parser, texts, doc.file.path, allRules, config, goVersion);
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
    const dir = workspace!.dirOf(textDocument.uri);
    const { config } = await configs.forDir(dir);
    const goVersion = await host.goVersionFor(dir);
    const pkg = { texts: pub.texts, rules: allRules, config, goVersion };
    for (const [i, f] of pub.findings.entries()) {
      const d = pub.diagnostics[i];
      if (!overlaps(d, range)) continue;
      const versionOf = clientHasDocumentChanges ? (p: string) => pub.openVersions.get(p) ?? null : undefined;
      // A preferred fix is offered as preferred only once it is verified on the package.
      const fixes = await Promise.all(f.fixes.map((fix) => offeredFix(() => (verifyParser ??= newGoParser()), () => pkg, f, fix)));
      actions.push(...quickFixActions({ ...f, fixes }, d, fileOf, (p) => workspace!.uriOf(p), versionOf));
      const file = pub.files.get(f.path);
      // A finding about a suppression comment is not itself suppressed by another comment.
      if (file && !ruleById(f.ruleId)?.checkSuppressions) actions.push(ignoreAction(f, d, file, textDocument.uri));
      actions.push(explainAction(f, d));
    }
    return actions;
  });

  connection.onHover(({ textDocument, position }): Hover | null => {
    const pub = published.get(textDocument.uri);
    if (!pub) return null;
    const hits = pub.diagnostics
      .map((d, i) => ({ d, f: pub.findings[i] }))
      .filter(({ d }) => overlaps(d, { start: position, end: position }));
    if (!hits.length) return null;
    return { contents: { kind: 'markdown', value: hits.map(({ f }) => hoverMarkdown(f)).join('\n\n---\n\n') } };
  });

  connection.onShutdown(() => workspace?.dispose());
}
