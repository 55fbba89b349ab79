// source.fixAll.racelens: applies every safe preferred fix whose edits stay in one document, in
// rounds like `racelens check --fix`, on fresh trees so the open documents are not disturbed.
import type { Parser } from 'web-tree-sitter';
import { analyze } from '../engine/analyze';
import { enabledRules, type RacelensConfig } from '../engine/config';
import { finalize } from '../engine/finalize';
import { fixInRounds } from '../engine/fix-rounds';
import { groupIntoPackages } from '../engine/package';
import type { Finding, Rule } from '../engine/rule';
import { SourceFile } from '../engine/source-file';

export async function fixAllText(
  parser: Parser, texts: ReadonlyMap<string, string>, target: string, rules: readonly Rule[], config: RacelensConfig, goVersion: string | undefined,
): Promise<{ after: string; count: number } | undefined> {
  const run = (current: ReadonlyMap<string, string>): Finding[] => {
    const files = [...current].map(([p, t]) => SourceFile.parse(parser, p, t));
    try {
      const findings = groupIntoPackages(files, () => goVersion).flatMap((pkg) => analyze(pkg, enabledRules(rules, config)).findings);
      return finalize(findings, config).filter((f) => f.fixes.some((x) => x.isPreferred && x.safe && x.edits.every((e) => e.path === target)));
    } finally {
      for (const f of files) f.dispose();
    }
  };
  const outcome = await fixInRounds(run(texts), (p) => texts.get(p)!, (changed) => run(new Map([...texts, ...changed])), 20);
  const changed = outcome.changed.get(target);
  return changed && { after: changed.after, count: outcome.fixed };
}
