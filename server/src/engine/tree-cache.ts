// Per-tree caches of node facts that cost a call into WASM each time: parent, type, end, named
// children. web-tree-sitter hands out a fresh Node per access and computes `parent` by descending
// from the root, so ancestor walks that many lookups share are much cheaper from here.
// Keyed by tree: a reparse yields a new Tree and starts afresh. Do not use on a tree between
// tree.edit() and its reparse.
import type { Node, Tree } from 'web-tree-sitter';

interface NodeFacts { parent?: Node | null; type?: string; end?: number; named?: (Node | null)[] }

const caches = new WeakMap<Tree, Map<number, NodeFacts>>();

function factsOf(node: Node): NodeFacts {
  let byId = caches.get(node.tree);
  if (!byId) caches.set(node.tree, (byId = new Map()));
  let facts = byId.get(node.id);
  if (!facts) byId.set(node.id, (facts = {}));
  return facts;
}

export function cachedParent(node: Node): Node | null {
  const facts = factsOf(node);
  if (facts.parent === undefined) facts.parent = node.parent;
  return facts.parent;
}

export function cachedType(node: Node): string {
  const facts = factsOf(node);
  return (facts.type ??= node.type);
}

export function cachedEnd(node: Node): number {
  const facts = factsOf(node);
  return (facts.end ??= node.endIndex);
}

export function cachedNamedChildren(node: Node): (Node | null)[] {
  const facts = factsOf(node);
  return (facts.named ??= node.namedChildren);
}
