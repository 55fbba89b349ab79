// Applies preferred fixes in rounds, re-analysing between rounds. At most one fix per file per
// round: each fix was computed against the file as it was (e.g. "the import is still used
// elsewhere"), so combining two blind fixes could break the build. This is how `ruff --fix` works.
import type { FileEdit, Finding } from './rule';
import { applyEdits, editsOverlap } from './text';

export interface FixOutcome {
  findings: Finding[];
  /** Original and final text of every changed file. */
  changed: Map<string, { before: string; after: string }>;
  fixed: number;
}

/** Which files fixes may edit (e.g. not one that does not parse); every file when not given. */
export type CanEdit = (path: string) => boolean;

/** Picks non-conflicting preferred fixes: one per file, none whose edits overlap. */
export function pickFixes(findings: readonly Finding[], canEdit: CanEdit = () => true): { edits: Map<string, FileEdit[]>; picked: Finding[] } {
  const edits = new Map<string, FileEdit[]>();
  const picked: Finding[] = [];
  for (const f of findings) {
    const fix = f.fixes.find((x) => x.isPreferred);
    if (!fix || fix.edits.some((e) => edits.has(e.path) || !canEdit(e.path))) continue;
    const byPath = new Map<string, FileEdit[]>();
    for (const e of fix.edits) byPath.set(e.path, [...(byPath.get(e.path) ?? []), e]);
    if ([...byPath.values()].some((list) => editsOverlap(list))) continue;
    for (const [p, list] of byPath) edits.set(p, list);
    picked.push(f);
  }
  return { edits, picked };
}

export async function fixInRounds(
  findings: Finding[],
  read: (path: string) => string,
  reanalyze: (texts: ReadonlyMap<string, string>, changedPaths: string[]) => Finding[] | Promise<Finding[]>,
  maxRounds = 100,
  canEdit?: CanEdit,
): Promise<FixOutcome> {
  const texts = new Map<string, string>();
  const original = new Map<string, string>();
  let fixed = 0;
  for (let round = 0; round < maxRounds; round++) {
    const { edits, picked } = pickFixes(findings, canEdit);
    if (!picked.length) break;
    for (const [p, list] of edits) {
      const before = texts.get(p) ?? read(p);
      if (!original.has(p)) original.set(p, before);
      texts.set(p, applyEdits(before, list));
    }
    fixed += picked.length;
    findings = await reanalyze(texts, [...edits.keys()]);
  }
  const changed = new Map<string, { before: string; after: string }>();
  for (const [p, before] of original) changed.set(p, { before, after: texts.get(p)! });
  return { findings, changed, fixed };
}
