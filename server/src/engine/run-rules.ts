// The two halves of an analysis: running rules (each in its own pass; a rule that throws costs
// only its own findings), then settling what they reported (generated files, suppressions, the
// findings of rules about suppressions, order). analyze() and incremental.ts compose them.
import { FactStore } from './fact';
import { compareFindings } from './finalize';
import type { Package } from './package';
import type { Finding, Pass, RelatedInfo, Report, Rule } from './rule';
import type { SourceFile } from './source-file';
import { readSuppressions, suppresses, type Suppression } from './suppress';
import type { Span } from './text';

export interface RuleFailure { ruleId: string; error: unknown }
export interface AnalysisResult { findings: Finding[]; failures: RuleFailure[] }

export interface RunOptions {
  /** Report only on these paths; the package is still visible. */
  only?: ReadonlySet<string>;
  /**
   * Look only in these spans of a file (pass.spans) and keep only the findings that start in
   * them. For rules with scope 'declaration' only.
   */
  spans?: ReadonlyMap<string, readonly Span[]>;
}

function startsIn(spans: readonly Span[], offset: number): boolean {
  return spans.some((s) => s.start <= offset && offset <= s.end);
}

/** The findings the rules report on `files`, unsuppressed and in no particular order. */
export function runRules(pkg: Package, files: readonly SourceFile[], rules: readonly Rule[], options: RunOptions = {}): AnalysisResult {
  const steps = ruleSteps(pkg, files, rules, options);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/** runRules one rule at a time: the generator pauses after each rule, so a caller can let other work run in between. */
export function* ruleSteps(pkg: Package, files: readonly SourceFile[], rules: readonly Rule[], options: RunOptions = {}): Generator<void, AnalysisResult> {
  const { only, spans } = options;
  const findings: Finding[] = [];
  const failures: RuleFailure[] = [];
  const byPath = new Map(pkg.files.map((f) => [f.path, f]));
  const facts = new FactStore(pkg);
  // Generated files take part in the facts, but no finding is shown in them (settleFindings): no rule looks there.
  const reportable = files.some((f) => f.isGenerated) ? files.filter((f) => !f.isGenerated) : files;
  if (!reportable.length) return { findings, failures }; // nothing to report on: no fact is built
  for (const rule of rules) {
    const own: Finding[] = [];
    const pass: Pass = {
      rule,
      pkg,
      files: reportable,
      spans: (file) => spans?.get(file.path) ?? [{ start: 0, end: file.text.length }],
      get(fact) {
        if (!rule.requires?.includes(fact)) throw new Error(`racelens: rule ${rule.id} asks for fact ${fact.name} without requiring it`);
        return facts.get(fact);
      },
      report(r: Report) {
        if (only && !only.has(r.file.path)) return;
        const start = r.start ?? r.node?.startIndex ?? 0;
        const end = r.end ?? r.node?.endIndex ?? start;
        const within = spans?.get(r.file.path);
        if (within && !startsIn(within, start)) return;
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
    yield;
  }
  return { findings, failures };
}

/**
 * What the user sees of the findings reported on `files` by `rules`: none in generated files,
 * none silenced by a suppression comment, the findings of rules about the comments themselves
 * (unused-suppression), in the one order of engine/finalize.ts.
 */
export function settleFindings(pkg: Package, files: readonly SourceFile[], rules: readonly Rule[], reported: readonly Finding[]): Finding[] {
  // Generated files take part (their declarations matter) but nobody edits them: no findings.
  const generated = new Set(pkg.files.filter((f) => f.isGenerated).map((f) => f.path));
  const findings = generated.size ? reported.filter((f) => !generated.has(f.path)) : reported;
  // Read only where needed: a file without findings has nothing to silence.
  const suppressions = new Map<string, Suppression[]>();
  const suppressionsOf = (file: SourceFile) => {
    let s = suppressions.get(file.path);
    if (!s) suppressions.set(file.path, (s = readSuppressions(file)));
    return s;
  };
  const byPath = new Map(files.map((f) => [f.path, f]));
  const used = new Set<Suppression>();
  const kept = findings.filter((f) => {
    const file = byPath.get(f.path);
    const s = file && suppressionsOf(file).find((x) => suppresses(x, f));
    if (s) used.add(s);
    return !s;
  });
  const ran = new Set(rules.map((r) => r.id));
  for (const rule of rules) if (rule.checkSuppressions) kept.push(...rule.checkSuppressions({ files, suppressionsOf, used, ran }));
  kept.sort(compareFindings);
  return kept;
}
