// The editor's side of fix verification: a quick-fix is shown as preferred only once
// engine/verify-fix.ts has proven it on the package as published. Verdicts are cached per fix
// object, so moving the cursor does not re-analyse.
import type { Parser } from 'web-tree-sitter';
import { analyze } from '../engine/analyze';
import { enabledRules, type RacelensConfig } from '../engine/config';
import { finalize } from '../engine/finalize';
import { groupIntoPackages } from '../engine/package';
import type { Finding, Fix, Rule } from '../engine/rule';
import { SourceFile } from '../engine/source-file';
import { verifyFix, type FixVerdict } from '../engine/verify-fix';

/** Every finding of the enabled rules on fresh trees of `texts` (one directory's files). */
export function analyzeForFixes(
  parser: Parser, texts: ReadonlyMap<string, string>, rules: readonly Rule[], config: RacelensConfig, goVersion: string | undefined,
): Finding[] {
  const files = [...texts].map(([p, t]) => SourceFile.parse(parser, p, t));
  try {
    const findings = groupIntoPackages(files, () => goVersion).flatMap((pkg) => analyze(pkg, enabledRules(rules, config)).findings);
    return finalize(findings, config);
  } finally {
    for (const f of files) f.dispose();
  }
}

export interface PackageTexts {
  texts: ReadonlyMap<string, string>;
  rules: readonly Rule[];
  config: RacelensConfig;
  goVersion: string | undefined;
}

const verdicts = new WeakMap<Fix, Promise<FixVerdict>>();
const baselines = new WeakMap<ReadonlyMap<string, string>, Finding[]>();

/** Verifies a preferred fix of `finding` against the package texts it was computed on. */
export function verifyPreferred(parser: Parser, pkg: PackageTexts, finding: Finding, fix: Fix): Promise<FixVerdict> {
  let verdict = verdicts.get(fix);
  if (!verdict) {
    const run = (texts: ReadonlyMap<string, string>) => analyzeForFixes(parser, texts, pkg.rules, pkg.config, pkg.goVersion);
    let before = baselines.get(pkg.texts);
    if (!before) baselines.set(pkg.texts, (before = run(pkg.texts)));
    verdict = verifyFix({
      finding, fix, before, parser,
      read: (p) => pkg.texts.get(p)!,
      inPackage: (p) => pkg.texts.has(p),
      analyze: (changed) => run(new Map([...pkg.texts, ...changed])),
    });
    verdicts.set(fix, verdict);
  }
  return verdict;
}

/** The fix as the editor should offer it: preferred only when verified, else saying why not. */
export async function offeredFix(parser: () => Parser, pkg: () => PackageTexts, finding: Finding, fix: Fix): Promise<Fix> {
  if (!fix.isPreferred) return fix;
  const verdict = await verifyPreferred(parser(), pkg(), finding, fix);
  return verdict.ok ? fix : { ...fix, isPreferred: false, title: `${fix.title} (unverified: ${verdict.reason})` };
}
