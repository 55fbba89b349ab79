// The server's view of Go files: open documents (incrementally edited) plus the other files of
// their packages read from disk. Knows nothing of the LSP connection.
import * as fs from 'fs';
import * as path from 'path';
import { fileURLToPath, pathToFileURL } from 'url';
import type { Parser } from 'web-tree-sitter';
import { analyze, type AnalysisResult } from '../engine/analyze';
import { Package } from '../engine/package';
import type { Rule } from '../engine/rule';
import { SourceFile, type TextChange } from '../engine/source-file';
import type { Position } from '../engine/text';
import { readGoFile } from '../node/check';
import { goVersionFor } from '../node/files';

export interface OpenDocument { uri: string; version: number; file: SourceFile }
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
  changeDocument(uri: string, version: number, changes: readonly RangeChange[]): OpenDocument | undefined {
    const doc = this.open.get(uriToPath(uri));
    if (!doc) return undefined;
    for (const ch of changes) {
      const file = doc.file;
      const change: TextChange = ch.range
        ? { start: file.lines.offsetAt(ch.range.start), end: file.lines.offsetAt(ch.range.end), text: ch.text }
        : { start: 0, end: file.text.length, text: ch.text };
      file.edit([change]);
    }
    doc.version = version;
    return doc;
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

  /** The package of an open document: its open siblings plus the rest of the directory on disk. */
  packageOf(uri: string): Package | undefined {
    const doc = this.document(uri);
    if (!doc) return undefined;
    doc.file.reparse(this.parser);
    const name = doc.file.packageName;
    if (!uri.startsWith('file:')) return new Package(path.dirname(doc.file.path), name ?? '', [doc.file]);
    const dir = path.dirname(doc.file.path);
    const files: SourceFile[] = [];
    let names: string[] = [];
    try { names = fs.readdirSync(dir).filter((n) => n.endsWith('.go')); } catch { /* directory gone: open files only */ }
    const paths = new Set([...names.map((n) => path.join(dir, n)), ...[...this.open.keys()].filter((p) => path.dirname(p) === dir)]);
    for (const p of [...paths].sort()) {
      const open = this.open.get(p);
      if (open) open.file.reparse(this.parser);
      const file = open?.file ?? this.diskFile(p);
      if (file && file.packageName === name) files.push(file);
    }
    return new Package(dir, name ?? '', files, goVersionFor(dir));
  }

  analyzePackage(uri: string, rules: readonly Rule[]): { pkg: Package; result: AnalysisResult } | undefined {
    const pkg = this.packageOf(uri);
    return pkg && { pkg, result: analyze(pkg, rules) };
  }

  dispose(): void {
    for (const d of this.open.values()) d.file.dispose();
    for (const d of this.disk.values()) d.file.dispose();
    this.open.clear();
    this.disk.clear();
  }
}
