// Output formats of `racelens check`: text (go vet's positions), json (docs/cli.md), SARIF 2.1.0
// and GitHub Actions workflow commands.
import * as path from 'path';
import type { Finding, Rule } from '../engine/rule';
import type { Position } from '../engine/text';
import { docsUrl } from '../rules';
import type { ByteColumns } from './columns';

export const FORMATS = ['text', 'json', 'sarif', 'github'] as const;
export type Format = typeof FORMATS[number];

/** A path relative to `cwd` with `/` separators; absolute when it lies outside. */
export function displayPath(cwd: string, p: string): string {
  const r = path.relative(cwd, p);
  return !r || r.startsWith('..') || path.isAbsolute(r) ? p : r.split(path.sep).join('/');
}

/** `path:line:col: severity: [rule-id] message`, with a 1-based byte column as go vet prints. */
export function formatText(findings: readonly Finding[], cwd: string, columns: ByteColumns): string {
  return findings
    .map((f) => `${displayPath(cwd, f.path)}:${f.range.start.line + 1}:${columns.column(f.path, f.range.start)}: ${f.severity}: [${f.ruleId}] ${f.message}\n`)
    .join('');
}

export function formatJson(findings: readonly Finding[], cwd: string, columns: ByteColumns): string {
  const place = (p: string, pos: Position) => ({ column: columns.column(p, pos), columnUtf16: pos.character + 1 });
  const out = findings.map((f) => {
    const start = place(f.path, f.range.start);
    const end = place(f.path, f.range.end);
    return {
      path: displayPath(cwd, f.path),
      line: f.range.start.line + 1,
      column: start.column,
      columnUtf16: start.columnUtf16,
      endLine: f.range.end.line + 1,
      endColumn: end.column,
      endColumnUtf16: end.columnUtf16,
      ruleId: f.ruleId,
      severity: f.severity,
      message: f.message,
      docs: docsUrl(f.ruleId),
      related: f.related.map((r) => ({ path: displayPath(cwd, r.path), line: r.range.start.line + 1, ...place(r.path, r.range.start), message: r.message })),
      fixes: f.fixes.map((x) => ({
        title: x.title,
        isPreferred: !!x.isPreferred,
        edits: x.edits.map((e) => ({
          path: displayPath(cwd, e.path),
          start: columns.offset(e.path, e.start),
          end: columns.offset(e.path, e.end),
          startUtf16: e.start,
          endUtf16: e.end,
          newText: e.newText,
        })),
      })),
    };
  });
  return JSON.stringify(out, null, 2) + '\n';
}

const LEVEL = { error: 'error', warning: 'warning', info: 'note' } as const;

/** SARIF with UTF-16 columns, as its `columnKind` says (what GitHub code scanning reads). */
export function formatSarif(findings: readonly Finding[], rules: readonly Rule[], cwd: string, version: string): string {
  const ruleIndex = new Map(rules.map((r, i) => [r.id, i]));
  const region = (r: Finding['range']) => ({
    startLine: r.start.line + 1, startColumn: r.start.character + 1, endLine: r.end.line + 1, endColumn: r.end.character + 1,
  });
  const location = (p: string, r: Finding['range']) => ({
    physicalLocation: { artifactLocation: { uri: displayPath(cwd, p), uriBaseId: '%SRCROOT%' }, region: region(r) },
  });
  const log = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [{
      tool: {
        driver: {
          name: 'racelens',
          version,
          informationUri: 'https://github.com/racelens/racelens',
          rules: rules.map((r) => ({
            id: r.id,
            name: r.title,
            shortDescription: { text: r.title },
            fullDescription: { text: r.doc },
            helpUri: docsUrl(r.id),
            defaultConfiguration: { level: LEVEL[r.severity] },
          })),
        },
      },
      originalUriBaseIds: { '%SRCROOT%': { uri: 'file://' + cwd.split(path.sep).join('/').replace(/\/?$/, '/') } },
      columnKind: 'utf16CodeUnits',
      results: findings.map((f) => ({
        ruleId: f.ruleId,
        ruleIndex: ruleIndex.get(f.ruleId) ?? -1,
        level: LEVEL[f.severity],
        message: { text: f.message },
        locations: [location(f.path, f.range)],
        ...(f.related.length ? { relatedLocations: f.related.map((r, id) => ({ id, ...location(r.path, r.range), message: { text: r.message } })) } : {}),
      })),
    }],
  };
  return JSON.stringify(log, null, 2) + '\n';
}

const COMMAND = { error: 'error', warning: 'warning', info: 'notice' } as const;

/** Escaping of workflow-command data and property values (GitHub's toolkit rules). */
const escapeData = (s: string) => s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
const escapeProperty = (s: string) => escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');

/** One `::error file=…,line=…,col=…::message` annotation per finding, for GitHub Actions logs. */
export function formatGithub(findings: readonly Finding[], cwd: string): string {
  return findings.map((f) => {
    const props = [
      `file=${escapeProperty(displayPath(cwd, f.path))}`,
      `line=${f.range.start.line + 1}`, `col=${f.range.start.character + 1}`,
      `endLine=${f.range.end.line + 1}`, `endColumn=${f.range.end.character + 1}`,
      `title=${escapeProperty(`racelens ${f.ruleId}`)}`,
    ];
    return `::${COMMAND[f.severity]} ${props.join(',')}::${escapeData(f.message)}\n`;
  }).join('');
}
