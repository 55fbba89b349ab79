// Reads and analyses the Go files of some directories. Shared by the CLI (main thread or workers),
// tests and benchmarks.
import * as fs from 'fs';
import * as path from 'path';
import type { Parser } from 'web-tree-sitter';
import { analyze } from '../engine/analyze';
import { groupIntoPackages } from '../engine/package';
import type { Finding, Rule } from '../engine/rule';
import { SourceFile } from '../engine/source-file';
import { skipReason } from '../engine/limits';
import { goVersionFor } from './files';

/** `skipped` files are reported but are not failures; `error` means the run was incomplete. */
export interface FileError { path: string; message: string; kind: 'error' | 'skipped' }
export interface CheckResult { findings: Finding[]; errors: FileError[]; files: number; bytes: number }


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

/** Analyses the given .go files, grouped into packages by directory and package clause. */
export function checkFiles(parser: Parser, files: readonly string[], rules: readonly Rule[], overlay?: ReadonlyMap<string, string>): CheckResult {
  const result: CheckResult = { findings: [], errors: [], files: 0, bytes: 0 };
  const parsed: SourceFile[] = [];
  for (const file of files) {
    const { text, error, kind } = overlay?.has(file) ? { text: overlay.get(file) } : readGoFile(file);
    if (text === undefined) {
      result.errors.push({ path: file, message: error ?? 'unreadable', kind: kind ?? 'error' });
      continue;
    }
    const source = SourceFile.parse(parser, file, text);
    parsed.push(source);
    // A file with no package clause belongs to no package: say so rather than pass it in silence.
    if (!source.skipped && source.notChecked) result.errors.push({ path: file, message: `skipped: ${source.notChecked}`, kind: 'skipped' });
    result.files++;
    result.bytes += text.length;
  }
  try {
    for (const pkg of groupIntoPackages(parsed, goVersionFor)) {
      const { findings, failures } = analyze(pkg, rules);
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

/** Groups files by directory, largest first, so workers can balance the load. */
export function batchesByDirectory(files: readonly string[]): string[][] {
  const byDir = new Map<string, string[]>();
  for (const f of files) {
    const d = path.dirname(f);
    const list = byDir.get(d);
    if (list) list.push(f); else byDir.set(d, [f]);
  }
  return [...byDir.values()].sort((a, b) => b.length - a.length);
}
