// Engine findings and fixes → LSP diagnostics and code actions.
import { CodeActionKind, DiagnosticSeverity, type CodeAction, type Diagnostic, type TextEdit, type WorkspaceEdit } from 'vscode-languageserver';
import type { Finding, Fix } from '../engine/rule';
import type { SourceFile } from '../engine/source-file';
import { docsUrl, ruleById } from '../rules';

const SEVERITY = { error: DiagnosticSeverity.Error, warning: DiagnosticSeverity.Warning, info: DiagnosticSeverity.Information };

/** Related places worth a click: not one on the finding's own line. */
function elsewhere(f: Finding): Finding['related'] {
  return f.related.filter((r) => r.path !== f.path || r.range.start.line !== f.range.start.line);
}

export function toDiagnostic(f: Finding, uriOf: (path: string) => string): Diagnostic {
  const related = elsewhere(f);
  return {
    range: f.range,
    severity: SEVERITY[f.severity],
    code: f.ruleId,
    codeDescription: { href: docsUrl(f.ruleId) },
    source: 'racelens',
    message: f.message,
    relatedInformation: related.length
      ? related.map((r) => ({ location: { uri: uriOf(r.path), range: r.range }, message: r.message }))
      : undefined,
  };
}

/** A finding's hover: the rule's title, its severity and id (a link to its page), its short doc. */
export function hoverMarkdown(f: Finding): string {
  const rule = ruleById(f.ruleId);
  const title = rule?.title ?? f.ruleId;
  return `**${title}**\n\nracelens ${f.severity} · [${f.ruleId}](${docsUrl(f.ruleId)})\n\n${rule?.doc ?? ''}`.trimEnd();
}

/**
 * A fix as a WorkspaceEdit. With `versionOf` (clients that support documentChanges) every edit
 * names the document version it was computed for, so an editor refuses it once the text moved
 * on instead of applying it at the wrong place.
 */
export function toCodeAction(
  fix: Fix, diagnostic: Diagnostic, fileOf: (path: string) => SourceFile | undefined, uriOf: (path: string) => string,
  versionOf?: (path: string) => number | null,
): CodeAction | undefined {
  const changes: Record<string, TextEdit[]> = {};
  for (const e of fix.edits) {
    const file = fileOf(e.path);
    if (!file) return undefined; // a file of the fix is gone: offer nothing rather than a broken edit
    (changes[uriOf(e.path)] ??= []).push({ range: file.rangeOf(e.start, e.end), newText: e.newText });
  }
  const edit: WorkspaceEdit = versionOf
    ? { documentChanges: fix.edits.map((e) => e.path).filter((p, i, all) => all.indexOf(p) === i).map((p) => ({ textDocument: { uri: uriOf(p), version: versionOf(p) }, edits: changes[uriOf(p)] })) }
    : { changes };
  return { title: fix.title, kind: CodeActionKind.QuickFix, diagnostics: [diagnostic], isPreferred: !!fix.isPreferred, edit };
}
