// Human wording for accesses, threads and locks in the messages of the shared-state rules, and the
// related locations every race finding carries: the other access, the goroutine starts.
import type { Node } from 'web-tree-sitter';
import type { FuncUnit } from '../analysis/functions';
import type { Root } from '../analysis/goroutines';
import type { SharedLock } from '../analysis/lock-keys';
import type { Access, Conflict, Thread } from '../analysis/shared-state';
import type { RelatedLocation } from '../rule';

/** `Stats.mu`, `cacheMu`. */
export function lockName(lock: SharedLock): string {
  return lock.scope === 'struct' ? `${lock.struct}.${lock.name}` : lock.name;
}

export function where(node: Node, file: { path: string; positionAt(o: number): { line: number } }): string {
  return `${file.path.replace(/^.*[\\/]/, '')}:${file.positionAt(node.startIndex).line + 1}`;
}

function unitName(u: FuncUnit): string | undefined {
  return u.name ? (u.recvType ? `${u.recvType}.${u.name}` : u.name) : undefined;
}

/** `goroutine T.loop`, `the goroutine started at a.go:12`, `HTTP handler T.serve`, `exported method T.Get`. */
export function rootName(r: Root): string {
  const name = unitName(r.unit);
  switch (r.kind) {
    case 'handler': return `HTTP handler ${name ?? `at ${where(r.unit.node, r.unit.file)}`}`;
    case 'api': return `exported method ${name}`;
    default: return name ? `goroutine ${name}` : `the goroutine started at ${where(r.site ?? r.unit.node, r.spawner?.file ?? r.unit.file)}`;
  }
}

/** Where an access runs, as a phrase: `in goroutine T.loop`, `in Start after the go statement at a.go:12`. */
export function contextOf(a: Access, thread: Thread, other?: Thread): string {
  if (thread === 'main') {
    const r = other && other !== 'main' ? other : undefined;
    const fn = a.unit ? unitName(a.unit.outermost) ?? 'the enclosing function' : 'the enclosing function';
    return r?.site ? `in ${fn} after ${r.kind === 'handler' ? 'the server starts its handlers' : 'the go statement'} at ${where(r.site, r.spawner!.file)}` : `in ${fn}`;
  }
  return `in ${rootName(thread)}`;
}

/** Where one side of a conflict runs, as a phrase: after the spawn when that is why it overlaps. */
export function sideContext(c: Conflict, side: Access): string {
  const { a, b, afterSpawn } = c.overlap;
  const mine = side === c.write ? 'a' : 'b';
  const [t, other] = mine === 'a' ? [a, b] : [b, a];
  return contextOf(side, afterSpawn === mine ? 'main' : t, other);
}

/** Why a conflict's two sides overlap when they run in one thread: ` (it is started in a loop at a.go:9)`. */
export function selfReason(c: Conflict): string {
  return c.overlap.a === c.overlap.b && c.overlap.why ? `; they overlap because ${c.overlap.why}` : '';
}

/** What the message assumes, when an exported method is one side: said so the user can judge it. */
export function assumption(c: Conflict): string {
  const { a, b, afterSpawn } = c.overlap;
  const api = [afterSpawn === 'a' ? 'main' : a, afterSpawn === 'b' ? 'main' : b].find((t): t is Root => t !== 'main' && t.kind === 'api');
  const type = api?.unit.recvType;
  return type ? ` (racelens assumes the exported methods of ${type} may be called concurrently, since ${type} locks a mutex)` : '';
}

/** The node a finding or related location points at: `m[k]` rather than `m`, `delete(m, k)`. */
export function accessNode(a: Access): Node {
  const p = a.expr.parent;
  if (p?.type === 'index_expression' && p.childForFieldName('operand')?.id === a.expr.id) return p;
  if (p?.type === 'argument_list' && a.element) return p.parent ?? a.expr;
  return a.expr;
}

export function related(a: Access, message: string): RelatedLocation {
  const n = accessNode(a);
  return { path: a.file.path, start: n.startIndex, end: n.endIndex, message };
}

/** Where each goroutine of a conflict starts, as related locations (none for exported methods). */
export function startsOf(c: Conflict): RelatedLocation[] {
  const out: RelatedLocation[] = [];
  const seen = new Set<Root>();
  for (const t of [c.overlap.a, c.overlap.b]) {
    if (t === 'main' || seen.has(t) || !t.site || !t.spawner) continue;
    seen.add(t);
    out.push({ path: t.spawner.file.path, start: t.site.startIndex, end: t.site.endIndex, message: `${rootName(t)} starts here` });
  }
  return out;
}

export function selfConflict(c: Conflict): boolean {
  return c.write.expr.id === c.other.expr.id && c.write.file === c.other.file;
}

/** A conflict and the side a finding points at (the unguarded access, the write). */
export interface Sided { c: Conflict; side: Access }

/**
 * One finding per conflict, not per access: conflicts grouped by the variable and the critical
 * section that needs the lock on the reported side (the accesses of one block of one function).
 * Each group is told by its first conflict in source order; the group's other accesses, and the
 * other functions it races with, become related locations.
 */
export function groupConflicts(list: readonly Sided[]): (Sided & { more: Access[]; others: Access[] })[] {
  const groups = new Map<string, Sided & { more: Access[]; others: Access[] }>();
  const otherOf = (x: Sided) => (x.side === x.c.write ? x.c.other : x.c.write);
  const sorted = [...list].sort((x, y) => x.side.file.path.localeCompare(y.side.file.path) || x.side.expr.startIndex - y.side.expr.startIndex
    || otherOf(x).file.path.localeCompare(otherOf(y).file.path) || otherOf(x).expr.startIndex - otherOf(y).expr.startIndex);
  for (const x of sorted) {
    const { c, side } = x;
    const key = `${side.v.key}|${side.file.path}|${blockOf(side.expr)}`;
    const g = groups.get(key);
    if (!g) { groups.set(key, { c, side, more: [], others: [] }); continue; }
    if (g.side.expr.id !== side.expr.id && !g.more.some((m) => m.expr.id === side.expr.id)) g.more.push(side);
    const other = otherOf(x);
    const first = otherOf(g);
    if (other.unit !== first.unit && !g.others.some((o) => o.unit === other.unit)) g.others.push(other);
  }
  return [...groups.values()];
}

/** The other functions a group's side races with, as related locations. */
export function alsoRacesWith(others: readonly Access[]): RelatedLocation[] {
  return others.map((o) => related(o, `it races with this ${o.write ? 'write' : 'read'} too`));
}

/** The block (statement list) an access's statement belongs to: the extent of one critical section. */
function blockOf(expr: Node): number {
  for (let n = expr.parent; n; n = n.parent) {
    if (n.type === 'statement_list' || n.type === 'block' || n.type === 'source_file') return n.id;
  }
  return -1;
}
