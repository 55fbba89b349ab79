// Reads once: when a variable becomes atomic, `cfg.Load().A, cfg.Load().B` could mix two values,
// the very torn read the switch is meant to end. Where a function (or one loop body of it) reads
// the variable twice or more, it loads it once into a local before the first read and uses the
// local for every read there. Loops get their own local, so a long-running loop still sees new
// values each iteration; a function that also writes the variable keeps its per-read loads.
import type { Node } from 'web-tree-sitter';
import type { FuncUnit } from '../analysis/functions';
import type { Access } from '../analysis/shared-state';
import type { FileEdit } from '../rule';

export interface LoadOncePlan {
  /** The local that replaces each grouped read. */
  localFor: Map<Access, string>;
  /** `cfgNow := cfg.Load()` before the first read of each group. */
  inserts: FileEdit[];
}

const LOOPS = new Set(['for_statement']);

/** The block that scopes a read: the innermost loop body, else the function body; undefined in a loop header. */
function scopeOf(a: Access, body: Node): Node | undefined {
  for (let n: Node | null = a.expr; n && n.id !== body.id; n = n.parent) {
    const p = n.parent;
    if (p && LOOPS.has(p.type)) {
      if (p.childForFieldName('body')?.id === n.id) return n;
      // Evaluated again on every iteration (`i < cfg.Load().N`): a snapshot would go stale.
      if (n.type !== 'range_clause') return undefined;
    }
  }
  return body;
}

/** The statement directly in `block` (or its statement list) that contains `node`. */
function topStatement(node: Node, block: Node): Node | undefined {
  for (let n: Node | null = node; n; n = n.parent) {
    const p = n.parent;
    if (p?.id === block.id || (p?.type === 'statement_list' && p.parent?.id === block.id)) return n;
  }
  return undefined;
}

export function planLoadOnce(reads: readonly Access[], writes: readonly Access[], load: string, localName: (unit: FuncUnit) => string): LoadOncePlan {
  const plan: LoadOncePlan = { localFor: new Map(), inserts: [] };
  const writers = new Set(writes.map((w) => w.unit));
  const groups = new Map<string, { scope: Node; group: Access[] }>(); // by file and scope node id (ids are per tree)
  for (const a of reads) {
    const body = a.unit?.body;
    if (!body || writers.has(a.unit) || !a.unit!.owns(a.expr.startIndex)) continue;
    const scope = scopeOf(a, body);
    if (!scope) continue;
    const key = `${a.file.path}:${scope.id}`;
    const g = groups.get(key);
    if (g) g.group.push(a); else groups.set(key, { scope, group: [a] });
  }
  for (const { scope, group } of groups.values()) {
    if (group.length < 2) continue;
    const first = group.reduce((x, y) => (y.expr.startIndex < x.expr.startIndex ? y : x));
    const stmt = topStatement(first.expr, scope);
    if (!stmt) continue;
    const file = first.file;
    const lineStart = file.lines.lineStart(file.positionAt(stmt.startIndex).line);
    const indent = file.text.slice(lineStart, stmt.startIndex);
    if (!/^[ \t]*$/.test(indent)) continue;
    const local = localName(first.unit!);
    plan.inserts.push({ path: file.path, start: lineStart, end: lineStart, newText: `${indent}${local} := ${load}\n` });
    for (const a of group) plan.localFor.set(a, local);
  }
  return plan;
}
