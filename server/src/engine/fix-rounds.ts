// Applies preferred fixes in rounds, as `ruff --fix` does: each fix was computed against the code
// as it was, so a package takes one fix per round and is re-analysed before the next. Every fix is
// verified first (verify-fix.ts), and that analysis is the round's re-analysis. The run converges:
// a round that would add a finding is refused, no fix touches text an earlier fix inserted, and
// rounds and fixes per file are bounded.
import type { Parser } from 'web-tree-sitter';
import { compareFindings } from './finalize';
import type { Finding, Fix } from './rule';
import type { TextEdit } from './text';
import { mapThroughEdits } from './shift';
import { editsByPath, verifyFix } from './verify-fix';

export interface FixLimits { rounds: number; fixesPerFile: number; attemptsPerRound: number }
export const FIX_LIMITS: FixLimits = { rounds: 100, fixesPerFile: 50, attemptsPerRound: 8 };

export interface RefusedFix { finding: Finding; fix: Fix; reason: string }

export interface FixOutcome {
  findings: Finding[];
  /** Original and final text of every changed file. */
  changed: Map<string, { before: string; after: string }>;
  fixed: number;
  /** Preferred fixes not applied, and why. */
  refused: RefusedFix[];
  /** Why the run stopped early (a bound was hit), if it did. */
  stopped?: string;
}

export interface FixRun {
  /** Every finding, of every package the run may fix. */
  findings: Finding[];
  read(path: string): string;
  /** The package a file belongs to (its directory). */
  packageOf(path: string): string;
  /** Findings of package `pkg` (every enabled rule) with `texts` in place of the files on disk. */
  analyzePackage(pkg: string, texts: ReadonlyMap<string, string>): Finding[] | Promise<Finding[]>;
  parser: Parser;
  /** Which findings' preferred fixes to apply (all by default). */
  wanted?(f: Finding): boolean;
  /** Which files fixes may edit (not one that does not parse, nor one outside the paths asked for); all when not given. */
  canEdit?(path: string): boolean;
  limits?: Partial<FixLimits>;
}

interface Span { start: number; end: number }

/** `span` of the old text in the new one, after `edits`. */
function mapSpan(edits: readonly TextEdit[], span: Span): Span {
  return { start: mapThroughEdits(edits, span.start).lo, end: mapThroughEdits(edits, span.end).hi };
}

/** The spans of the new text that `edits` wrote. */
function writtenSpans(edits: readonly TextEdit[]): Span[] {
  let delta = 0;
  const spans: Span[] = [];
  for (const e of [...edits].sort((a, b) => a.start - b.start)) {
    if (e.newText) spans.push({ start: e.start + delta, end: e.start + delta + e.newText.length });
    delta += e.newText.length - (e.end - e.start);
  }
  return spans;
}

/** Whether an edit changes or splits text in `span` (an insertion at either end leaves it whole). */
function touches(e: TextEdit, span: Span): boolean {
  return e.start === e.end ? e.start > span.start && e.start < span.end : e.start < span.end && e.end > span.start;
}

export async function fixInRounds(run: FixRun): Promise<FixOutcome> {
  const limits = { ...FIX_LIMITS, ...run.limits };
  const texts = new Map<string, string>();
  const original = new Map<string, string>();
  const inserted = new Map<string, Span[]>(); // per file: text earlier fixes of this run wrote
  const fixesIn = new Map<string, number>();
  const refused: RefusedFix[] = [];
  const refusedAt: { ruleId: string; path: string; start: number }[] = [];
  let findings = run.findings;
  let fixed = 0;
  let stopped: string | undefined;
  const read = (p: string) => texts.get(p) ?? run.read(p);
  const isRefused = (f: Finding) => refusedAt.some((r) => r.ruleId === f.ruleId && r.path === f.path && r.start === f.start);
  /** The preferred fix the run may still apply for `f`. */
  const pending = (f: Finding): Fix | undefined => {
    const fix = f.fixes.find((x) => x.isPreferred);
    if (!fix || isRefused(f) || (run.wanted && !run.wanted(f)) || (run.canEdit && fix.edits.some((e) => !run.canEdit!(e.path)))) return undefined;
    return fix;
  };
  const refuse = (finding: Finding, fix: Fix, reason: string) => {
    refused.push({ finding, fix, reason });
    refusedAt.push({ ruleId: finding.ruleId, path: finding.path, start: finding.start });
  };

  let round = 0;
  for (; round < limits.rounds; round++) {
    const byPackage = new Map<string, Finding[]>();
    for (const f of findings) {
      if (!pending(f)) continue;
      const pkg = run.packageOf(f.path);
      byPackage.set(pkg, [...(byPackage.get(pkg) ?? []), f]);
    }
    if (!byPackage.size) break;
    const refusedBefore = refused.length;
    let progress = false;
    for (const [pkg, candidates] of byPackage) {
      const before = findings.filter((f) => run.packageOf(f.path) === pkg);
      let attempts = 0;
      for (const finding of candidates) {
        const fix = pending(finding)!;
        const byPath = editsByPath(fix.edits);
        const full = [...byPath.keys()].find((p) => (fixesIn.get(p) ?? 0) >= limits.fixesPerFile);
        if (full) { stopped ??= `stopped fixing ${full} after ${limits.fixesPerFile} fixes (the most one run applies to a file)`; continue; }
        if (fix.edits.some((e) => (inserted.get(e.path) ?? []).some((s) => touches(e, s)))) {
          refuse(finding, fix, 'it would change code an earlier fix of this run inserted');
          continue;
        }
        if (attempts++ >= limits.attemptsPerRound) break;
        const verdict = await verifyFix({
          finding, fix, before, read, parser: run.parser,
          inPackage: (p) => run.packageOf(p) === pkg,
          analyze: (changed) => run.analyzePackage(pkg, new Map([...texts, ...changed])),
        });
        // The verification is the round's re-analysis of the package: a fix that would add a
        // finding is refused, so no round adds one.
        if (!verdict.ok) { refuse(finding, fix, verdict.reason); continue; }
        for (const [p, list] of byPath) {
          if (!original.has(p)) original.set(p, read(p));
          texts.set(p, verdict.changed.get(p)!);
          inserted.set(p, [...(inserted.get(p) ?? []).map((s) => mapSpan(list, s)), ...writtenSpans(list)]);
          fixesIn.set(p, (fixesIn.get(p) ?? 0) + 1);
          for (const r of refusedAt) if (r.path === p) r.start = mapThroughEdits(list, r.start).lo;
        }
        findings = [...findings.filter((f) => run.packageOf(f.path) !== pkg), ...verdict.findings];
        fixed++;
        progress = true;
        break;
      }
    }
    // A refusal is progress too: candidates past the per-round attempt budget get their turn.
    if (!progress && refused.length === refusedBefore) break;
  }
  if (round === limits.rounds && findings.some(pending)) stopped ??= `stopped after ${limits.rounds} rounds of fixes (the most one run makes); run again to continue`;
  const changed = new Map<string, { before: string; after: string }>();
  for (const [p, before] of original) changed.set(p, { before, after: texts.get(p)! });
  findings.sort(compareFindings);
  return { findings, changed, fixed, refused, stopped };
}

/** One line per refused fix, for stderr. */
export function refusalLines(refused: readonly RefusedFix[], relative: (p: string) => string = (p) => p, column = (f: Finding) => f.range.start.character + 1): string[] {
  return refused.map(({ finding, fix, reason }) => {
    const where = `${finding.ruleId} at ${relative(finding.path)}:${finding.range.start.line + 1}:${column(finding)}`;
    return `not fixed: ${where} ("${fix.title}"): ${reason}`;
  });
}
