// Engine findings and fixes → LSP diagnostics and code actions.
import { CodeActionKind, DiagnosticSeverity, type CodeAction, type Diagnostic, type TextEdit } from 'vscode-languageserver';
import type { Finding, Fix } from '../engine/rule';
import type { SourceFile } from '../engine/source-file';
import { docsUrl } from '../rules';

const SEVERITY = { error: DiagnosticSeverity.Error, warning: DiagnosticSeverity.Warning, info: DiagnosticSeverity.Information };

export function toDiagnostic(f: Finding, uriOf: (path: string) => string): Diagnostic {
  return {
    range: f.range,
    severity: SEVERITY[f.severity],
    code: f.ruleId,
    codeDescription: { href: docsUrl(f.ruleId) },
    source: 'racelens',
    message: f.message,
    relatedInformation: f.related.length
      ? f.related.map((r) => ({ location: { uri: uriOf(r.path), range: r.range }, message: r.message }))
      : undefined,
  };
}

export function toCodeAction(fix: Fix, diagnostic: Diagnostic, fileOf: (path: string) => SourceFile | undefined, uriOf: (path: string) => string): CodeAction | undefined {
  const changes: Record<string, TextEdit[]> = {};
  for (const e of fix.edits) {
    const file = fileOf(e.path);
    if (!file) return undefined; // a file of the fix is gone: offer nothing rather than a broken edit
    (changes[uriOf(e.path)] ??= []).push({ range: file.rangeOf(e.start, e.end), newText: e.newText });
  }
  return { title: fix.title, kind: CodeActionKind.QuickFix, diagnostics: [diagnostic], isPreferred: !!fix.isPreferred, edit: { changes } };
}
