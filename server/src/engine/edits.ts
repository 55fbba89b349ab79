// Edit builders shared by fixes: delete a statement cleanly, drop an import that became unused.
import type { Node } from 'web-tree-sitter';
import { query } from './parser';
import { isLocallyDeclared } from './scope';
import type { Fix } from './rule';
import type { SourceFile } from './source-file';
import type { TextEdit } from './text';

const PACKAGE_REFS = `[
  (selector_expression operand: (identifier) @ref)
  (qualified_type package: (package_identifier) @ref)
]`;

/** Widens [start, end) to whole lines when nothing else stands on them. */
export function wholeLines(text: string, start: number, end: number): { start: number; end: number } {
  let s = start;
  while (s > 0 && (text[s - 1] === ' ' || text[s - 1] === '\t')) s--;
  let e = end;
  while (e < text.length && (text[e] === ' ' || text[e] === '\t' || text[e] === '\r')) e++;
  const aloneBefore = s === 0 || text[s - 1] === '\n';
  const aloneAfter = e === text.length || text[e] === '\n';
  if (!aloneBefore || !aloneAfter) return { start, end };
  e = e < text.length ? e + 1 : e;
  // Removing a line between two blank lines would leave a double blank line that gofmt rejects.
  const before = text.slice(Math.max(0, s - 64), s);
  const blankOrOpenBefore = /(\n[ \t]*\r?\n|[{(][ \t]*\r?\n)$/.test(before) || s === 0;
  const blankAfter = /^[ \t]*\r?\n/.test(text.slice(e, e + 64));
  if (blankAfter && blankOrOpenBefore) e = text.indexOf('\n', e) + 1;
  return { start: s, end: e };
}

/** Deletes a statement; a trailing comment on its line stays, so no user text is lost. */
export function deleteStatement(file: SourceFile, stmt: Node): TextEdit {
  const text = file.text;
  const span = wholeLines(text, stmt.startIndex, stmt.endIndex);
  if (span.start !== stmt.startIndex || span.end !== stmt.endIndex) return { ...span, newText: '' };
  let end = stmt.endIndex;
  while (end < text.length && (text[end] === ' ' || text[end] === '\t')) end++;
  if (text[end] === ';') {
    end++;
    while (end < text.length && (text[end] === ' ' || text[end] === '\t')) end++;
  }
  return { start: stmt.startIndex, end, newText: '' };
}

function inside(edits: readonly TextEdit[], offset: number): boolean {
  return edits.some((e) => offset >= e.start && offset < e.end);
}

/**
 * After `edits` remove code, the edit that deletes the import of `path` if nothing else uses it.
 * Returns null when the import is still used, or when racelens cannot tell (dot imports):
 * a caller must then not offer a fix that could leave an unused import.
 */
export function removeImportIfUnused(file: SourceFile, path: string, edits: readonly TextEdit[]): { edit?: TextEdit; ok: boolean } {
  const spec = file.importOf(path);
  if (!spec || spec.dot) return { ok: false };
  for (const c of query(PACKAGE_REFS).captures(file.root)) {
    if (c.node.text !== spec.local || inside(edits, c.node.startIndex)) continue;
    // A selector on a local that shadows the package is not a use of the import.
    if (c.node.type === 'identifier' && isLocallyDeclared(c.node, spec.local)) continue;
    return { ok: true };
  }
  const list = spec.node.parent;
  const decl = list?.type === 'import_spec_list' ? list.parent : list;
  const siblings = list?.type === 'import_spec_list' ? list.namedChildren.filter((n) => n?.type === 'import_spec') : [];
  const target = siblings.length > 1 ? spec.node : decl ?? spec.node;
  const span = wholeLines(file.text, target.startIndex, target.endIndex);
  return { ok: true, edit: { ...span, newText: '' } };
}

/**
 * "Remove <call>": deletes a call used as a statement, and its import when that was the last use.
 * No fix when the call's value is used or the import's other uses cannot be counted.
 */
export function removeCallFix(file: SourceFile, call: Node, importPath: string, label: string): Fix[] {
  const stmt = call.parent;
  if (stmt?.type !== 'expression_statement') return [];
  const del = deleteStatement(file, stmt);
  const imp = removeImportIfUnused(file, importPath, [del]);
  if (!imp.ok) return [];
  const edits = [del, ...(imp.edit ? [imp.edit] : [])].map((e) => ({ ...e, path: file.path }));
  return [{ title: `Remove ${label}`, edits, isPreferred: true }];
}

/**
 * The name to use for package `path` in `file`, and the edit that imports it when missing:
 * inserted in sorted position in the first import group, so the file stays gofmt-clean.
 */
export function ensureImport(file: SourceFile, path: string): { name: string; edit?: TextEdit } {
  const existing = file.importOf(path);
  if (existing && !existing.dot) return { name: existing.local };
  const name = path.split('/').pop()!;
  const line = `"${path}"`;
  const decls = file.root.namedChildren.filter((n): n is Node => n?.type === 'import_declaration');
  const block = decls.map((d) => d.namedChildren.find((c) => c?.type === 'import_spec_list')).find((l): l is Node => !!l);
  if (block) {
    const specs = block.namedChildren.filter((n): n is Node => n?.type === 'import_spec');
    // The first group: specs up to the first blank line.
    const group: Node[] = [];
    for (const s of specs) {
      if (group.length && /\n[ \t]*\r?\n/.test(file.text.slice(group[group.length - 1].endIndex, s.startIndex))) break;
      group.push(s);
    }
    const pathOf = (s: Node) => s.childForFieldName('path')?.text.slice(1, -1) ?? '';
    const after = group.find((s) => pathOf(s) > path);
    if (after) {
      const at = file.lines.lineStart(file.positionAt(after.startIndex).line);
      const indent = file.text.slice(at, after.startIndex);
      return { name, edit: { start: at, end: at, newText: `${indent}${line}\n` } };
    }
    const last = group[group.length - 1] ?? null;
    if (last) {
      const indent = file.text.slice(file.lines.lineStart(file.positionAt(last.startIndex).line), last.startIndex);
      const eol = file.text.indexOf('\n', last.endIndex);
      const at = eol === -1 ? file.text.length : eol + 1;
      return { name, edit: { start: at, end: at, newText: `${indent}${line}\n` } };
    }
  }
  if (decls.length === 1) {
    // `import "net/http"` becomes a group, sorted, as goimports would write it.
    const spec = decls[0].namedChildren.find((n) => n?.type === 'import_spec');
    if (spec) {
      const existingPath = spec.childForFieldName('path')?.text.slice(1, -1) ?? '';
      const lines = [file.textOf(spec), line].sort((a, b) => ((a === line ? path : existingPath) < (b === line ? path : existingPath) ? -1 : 1));
      return { name, edit: { start: decls[0].startIndex, end: decls[0].endIndex, newText: `import (\n${lines.map((l) => `\t${l}`).join('\n')}\n)` } };
    }
  }
  const anchor = decls[decls.length - 1] ?? file.root.namedChildren.find((n) => n?.type === 'package_clause');
  if (!anchor) return { name };
  const prefix = anchor.type === 'package_clause' ? '\n\n' : '\n';
  return { name, edit: { start: anchor.endIndex, end: anchor.endIndex, newText: `${prefix}import ${line}` } };
}
