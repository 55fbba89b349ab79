// The server's view of Go files: open documents (incrementally edited) plus the other files of
// their packages read from disk. Knows nothing of the LSP connection.
import * as fs from 'fs';
import * as path from 'path';
import { fileURLToPath, pathToFileURL } from 'url';
import type { Parser } from 'web-tree-sitter';
import { analyze, type RuleFailure } from '../engine/analyze';
import { groupIntoPackages, Package } from '../engine/package';
import type { Finding, Rule } from '../engine/rule';
import { SourceFile, type TextChange } from '../engine/source-file';
import type { Position } from '../engine/text';
import { readGoFile } from '../node/check';
import { goVersionFor } from '../node/files';

export interface OpenDocument { uri: string; version: number; file: SourceFile }

export interface DirAnalysis {
  dir: string;
  files: SourceFile[];
  findings: Finding[];
  failures: RuleFailure[];
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
export interface RangeChange { range?: { start: Position; end: Position }; text: string }

export function uriToPath(uri: string): string {
  return uri.startsWith('file:') ? fileURLToPath(uri) : uri;
}

interface DiskEntry { mtimeMs: number; size: number; file: SourceFile }

export class GoWorkspace {
  private readonly open = new Map<string, OpenDocument>(); // by path
  private readonly disk = new Map<string, DiskEntry>();

  constructor(private readonly parser: Parser) {}

  openDocument(uri: string, version: number, text: string): OpenDocument {
    const p = uriToPath(uri);
    this.open.get(p)?.file.dispose();
    const doc = { uri, version, file: SourceFile.parse(this.parser, p, text) };
    this.open.set(p, doc);
    return doc;
  }

  /** Applies LSP content changes as tree edits; the reparse happens when the package is analysed. */
  /** Returns the changes as offsets (each relative to the text after the previous one). */
  changeDocument(uri: string, version: number, changes: readonly RangeChange[]): TextChange[] | undefined {
    const doc = this.open.get(uriToPath(uri));
    if (!doc) return undefined;
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
    const p = uriToPath(uri);
    this.open.get(p)?.file.dispose();
    this.open.delete(p);
  }

  document(uri: string): OpenDocument | undefined { return this.open.get(uriToPath(uri)); }
  openDocuments(): OpenDocument[] { return [...this.open.values()]; }

  uriOf(p: string): string { return this.open.get(p)?.uri ?? (path.isAbsolute(p) ? pathToFileURL(p).href : p); }

  /** Forgets a cached disk file (watched-file events). */
  invalidateDisk(p: string): void {
    this.disk.get(p)?.file.dispose();
    this.disk.delete(p);
  }

  private diskFile(p: string): SourceFile | undefined {
    let st: fs.Stats;
    try { st = fs.statSync(p); } catch { this.invalidateDisk(p); return undefined; }
    const cached = this.disk.get(p);
    if (cached && cached.mtimeMs === st.mtimeMs && cached.size === st.size) return cached.file;
    this.invalidateDisk(p);
    const { text } = readGoFile(p);
    if (text === undefined) return undefined;
    const file = SourceFile.parse(this.parser, p, text);
    this.disk.set(p, { mtimeMs: st.mtimeMs, size: st.size, file });
    return file;
  }

  /** The directory whose packages an open document belongs to (its own key for untitled ones). */
  dirOf(uri: string): string {
    const p = uriToPath(uri);
    return uri.startsWith('file:') ? path.dirname(p) : p;
  }

  /**
   * Analyses every package of a directory: open documents as edited, the rest from disk. With
   * `transient`, trees of closed files are freed afterwards (workspace scans keep no trees).
   */
  analyzeDir(dir: string, rules: readonly Rule[], transient = false, only?: ReadonlySet<string>): DirAnalysis {
    const untitled = this.open.get(dir);
    if (untitled) {
      untitled.file.reparse(this.parser);
      const pkg = new Package(dir, untitled.file.packageName ?? '', [untitled.file]);
      return { dir, files: [untitled.file], ...collect([pkg], rules) };
    }
    let names: string[] = [];
    try { names = fs.readdirSync(dir).filter((n) => n.endsWith('.go')); } catch { /* gone: open files only */ }
    const paths = new Set([...names.map((n) => path.join(dir, n)), ...[...this.open.keys()].filter((p) => path.dirname(p) === dir)]);
    const files: SourceFile[] = [];
    const closed: string[] = [];
    for (const p of [...paths].sort()) {
      const open = this.open.get(p);
      if (open) open.file.reparse(this.parser);
      else closed.push(p);
      const file = open?.file ?? this.diskFile(p);
      if (file && (open || !file.skipped)) files.push(file);
    }
    try {
      return { dir, files, ...collect(groupIntoPackages(files, goVersionFor), rules, only) };
    } finally {
      if (transient && ![...this.open.keys()].some((p) => path.dirname(p) === dir)) for (const p of closed) this.invalidateDisk(p);
    }
  }

  dispose(): void {
    for (const d of this.open.values()) d.file.dispose();
    for (const d of this.disk.values()) d.file.dispose();
    this.open.clear();
    this.disk.clear();
  }
}
