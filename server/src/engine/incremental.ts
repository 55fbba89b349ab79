// Re-checking a file as it is edited. Rules with scope 'declaration' (rule.ts) run only on the
// top-level declarations changed since the last check; their findings elsewhere are kept, moved
// along with the edits. The other rules run on the whole file. The result is the one a whole-file
// check gives (test/incremental.test.ts): whenever that is not certain (an edit outside function
// bodies and comments, a top-level entry or signature that parses differently, another file of the
// package changed, a rule failed), the whole file is checked again.
import type { Node } from 'web-tree-sitter';
import type { LoggedChange, LoggedEdit } from './change-log';
import { shiftFinding } from './shift';
import type { Package } from './package';
import type { Finding, Rule } from './rule';
import { runRules, settleFindings, type AnalysisResult, type RuleFailure } from './run-rules';
import type { SourceFile } from './source-file';
import type { Span } from './text';

/**
 * A top-level declaration, comment or error as a check saw it. `id` names its subtree; `size`
 * (nodes in it) and `hasError` tell a subtree the parser built anew from the one it replaced,
 * as tree-sitter's own changed ranges do by kind and extent.
 */
interface Entry {
  id: number;
  type: string;
  start: number;
  end: number;
  size: number;
  hasError: boolean;
  /** A function's or method's body, and the nodes before it (its signature). */
  body?: Span;
  signatureSize?: number;
}

/** What the last check of a file left for the next one. */
interface Baseline {
  changeCount: number;
  /** The package, the other files' versions and the rules: any change means a whole-file check. */
  context: string;
  entries: Entry[];
  crlf: boolean;
  /** Findings of declaration-scoped rules, as reported (before suppressions). */
  findings: Finding[];
}

const baselines = new WeakMap<SourceFile, Baseline>();

/** How many checks re-ran only changed declarations, and how many the whole file (tests, benchmarks). */
export const incrementalChecks = { partial: 0, whole: 0 };

const FUNCTIONS = new Set(['function_declaration', 'method_declaration']);

function contextOf(pkg: Package, file: SourceFile, rules: readonly Rule[]): string {
  const others = pkg.files.map((f) => (f === file ? f.path : `${f.path}@${f.revision}`));
  return [pkg.dir, pkg.name, pkg.goVersion ?? '', rules.map((r) => r.id).join(','), ...others].join('\0');
}

function entryOf(n: Node): Entry {
  const entry: Entry = { id: n.id, type: n.type, start: n.startIndex, end: n.endIndex, size: n.descendantCount, hasError: n.hasError };
  const body = FUNCTIONS.has(n.type) ? n.childForFieldName('body') : null;
  if (body) {
    entry.body = { start: body.startIndex, end: body.endIndex };
    entry.signatureSize = entry.size - body.descendantCount;
  }
  return entry;
}

/** The entries whose [start, end] holds `offset`: two where one ends as the next starts. */
function entriesAt(entries: readonly Entry[], offset: number): number[] {
  let lo = 0, hi = entries.length - 1, last = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (entries[mid].start <= offset) { last = mid; lo = mid + 1; } else hi = mid - 1;
  }
  const out: number[] = [];
  if (last >= 0 && offset <= entries[last].end) out.push(last);
  if (last >= 1 && offset <= entries[last - 1].end) out.push(last - 1);
  return out;
}

/** Every offset a finding has in `path`: where it is, its related locations, its fixes' edits. */
function offsetsIn(f: Finding, path: string): number[] {
  const out = [f.start, f.end];
  for (const r of f.related) if (r.path === path) out.push(r.start, r.end);
  for (const fix of f.fixes) for (const e of fix.edits) if (e.path === path) out.push(e.start, e.end);
  return out;
}

/** An edit strictly inside a function's body, or inside a comment (typing at its end included). */
function holds(e: Entry, edit: LoggedEdit): boolean {
  if (e.type === 'comment') return e.start < edit.start && edit.end <= e.end;
  return !!e.body && e.body.start < edit.start && edit.end < e.body.end;
}

/**
 * Moves the baseline's entries and findings along with `changes` (in place: a failed reuse drops
 * the baseline); undefined when an edit is outside function bodies and comments.
 */
function replay(base: Baseline, changes: readonly LoggedChange[], path: string): { edited: Set<number>; reparses: number } | undefined {
  const entries = base.entries;
  const edited = new Set<number>();
  let reparses = 0;
  for (const change of changes) {
    if (change.kind === 'reparse') { reparses++; continue; }
    const i = entriesAt(entries, change.start).find((j) => holds(entries[j], change));
    if (i === undefined) return undefined;
    edited.add(i);
    const delta = change.text.length - (change.end - change.start);
    if (delta) {
      entries[i].end += delta;
      if (entries[i].body) entries[i].body!.end += delta;
      for (let j = i + 1; j < entries.length; j++) {
        const e = entries[j];
        e.start += delta;
        e.end += delta;
        if (e.body) { e.body.start += delta; e.body.end += delta; }
      }
    }
    base.findings = base.findings.map((f) => shiftFinding(f, change, path));
  }
  return { edited, reparses };
}

interface Reuse {
  /** Top-level entries to re-check (current offsets). */
  dirty: Span[];
  /** Findings of declaration-scoped rules outside them, at current offsets. */
  kept: Finding[];
  entries: Entry[];
}

/**
 * What the baseline still tells about the file: undefined unless every edit since lies inside a
 * function body or a comment, the top level is as before around them, and every entry parses as
 * before but for the bodies edited. Those are re-checked; the other entries are left alone.
 */
function reusable(base: Baseline, file: SourceFile, nodes: readonly Node[]): Reuse | undefined {
  const changes = file.changesSince(base.changeCount);
  const moved = changes && replay(base, changes, file.path);
  const entries = base.entries;
  if (!moved || nodes.length !== entries.length) return undefined;
  for (let i = 0; i < nodes.length; i++) {
    const n = nodes[i], was = entries[i];
    if (n.type !== was.type || n.startIndex !== was.start || n.endIndex !== was.end) return undefined;
    if (moved.edited.has(i)) {
      const now = entryOf(n);
      // The signature (what other code reads of a function) parses as before; the body changed.
      if (now.body?.start !== was.body?.start || now.body?.end !== was.body?.end || now.signatureSize !== was.signatureSize) return undefined;
      entries[i] = now;
    } else if (n.id !== was.id || moved.reparses > 1) {
      // Not the very subtree (or no telling: a second reparse may reuse a freed address): it
      // must parse as before.
      if (n.descendantCount !== was.size || n.hasError !== was.hasError) return undefined;
      was.id = n.id;
    }
  }
  if (file.contains('\r\n') !== base.crlf) return undefined;

  // A kept finding must lie wholly outside the re-checked entries; one that reaches into them is
  // re-checked with its own entry (a rule stepping outside its contract).
  const dirty = new Set(moved.edited);
  const within = (o: number) => entriesAt(entries, o).some((i) => dirty.has(i));
  let kept = base.findings;
  let lost = false;
  for (let changed = true; changed;) {
    changed = false;
    kept = kept.filter((f) => {
      if (!offsetsIn(f, file.path).some(within)) return true;
      const own = entriesAt(entries, f.start);
      if (!own.length) lost = true;
      for (const i of own) if (!dirty.has(i)) { dirty.add(i); changed = true; }
      return false;
    });
  }
  if (lost) return undefined;
  return {
    dirty: [...dirty].sort((a, b) => a - b).map((i) => ({ start: entries[i].start, end: entries[i].end })),
    kept: kept.map((f) => ({
      ...f,
      range: file.rangeOf(f.start, f.end),
      related: f.related.map((r) => (r.path === file.path ? { ...r, range: file.rangeOf(r.start, r.end) } : r)),
    })),
    entries,
  };
}

/** Checks `file` (the package is context) with `rules`, re-checking only what changed since the last call when it can. */
export function analyzeEditedFile(pkg: Package, file: SourceFile, rules: readonly Rule[]): AnalysisResult {
  const only = new Set([file.path]);
  const context = contextOf(pkg, file, rules);
  const base = baselines.get(file);
  const checkable = !file.stale && !file.skipped;
  const nodes = checkable ? file.topLevel : [];
  const reuse = base && checkable && base.context === context ? reusable(base, file, nodes) : undefined;
  let reported: Finding[] | undefined;
  let failures: RuleFailure[] = [];
  if (reuse) {
    const scoped = rules.filter((r) => r.scope === 'declaration');
    const fresh = runRules(pkg, [file], scoped, { only, spans: new Map([[file.path, reuse.dirty]]) });
    const whole = runRules(pkg, [file], rules.filter((r) => r.scope !== 'declaration'), { only });
    failures = [...fresh.failures, ...whole.failures];
    if (!failures.length) reported = [...reuse.kept, ...fresh.findings, ...whole.findings];
  }
  incrementalChecks[reported ? 'partial' : 'whole']++;
  if (!reported) ({ findings: reported, failures } = runRules(pkg, [file], rules, { only }));
  if (failures.length || !checkable) {
    baselines.delete(file);
  } else {
    const scoped = new Set(rules.filter((r) => r.scope === 'declaration').map((r) => r.id));
    baselines.set(file, {
      changeCount: file.changeCount,
      context,
      entries: reuse?.entries ?? nodes.map(entryOf),
      crlf: file.contains('\r\n'),
      findings: reported.filter((f) => scoped.has(f.ruleId) && f.path === file.path),
    });
  }
  return { findings: settleFindings(pkg, [file], rules, reported), failures };
}
