// Test helpers: load Go files into engine packages, run rules, apply fixes in memory.
import * as fs from 'fs';
import * as path from 'path';
import type { Parser } from 'web-tree-sitter';
import { analyze } from '../../server/src/engine/analyze';
import { fixInRounds, type FixOutcome } from '../../server/src/engine/fix-rounds';
import { groupIntoPackages, type Package } from '../../server/src/engine/package';
import { newGoParser } from '../../server/src/engine/parser';
import type { Finding, Rule } from '../../server/src/engine/rule';
import { SourceFile } from '../../server/src/engine/source-file';
import { allRules } from '../../server/src/rules';
import { goVersionFor } from '../../server/src/node/files';
import { initGoForNode } from '../../server/src/node/grammar';

let parser: Parser | undefined;

export async function testParser(): Promise<Parser> {
  if (!parser) {
    await initGoForNode();
    parser = newGoParser();
  }
  return parser;
}

/** Analyses in-memory sources (path → text) as packages; trees are freed before returning. */
export function analyzeTexts(p: Parser, texts: ReadonlyMap<string, string>, rules: readonly Rule[], goVersion?: string): Finding[] {
  const files = [...texts].map(([file, text]) => SourceFile.parse(p, file, text));
  try {
    return groupIntoPackages(files, (dir) => goVersion ?? goVersionFor(dir)).flatMap((pkg: Package) => {
      const { findings, failures } = analyze(pkg, rules);
      if (failures.length) throw failures[0].error;
      return findings;
    });
  } finally {
    for (const f of files) f.dispose();
  }
}

export function goFilesIn(dir: string): Map<string, string> {
  const texts = new Map<string, string>();
  for (const name of fs.readdirSync(dir).sort()) {
    if (name.endsWith('.go')) texts.set(path.join(dir, name), fs.readFileSync(path.join(dir, name), 'utf8'));
  }
  return texts;
}

/**
 * Applies preferred fixes in rounds, the way `racelens check --fix` does, without touching disk.
 * With `onlyRule`, only that rule's fixes are applied, but each is verified against every rule.
 */
export function fixTexts(p: Parser, texts: ReadonlyMap<string, string>, rules: readonly Rule[], onlyRule?: string): Promise<FixOutcome> {
  if (onlyRule) rules = allRules;
  return fixInRounds({
    findings: analyzeTexts(p, texts, rules),
    read: (file) => texts.get(file)!,
    packageOf: (file) => path.dirname(file),
    analyzePackage: (dir, changed) => analyzeTexts(p, new Map([...texts, ...changed].filter(([f]) => path.dirname(f) === dir)), rules),
    parser: p,
    wanted: onlyRule ? (f) => f.ruleId === onlyRule : undefined,
  });
}
