// Runs rules over a package. A rule that throws costs only its own findings.
import type { Package } from './package';
import { deleteComment, readSuppressions, suppresses, UNUSED_SUPPRESSION, type Suppression } from './suppress';
import type { Finding, Pass, RelatedInfo, Report, Rule } from './rule';
import { forgetTrees } from './tree-cache';

export interface RuleFailure { ruleId: string; error: unknown }
export interface AnalysisResult { findings: Finding[]; failures: RuleFailure[] }

export interface AnalyzeOptions {
  /** Report only on these paths (the editor's per-keystroke pass); the package is still visible. */
  only?: ReadonlySet<string>;
}

export function analyze(pkg: Package, rules: readonly Rule[], options: AnalyzeOptions = {}): AnalysisResult {
  try {
    return analyzeWithCaches(pkg, rules, options);
  } finally {
    forgetTrees(pkg.files.map((f) => f.tree));
  }
}

function analyzeWithCaches(pkg: Package, rules: readonly Rule[], options: AnalyzeOptions): AnalysisResult {
  const only = options.only;
  const files = only ? pkg.files.filter((f) => only.has(f.path)) : pkg.files;
  const findings: Finding[] = [];
  const failures: RuleFailure[] = [];
  const byPath = new Map(pkg.files.map((f) => [f.path, f]));
  for (const rule of rules) {
    const own: Finding[] = [];
    const pass: Pass = {
      rule,
      pkg,
      files,
      report(r: Report) {
        if (only && !only.has(r.file.path)) return;
        const start = r.start ?? r.node?.startIndex ?? 0;
        const end = r.end ?? r.node?.endIndex ?? start;
        const related: RelatedInfo[] = (r.related ?? []).map((rel) => {
          const f = byPath.get(rel.path);
          const range = f ? f.rangeOf(rel.start, rel.end) : { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };
          return { ...rel, range };
        });
        own.push({
          ruleId: rule.id,
          severity: rule.severity,
          path: r.file.path,
          start,
          end,
          range: r.file.rangeOf(start, end),
          message: r.message,
          related,
          fixes: r.fixes ?? [],
        });
      },
    };
    try {
      rule.run(pass);
      findings.push(...own);
    } catch (error) {
      failures.push({ ruleId: rule.id, error });
    }
  }
  // Generated files take part (their declarations matter) but nobody edits them: no findings.
  const generated = new Set(pkg.files.filter((f) => f.isGenerated).map((f) => f.path));
  if (generated.size) findings.splice(0, findings.length, ...findings.filter((f) => !generated.has(f.path)));
  const suppressions = new Map(files.map((f) => [f.path, readSuppressions(f)]));
  const used = new Set<Suppression>();
  const kept = findings.filter((f) => {
    const s = (suppressions.get(f.path) ?? []).find((x) => suppresses(x, f));
    if (s) used.add(s);
    return !s;
  });
  // A racelens suppression that silences nothing is stale: say so, for rules that ran.
  const ran = new Set(rules.map((r) => r.id));
  if (ran.has(UNUSED_SUPPRESSION)) {
    for (const file of files) {
      for (const s of suppressions.get(file.path) ?? []) {
        if (used.has(s) || s.kind !== 'racelens' || (s.rules !== 'all' && ![...s.rules].some((id) => ran.has(id)))) continue;
        const ids = s.rules === 'all' ? 'any rule' : [...s.rules].join(', ');
        kept.push({
          ruleId: UNUSED_SUPPRESSION, severity: 'info', path: file.path, start: s.start, end: s.end,
          range: file.rangeOf(s.start, s.end), message: `this suppression of ${ids} matches no finding; remove it`,
          related: [], fixes: [{ title: 'Remove the unused suppression', edits: [{ path: file.path, ...deleteComment(file.text, s.start, s.end) }], isPreferred: true, safe: true }],
        });
      }
    }
  }
  kept.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : a.start - b.start || a.ruleId.localeCompare(b.ruleId)));
  return { findings: kept, failures };
}
