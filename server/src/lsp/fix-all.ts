// source.fixAll.racelens: applies every safe preferred fix whose edits stay in one document, in
// rounds like `racelens check --fix` (each verified first), on fresh trees so the open documents
// are not disturbed.
import type { Parser } from 'web-tree-sitter';
import type { RacelensConfig } from '../engine/config';
import { fixInRounds } from '../engine/fix-rounds';
import type { Rule } from '../engine/rule';
import { analyzeForFixes } from './verify-actions';

export async function fixAllText(
  parser: Parser, texts: ReadonlyMap<string, string>, target: string, rules: readonly Rule[], config: RacelensConfig, goVersion: string | undefined,
): Promise<{ after: string; count: number } | undefined> {
  const run = (current: ReadonlyMap<string, string>) => analyzeForFixes(parser, current, rules, config, goVersion);
  const outcome = await fixInRounds({
    findings: run(texts),
    read: (p) => texts.get(p)!,
    packageOf: () => 'document',
    analyzePackage: (_, changed) => run(new Map([...texts, ...changed])),
    parser,
    wanted: (f) => f.fixes.some((x) => x.isPreferred && x.safe && x.edits.every((e) => e.path === target)),
    limits: { rounds: 20 },
  });
  const changed = outcome.changed.get(target);
  return changed && { after: changed.after, count: outcome.fixed };
}
