// Code actions: each finding's quick-fixes, "Ignore <rule> for this line", "Explain <rule>", and
// the source.fixAll.racelens action used by editor.codeActionsOnSave.
import { CodeActionKind, type CodeAction, type Diagnostic, type TextEdit as LspTextEdit } from 'vscode-languageserver';
import type { Finding } from '../engine/rule';
import type { SourceFile } from '../engine/source-file';
import { toCodeAction } from './convert';

export const FIX_ALL_KIND = `${CodeActionKind.SourceFixAll}.racelens`;
export const EXPLAIN_COMMAND = 'racelens.explainRule';

/** Inserts `//racelens:ignore <rule> <reason>` above the finding's line, at its indentation. */
export function ignoreAction(f: Finding, d: Diagnostic, file: SourceFile, uri: string): CodeAction {
  const line = f.range.start.line;
  const start = file.lines.lineStart(line);
  const indent = /^[ \t]*/.exec(file.text.slice(start, start + 200))![0];
  const edit: LspTextEdit = {
    range: { start: { line, character: 0 }, end: { line, character: 0 } },
    newText: `${indent}//racelens:ignore ${f.ruleId} explain why this is safe\n`,
  };
  return { title: `Ignore ${f.ruleId} for this line`, kind: CodeActionKind.QuickFix, diagnostics: [d], edit: { changes: { [uri]: [edit] } } };
}

export function explainAction(f: Finding, d: Diagnostic): CodeAction {
  return {
    title: `Explain ${f.ruleId}`,
    kind: CodeActionKind.QuickFix,
    diagnostics: [d],
    command: { title: `Explain ${f.ruleId}`, command: EXPLAIN_COMMAND, arguments: [f.ruleId] },
  };
}

export function quickFixActions(
  f: Finding, d: Diagnostic, fileOf: (p: string) => SourceFile | undefined, uriOf: (p: string) => string, versionOf?: (p: string) => number | null,
): CodeAction[] {
  return f.fixes.map((fix) => toCodeAction(fix, d, fileOf, uriOf, versionOf)).filter((a): a is CodeAction => !!a);
}

/** One edit replacing the whole document: the result of the fix-all rounds. */
export function fixAllAction(uri: string, file: SourceFile, after: string, count: number): CodeAction {
  return {
    title: `Fix all racelens problems (${count})`,
    kind: FIX_ALL_KIND,
    edit: { changes: { [uri]: [{ range: file.rangeOf(0, file.text.length), newText: after }] } },
  };
}
