// The server's view of Go files: open documents (incrementally edited) plus the other files of
// their packages, read through the host. Knows nothing of the LSP connection.
import type { Parser } from 'web-tree-sitter';
import { analyze, analyzeInSteps, type RuleFailure } from '../engine/analyze';
import { groupIntoPackages, Package } from '../engine/package';
import { tooLarge } from '../engine/limits';
import { timeBudget, type ParseBudget } from '../engine/parse-budget';
import { newGoParser } from '../engine/parser';
import type { Finding, Rule } from '../engine/rule';
import { SourceFile, type TextChange } from '../engine/source-file';
import type { Position } from '../engine/text';
import type { ServerHost } from './host';

export interface OpenDocument { uri: string; version: number; file: SourceFile }

export interface DirAnalysis {
  dir: string;
  files: SourceFile[];
  findings: Finding[];
  failures: RuleFailure[];
  /** Open documents not reparsed within the budget: not analysed, their findings are not in `findings`. */
  stale: SourceFile[];
}

export interface AnalyzeDirOptions {
  /** Free the trees of closed files afterwards (workspace scans keep no trees). */
  transient?: boolean;
  /** Report only on these paths (per keystroke); closed files already read are trusted as they are. */
  only?: ReadonlySet<string>;
  /** Bounds the reparses of open documents (per keystroke), from when they start; one that runs out is left stale. */
  parseBudgetMs?: number;
  /**
   * Makes the analysis pause between steps (parse slices, packages, rules) so that keystrokes get
   * through; polled after each pause, true stops the analysis, which then resolves undefined.
   */
  cancelled?: () => boolean;
}

function collect(pkgs: Package[], rules: readonly Rule[], only?: ReadonlySet<string>): { findings: Finding[]; failures: RuleFailure[] } {
  const findings: Finding[] = [];
  const failures: RuleFailure[] = [];
  for (const pkg of pkgs) {
    if (only && !pkg.files.some((f) => only.has(f.path))) continue;
    const r = analyze(pkg, rules, { only });
    findings.push(...r.findings);
    failures.push(...r.failures);
  }
  return { findings, failures };
}

/** Lets queued events (keystrokes, requests) run; a web worker has no setImmediate. */
const pause = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/** How long a background reparse holds the thread before it pauses. */
const SLICE_MS = 8;
export interface RangeChange { range?: { start: Position; end: Position }; text: string }

interface DiskEntry { mtime: number; size: number; file: SourceFile }

export class GoWorkspace {
  private readonly open = new Map<string, OpenDocument>(); // by path
  private readonly disk = new Map<string, DiskEntry>();
  /** The .go files of each directory at its last full analysis. */
  private readonly listings = new Map<string, string[]>();

  constructor(private readonly parser: Parser, readonly host: ServerHost) {}

  openDocument(uri: string, version: number, text: string): OpenDocument {
    const p = this.host.toPath(uri);
    this.changed(p);
    this.open.get(p)?.file.dispose();
    const doc = { uri, version, file: SourceFile.parse(this.parser, p, text) };
    this.open.set(p, doc);
    return doc;
  }

  /**
   * Applies LSP content changes as tree edits; the reparse happens when the package is analysed.
   * Returns the changes as offsets (each relative to the text after the previous one).
   */
  changeDocument(uri: string, version: number, changes: readonly RangeChange[]): TextChange[] | undefined {
    const doc = this.open.get(this.host.toPath(uri));
    if (!doc) return undefined;
    this.changed(doc.file.path);
    const applied: TextChange[] = [];
    for (const ch of changes) {
      const file = doc.file;
      const change: TextChange = ch.range
        ? { start: file.lines.offsetAt(ch.range.start), end: file.lines.offsetAt(ch.range.end), text: ch.text }
        : { start: 0, end: file.text.length, text: ch.text };
      file.edit([change]);
      applied.push(change);
    }
    doc.version = version;
    return applied;
  }

  closeDocument(uri: string): void {
    const p = this.host.toPath(uri);
    this.changed(p);
    this.open.get(p)?.file.dispose();
    this.open.delete(p);
  }

  document(uri: string): OpenDocument | undefined { return this.open.get(this.host.toPath(uri)); }
  openDocuments(): OpenDocument[] { return [...this.open.values()]; }
  hasOpenDocumentIn(dir: string): boolean { return this.openPathsIn(dir).length > 0; }
  private openPathsIn(dir: string): string[] { return [...this.open.keys()].filter((p) => this.host.dirname(p) === dir); }

  uriOf(p: string): string { return this.open.get(p)?.uri ?? this.host.toUri(p); }

  /** Forgets a cached disk file and its directory's listing (watched-file events). */
  invalidateDisk(p: string): void {
    this.dropDiskEntry(p);
    this.listings.delete(this.host.dirname(p));
  }

  private dropDiskEntry(p: string): void {
    const entry = this.disk.get(p);
    if (!entry) return;
    this.changed(p); // a paused analysis may hold its tree
    entry.file.dispose();
    this.disk.delete(p);
  }

  /** The text of a closed file, from the cache when its size and mtime are unchanged. */
  private async diskText(p: string): Promise<{ text: string; mtime: number; size: number } | DiskEntry | undefined> {
    const st = await this.host.stat(p);
    if (!st) return undefined;
    const cached = this.disk.get(p);
    if (cached && cached.mtime === st.mtime && cached.size === st.size) return cached;
    if (tooLarge(st.size)) return undefined;
    const { text } = await this.host.readGoFile(p);
    return text === undefined ? undefined : { text, ...st };
  }

  private diskFile(p: string, read: Awaited<ReturnType<GoWorkspace['diskText']>>): SourceFile | undefined {
    // While this analysis waited, a watched-file event or another analysis may have replaced the
    // cached entry it was given and freed its tree: the entry cached now is the newer one.
    const cached = this.disk.get(p);
    if (read && 'file' in read) {
      if (cached) return cached.file;
      read = { text: read.file.text, mtime: read.mtime, size: read.size };
    }
    this.dropDiskEntry(p);
    if (!read) return undefined;
    const file = SourceFile.parse(this.parser, p, read.text);
    this.disk.set(p, { mtime: read.mtime, size: read.size, file });
    return file;
  }

  /** The directory whose packages an open document belongs to (its own key for untitled ones). */
  dirOf(uri: string): string {
    return this.host.inWorkspace(uri) ? this.host.dirname(this.host.toPath(uri)) : this.host.toPath(uri);
  }

  /**
   * Analyses every package of a directory: open documents as edited, the rest read through the
   * host. Reading is asynchronous; parsing and analysis then run in one synchronous step, so the
   * open documents are taken as they are at that moment, unless `cancelled` is given: then the
   * analysis pauses between steps, and stops as soon as anything in the directory changed.
   */
  async analyzeDir(dir: string, rules: readonly Rule[], options: AnalyzeDirOptions = {}): Promise<DirAnalysis | undefined> {
    const { transient, only, cancelled, parseBudgetMs } = options;
    const budget = () => (parseBudgetMs === undefined ? undefined : timeBudget(parseBudgetMs));
    if (this.open.has(dir)) return this.analyzeUntitled(dir, rules, budget());
    const listed = only && this.listings.get(dir);
    const onDisk = listed || await this.host.goFilesIn(dir);
    if (!only) this.listings.set(dir, onDisk);
    const goVersion = await this.host.goVersionFor(dir);
    const read = async (p: string) => (only && this.disk.get(p)) || this.diskText(p);
    const reads = new Map<string, Awaited<ReturnType<typeof read>>>();
    // A document closed while reading needs reading from disk too: read until none is missing.
    for (let round = 0; round < 3; round++) {
      const missing = onDisk.filter((p) => !this.open.has(p) && !reads.has(p));
      if (!missing.length) break;
      for (const [p, r] of await Promise.all(missing.map(async (p) => [p, await read(p)] as const))) reads.set(p, r);
    }
    if (cancelled && !(await this.parseClosedFiles(onDisk, reads, cancelled) && await this.finishParsesIn(dir, cancelled))) {
      if (transient && !this.hasOpenDocumentIn(dir)) for (const p of onDisk) this.dropDiskEntry(p);
      return undefined;
    }
    if (this.open.has(dir)) return this.analyzeUntitled(dir, rules, budget());
    // From here on, synchronous until the rules run: no edit can interleave. A document closed
    // after the last read is left out; its close schedules another analysis.
    const paths = new Set([...onDisk, ...this.openPathsIn(dir)]);
    const files: SourceFile[] = [];
    const stale: SourceFile[] = [];
    const closed: string[] = [];
    const parseBudget = budget();
    for (const p of [...paths].sort()) {
      const open = this.open.get(p);
      if (open && !open.file.reparse(this.parser, parseBudget)) stale.push(open.file);
      if (!open) closed.push(p);
      const file = open?.file ?? this.diskFile(p, reads.get(p));
      if (file && (open || !file.skipped)) files.push(file);
    }
    try {
      // A stale file's tree is not its text's: it is neither analysed nor context for the others.
      const pkgs = groupIntoPackages(stale.length ? files.filter((f) => !stale.includes(f)) : files, () => goVersion);
      const found = cancelled ? await this.collectInSteps(dir, pkgs, rules, cancelled) : collect(pkgs, rules, only);
      return found && { dir, files, stale, ...found };
    } finally {
      if (transient && !this.hasOpenDocumentIn(dir)) for (const p of closed) this.dropDiskEntry(p);
    }
  }

  /**
   * Parses the closed files read, pausing every few milliseconds; false when `cancelled` said to
   * stop. Parsed files go into the cache and `reads`, where the synchronous part takes them.
   */
  private async parseClosedFiles(paths: readonly string[], reads: Map<string, Awaited<ReturnType<GoWorkspace['diskText']>>>, cancelled: () => boolean): Promise<boolean> {
    let sliceEnd = performance.now() + SLICE_MS;
    for (const p of paths) {
      const read = reads.get(p);
      if (!read || 'file' in read || this.open.has(p)) continue;
      const file = this.diskFile(p, read);
      const entry = this.disk.get(p);
      if (file && entry?.file === file) reads.set(p, entry);
      if (performance.now() < sliceEnd) continue;
      await pause();
      if (cancelled()) return false;
      sliceEnd = performance.now() + SLICE_MS;
    }
    return true;
  }

  /**
   * Reparses the directory's stale open documents in slices, pausing between them; false when
   * `cancelled` said to stop. One document at a time: the slice parser holds a stopped parse.
   */
  private async finishParsesIn(dir: string, cancelled: () => boolean): Promise<boolean> {
    for (const p of this.openPathsIn(dir)) {
      const file = this.open.get(p)?.file;
      if (!file?.stale) continue;
      const previous = this.slicing;
      let done!: () => void;
      this.slicing = new Promise<void>((resolve) => { done = resolve; });
      try {
        await previous;
        if (cancelled()) return false;
        this.sliceParser ??= newGoParser();
        if (!await file.reparseInSlices(this.sliceParser, SLICE_MS, pause, cancelled)) return false;
      } finally {
        done();
      }
    }
    return true;
  }

  private sliceParser?: Parser;
  /** Settles when the slice parser is free. */
  private slicing: Promise<void> = Promise.resolve();

  /**
   * Every package, pausing after each rule; undefined as soon as `cancelled` says so or anything
   * in the directory changed (an edit changes the trees the rules look at).
   */
  private async collectInSteps(dir: string, pkgs: Package[], rules: readonly Rule[], cancelled: () => boolean): Promise<Omit<DirAnalysis, 'dir' | 'files' | 'stale'> | undefined> {
    const mark = this.changesIn(dir);
    const keepGoing = async () => {
      await pause();
      return !cancelled() && this.changesIn(dir) === mark;
    };
    const findings: Finding[] = [];
    const failures: RuleFailure[] = [];
    for (const pkg of pkgs) {
      const r = await analyzeInSteps(pkg, rules, keepGoing);
      if (!r) return undefined;
      findings.push(...r.findings);
      failures.push(...r.failures);
    }
    return { findings, failures };
  }

  /** Counts what changed the directory's documents or cached trees: edits, opens, closes, files changed on disk. */
  private readonly changes = new Map<string, number>();
  private changesIn(dir: string): number { return this.changes.get(dir) ?? 0; }
  private changed(p: string): void {
    const dir = this.host.dirname(p);
    this.changes.set(dir, this.changesIn(dir) + 1);
  }

  /** An untitled document is a package of its own. */
  private analyzeUntitled(key: string, rules: readonly Rule[], budget?: ParseBudget): DirAnalysis {
    const file = this.open.get(key)!.file;
    if (!file.reparse(this.parser, budget)) return { dir: key, files: [file], findings: [], failures: [], stale: [file] };
    const pkg = new Package(key, file.packageName ?? '', [file]);
    return { dir: key, files: [file], stale: [], ...collect([pkg], rules) };
  }

  dispose(): void {
    for (const d of this.open.values()) d.file.dispose();
    for (const d of this.disk.values()) d.file.dispose();
    this.sliceParser?.delete();
    this.open.clear();
    this.disk.clear();
  }
}
