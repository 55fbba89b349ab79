// Proves a preferred fix before it is offered: apply it in memory, reparse, re-run the package's
// rules. It must parse, clear its own finding, add no finding of any rule, and stay small. The
// editor's code actions, fix-all and `racelens check --fix/--diff` all ask this one function.
import type { Parser } from 'web-tree-sitter';
import type { FileEdit, Finding, Fix } from './rule';
import { mapThroughEdits } from './shift';
import { applyEdits, editsOverlap, type TextEdit } from './text';

/** How large one fix may be: beyond this it is a runaway, not a repair. */
export interface FixBounds { maxEditsPerFile: number; maxInsertedLines: number }
export const FIX_BOUNDS: FixBounds = { maxEditsPerFile: 64, maxInsertedLines: 200 };

export interface VerifyInput {
  finding: Finding;
  fix: Fix;
  /** The package's findings before the fix, from the same rules `analyze` runs. */
  before: readonly Finding[];
  /** The current text of a package file. */
  read(path: string): string;
  /** The package's findings (every enabled rule) with `changed` texts in place of the current ones. */
  analyze(changed: ReadonlyMap<string, string>): Finding[] | Promise<Finding[]>;
  /** Paths of the package: a fix editing anything else is not verified. */
  inPackage(path: string): boolean;
  parser: Parser;
  bounds?: FixBounds;
}

/** Why a fix was refused, by kind (for counting), and in words. */
export type RefusalKind = 'unparsable' | 'ownKept' | 'newFindings' | 'runaway' | 'otherRefusals';

export type FixVerdict =
  | { ok: true; changed: Map<string, string>; findings: Finding[] }
  | { ok: false; kind: RefusalKind; reason: string };

function refused(kind: RefusalKind, reason: string): FixVerdict {
  return { ok: false, kind, reason };
}

/** The edits of a fix, per file. */
export function editsByPath(edits: readonly FileEdit[]): Map<string, FileEdit[]> {
  const byPath = new Map<string, FileEdit[]>();
  for (const e of edits) byPath.set(e.path, [...(byPath.get(e.path) ?? []), e]);
  return byPath;
}

const sameFinding = (edits: ReadonlyMap<string, readonly TextEdit[]>, before: Finding, after: Finding): boolean => {
  if (before.ruleId !== after.ruleId || before.path !== after.path) return false;
  const { lo, hi } = mapThroughEdits(edits.get(before.path) ?? [], before.start);
  return after.start >= lo && after.start <= hi;
};

/** Findings after the edits that no finding before them accounts for. */
export function addedFindings(before: readonly Finding[], after: readonly Finding[], edits: ReadonlyMap<string, readonly TextEdit[]>): Finding[] {
  return after.filter((a) => !before.some((b) => sameFinding(edits, b, a)));
}

/** The number of lines a set of edits adds. */
function insertedLines(edits: readonly TextEdit[]): number {
  return edits.reduce((n, e) => n + (e.newText.match(/\n/g)?.length ?? 0), 0);
}

function hasSyntaxError(parser: Parser, text: string): boolean {
  const tree = parser.parse(text);
  try {
    return !tree || tree.rootNode.hasError;
  } finally {
    tree?.delete();
  }
}

/** `rule at file.go:line:col`: the file's base name, unambiguous within one package. */
export function describeFinding(f: Finding): string {
  const base = f.path.slice(Math.max(f.path.lastIndexOf('/'), f.path.lastIndexOf('\\')) + 1);
  return `${f.ruleId} at ${base}:${f.range.start.line + 1}:${f.range.start.character + 1}`;
}

export async function verifyFix(input: VerifyInput): Promise<FixVerdict> {
  const { finding, fix, parser } = input;
  const bounds = input.bounds ?? FIX_BOUNDS;
  if (!fix.edits.length) return refused('otherRefusals', 'the fix has no edits');
  const byPath = editsByPath(fix.edits);
  const changed = new Map<string, string>();
  for (const [path, list] of byPath) {
    if (!input.inPackage(path)) return refused('otherRefusals', `it edits ${path}, outside the package`);
    if (editsOverlap(list)) return refused('otherRefusals', 'its edits overlap');
    if (list.length > bounds.maxEditsPerFile) return refused('runaway', `it makes ${list.length} edits in one file (at most ${bounds.maxEditsPerFile})`);
    const lines = insertedLines(list);
    if (lines > bounds.maxInsertedLines) return refused('runaway', `it adds ${lines} lines to one file (at most ${bounds.maxInsertedLines})`);
    const before = input.read(path);
    const after = applyEdits(before, list);
    if (hasSyntaxError(parser, after) && !hasSyntaxError(parser, before)) return refused('unparsable', 'the result does not parse');
    changed.set(path, after);
  }
  const findings = await input.analyze(changed);
  if (findings.some((a) => sameFinding(byPath, finding, a))) return refused('ownKept', 'its own finding is still reported after the fix');
  const added = addedFindings(input.before, findings, byPath);
  if (added.length) return refused('newFindings', `it would add ${added.length === 1 ? 'a finding' : `${added.length} findings`}: ${added.slice(0, 3).map(describeFinding).join(', ')}`);
  return { ok: true, changed, findings };
}
