// Output formats of `racelens check`: text, json and SARIF 2.1.0.
import * as path from 'path';
import type { Finding, Rule } from '../engine/rule';
import { docsUrl } from '../rules';


const rel = (cwd: string, p: string) => {
  const r = path.relative(cwd, p);
  return !r || r.startsWith('..') || path.isAbsolute(r) ? p : r.split(path.sep).join('/');
};

export function formatText(findings: readonly Finding[], cwd: string): string {
  return findings
    .map((f) => `${rel(cwd, f.path)}:${f.range.start.line + 1}:${f.range.start.character + 1}: [${f.ruleId}] ${f.message}\n`)
    .join('');
}

export function formatJson(findings: readonly Finding[], cwd: string): string {
  const out = findings.map((f) => ({
    path: rel(cwd, f.path),
    line: f.range.start.line + 1,
    column: f.range.start.character + 1,
    endLine: f.range.end.line + 1,
    endColumn: f.range.end.character + 1,
    ruleId: f.ruleId,
    severity: f.severity,
    message: f.message,
    docs: docsUrl(f.ruleId),
    related: f.related.map((r) => ({ path: rel(cwd, r.path), line: r.range.start.line + 1, column: r.range.start.character + 1, message: r.message })),
    fixes: f.fixes.map((x) => ({ title: x.title, isPreferred: !!x.isPreferred, edits: x.edits.map((e) => ({ path: rel(cwd, e.path), start: e.start, end: e.end, newText: e.newText })) })),
  }));
  return JSON.stringify(out, null, 2) + '\n';
}

const LEVEL = { error: 'error', warning: 'warning', info: 'note' } as const;

export function formatSarif(findings: readonly Finding[], rules: readonly Rule[], cwd: string, version: string): string {
  const ruleIndex = new Map(rules.map((r, i) => [r.id, i]));
  const region = (r: Finding['range']) => ({
    startLine: r.start.line + 1, startColumn: r.start.character + 1, endLine: r.end.line + 1, endColumn: r.end.character + 1,
  });
  const location = (p: string, r: Finding['range']) => ({
    physicalLocation: { artifactLocation: { uri: rel(cwd, p), uriBaseId: '%SRCROOT%' }, region: region(r) },
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
