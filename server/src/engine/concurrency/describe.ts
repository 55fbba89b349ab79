// Human wording for accesses, contexts and locks in messages of the shared-state rules.
import type { Node } from 'web-tree-sitter';
import type { RelatedLocation } from '../rule';
import type { Access } from './model';
import type { ConcurrentRoot } from './units';

export function lockName(key: string): string {
  return key.replace(/^(field|pkgvar):/, '').replace(/^local:.*:/, '');
}

function where(node: Node, file: { path: string; positionAt(o: number): { line: number } }): string {
  return `${file.path.replace(/^.*[\\/]/, '')}:${file.positionAt(node.startIndex).line + 1}`;
}

function rootName(r: ConcurrentRoot): string {
  const u = r.unit;
  const name = u.name ? (u.recvType ? `${u.recvType}.${u.name}` : u.name) : undefined;
  switch (r.kind) {
    case 'handler': return `HTTP handler ${name ?? `at ${where(u.node, u.file)}`}`;
    case 'api': return `exported method ${name}`;
    default: return name ? `goroutine ${name}` : `the goroutine started at ${where(r.site ?? u.node, r.spawner?.file ?? u.file)}`;
  }
}

export function contextOf(a: Access): string {
  if (a.ctx.kind === 'post') {
    const r = a.ctx.spawned[0];
    return `in ${a.unit?.name ?? 'the enclosing function'} after the go statement at ${where(r.site ?? r.unit.node, r.spawner?.file ?? r.unit.file)}`;
  }
  if (a.ctx.kind === 'seq') return 'before any goroutine starts';
  const roots = [...a.ctx.roots];
  const r = roots.find((x) => x.kind !== 'api') ?? roots[0];
  return `in ${rootName(r)}`;
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

export function selfConflict(a: Access, b: Access): boolean {
  return a.expr.id === b.expr.id && a.file === b.file;
}
