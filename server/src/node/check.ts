// Reads and analyses the Go files of some directories. Shared by the CLI (main thread or workers),
// tests and benchmarks.
import * as fs from 'fs';
import type { Node, Parser } from 'web-tree-sitter';
import { analyze } from '../engine/analyze';
import { groupIntoPackages } from '../engine/package';
import type { Finding, Rule } from '../engine/rule';
import { SourceFile } from '../engine/source-file';
import { skipReason } from '../engine/limits';
import { goVersionFor } from './files';

/**
 * A notice about one file. `skipped`: not analysed (too large, binary, no package clause);
 * `partial`: analysed in part because of syntax errors; `error`: the run was incomplete.
 */
export interface FileError {
  path: string;
  message: string;
  kind: 'error' | 'skipped' | 'partial';
  /** 1-based line and byte column the notice is about, when it is about a place. */
  line?: number;
  column?: number;
}
export interface CheckResult { findings: Finding[]; errors: FileError[]; files: number; packages: number; bytes: number }

/** The files of one directory to analyse together; findings and notices only for `only`, when given. */
export interface Batch { files: string[]; only?: string[] }

export function emptyResult(): CheckResult {
  return { findings: [], errors: [], files: 0, packages: 0, bytes: 0 };
}

export function readGoFile(file: string): { text?: string; error?: string; kind?: FileError['kind'] } {
  let buf: Buffer;
  try {
    const st = fs.statSync(file);
    const tooLarge = skipReason(st.size, false);
    if (tooLarge) return { kind: 'skipped', error: tooLarge };
    buf = fs.readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return { kind: 'error', error: code === 'EACCES' ? 'permission denied' : code === 'ENOENT' ? 'no such file' : (e as Error).message };
  }
  const binary = skipReason(buf.length, buf.includes(0));
  if (binary) return { kind: 'skipped', error: binary };
  return { text: buf.toString('utf8') };
}

/** The first ERROR or MISSING node under a tree that has errors. */
function firstSyntaxError(root: Node): Node | undefined {
  let node = root;
  for (;;) {
    if (node.isError || node.isMissing) return node;
    const next = node.children.find((c) => c && (c.hasError || c.isMissing));
    if (!next) return node === root ? undefined : node;
    node = next;
  }
}

/** A notice for a file with syntax errors, at the first one (byte column, as Go tools count). */
function syntaxNotice(source: SourceFile): FileError | undefined {
  if (!source.root.hasError) return undefined;
  const at = firstSyntaxError(source.root) ?? source.root;
  const pos = source.positionAt(at.startIndex);
  const lineStart = source.lines.lineStart(pos.line);
  return {
    path: source.path, kind: 'partial', line: pos.line + 1,
    column: Buffer.byteLength(source.text.slice(lineStart, at.startIndex)) + 1,
    message: 'syntax error; checked in part, and --fix leaves the file alone',
  };
}

/**
 * Analyses a batch of .go files, grouped into packages by directory and package clause. With
 * `only`, the other files are context: their package is analysed, but nothing about them is said.
 */
export function checkFiles(parser: Parser, batch: Batch, rules: readonly Rule[], overlay?: ReadonlyMap<string, string>): CheckResult {
  const result = emptyResult();
  const only = batch.only && new Set(batch.only);
  const reported = (p: string) => !only || only.has(p);
  const parsed: SourceFile[] = [];
  for (const file of batch.files) {
    const { text, error, kind } = overlay?.has(file) ? { text: overlay.get(file) } : readGoFile(file);
    if (text === undefined) {
      if (reported(file)) result.errors.push({ path: file, message: error ?? 'unreadable', kind: kind ?? 'error' });
      continue;
    }
    const source = SourceFile.parse(parser, file, text);
    parsed.push(source);
    result.bytes += text.length;
    if (!reported(file)) continue;
    result.files++;
    // A file with no package clause belongs to no package: say so rather than pass it in silence.
    if (!source.skipped && source.notChecked) result.errors.push({ path: file, message: `skipped: ${source.notChecked}`, kind: 'skipped' });
    else if (source.skipped) result.errors.push({ path: file, message: `skipped: ${source.skipped}`, kind: 'skipped' });
    else {
      const notice = syntaxNotice(source);
      if (notice) result.errors.push(notice);
    }
  }
  try {
    for (const pkg of groupIntoPackages(parsed, goVersionFor)) {
      if (only && !pkg.files.some((f) => only.has(f.path))) continue;
      const { findings, failures } = analyze(pkg, rules, only ? { only } : {});
      result.packages++;
      result.findings.push(...findings);
      for (const f of failures) {
        result.errors.push({ path: pkg.dir, kind: 'error', message: `internal error in rule ${f.ruleId}: ${(f.error as Error)?.stack ?? f.error}` });
      }
    }
  } finally {
    for (const f of parsed) f.dispose();
  }
  return result;
}
