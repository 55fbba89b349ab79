// Runs rules over a package. A rule that throws costs only its own findings.
import { analyzeEditedFile } from './incremental';
import type { Package } from './package';
import type { Rule } from './rule';
import { ruleSteps, runRules, settleFindings, type AnalysisResult } from './run-rules';
import { forgetTrees } from './tree-cache';

export type { AnalysisResult, RuleFailure } from './run-rules';

export interface AnalyzeOptions {
  /**
   * Report only on these paths (the editor's per-keystroke pass); the package is still visible.
   * A single edited file is re-checked incrementally (engine/incremental.ts): same findings, less work.
   */
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
  if (only && files.length === 1) return analyzeEditedFile(pkg, files[0], rules);
  const { findings, failures } = runRules(pkg, files, rules, { only });
  return { findings: settleFindings(pkg, files, rules, findings), failures };
}

/**
 * analyze() on a whole package, pausing after each rule through `pause`, which resolves false
 * when the result is no longer wanted: then undefined. The caller must keep the package's trees
 * as they are while it pauses, or stop (edits and reparses change the trees the rules look at).
 */
export async function analyzeInSteps(pkg: Package, rules: readonly Rule[], pause: () => Promise<boolean>): Promise<AnalysisResult | undefined> {
  const steps = ruleSteps(pkg, pkg.files, rules);
  try {
    for (;;) {
      const step = steps.next();
      if (step.done) return { findings: settleFindings(pkg, pkg.files, rules, step.value.findings), failures: step.value.failures };
      if (!await pause()) return undefined;
    }
  } finally {
    steps.return({ findings: [], failures: [] });
    forgetTrees(pkg.files.map((f) => f.tree));
  }
}
