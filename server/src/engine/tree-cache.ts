// Per-tree caches of node facts that cost a call into WASM each time: parent, type, end, named
// children. web-tree-sitter hands out a fresh Node per access and computes `parent` by descending
// from the root, so ancestor walks that many lookups share are much cheaper from here.
// Keyed by tree and node id: a reparse yields a new Tree and starts afresh. Do not use on a tree
// between tree.edit() and its reparse. analyze() forgets a package's trees when it is done, so the
// caches live as long as one analysis, not as long as the trees.
import type { Node, Tree } from 'web-tree-sitter';

const registry: PerTree<unknown>[] = [];

/** Values by tree and node id, emptied for a tree by forgetTrees(). */
export class PerTree<V> {
  private readonly byTree = new WeakMap<Tree, Map<number, V>>();
  /** The last tree asked about: lookups come in long runs on one tree. */
  private lastTree?: Tree;
  private lastById?: Map<number, V>;

  constructor() { registry.push(this); }

  of(tree: Tree): Map<number, V> {
    if (tree === this.lastTree) return this.lastById!;
    let byId = this.byTree.get(tree);
    if (!byId) this.byTree.set(tree, (byId = new Map()));
    this.lastTree = tree;
    this.lastById = byId;
    return byId;
  }

  forget(tree: Tree): void {
    this.byTree.delete(tree);
    if (tree === this.lastTree) this.lastTree = this.lastById = undefined;
  }
}

/** Drops everything cached about these trees. */
export function forgetTrees(trees: Iterable<Tree>): void {
  for (const tree of trees) for (const cache of registry) cache.forget(tree);
}

interface NodeFacts { parent?: Node | null; type?: string; end?: number; named?: (Node | null)[] }

const facts = new PerTree<NodeFacts>();

function factsOf(node: Node): NodeFacts {
  const byId = facts.of(node.tree);
  let found = byId.get(node.id);
  if (!found) byId.set(node.id, (found = {}));
  return found;
}

export function cachedParent(node: Node): Node | null {
  const f = factsOf(node);
  if (f.parent === undefined) f.parent = node.parent;
  return f.parent;
}

export function cachedType(node: Node): string {
  const f = factsOf(node);
  return (f.type ??= node.type);
}

export function cachedEnd(node: Node): number {
  const f = factsOf(node);
  return (f.end ??= node.endIndex);
}

export function cachedNamedChildren(node: Node): (Node | null)[] {
  const f = factsOf(node);
  return (f.named ??= node.namedChildren);
}
