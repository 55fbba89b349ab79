// Local scope lookup: is a name declared in a block, parameter list or statement header that
// encloses a node? Walks the ancestors only; package-level declarations are the package's business.
import type { Node } from 'web-tree-sitter';
import { query } from './parser';
import { cachedEnd, cachedNamedChildren, cachedParent, cachedType, PerTree } from './tree-cache';

const FUNCTIONS = new Set(['function_declaration', 'method_declaration', 'func_literal']);

function identifiersOf(list: Node | null): string[] {
  if (!list) return [];
  if (list.type === 'identifier') return [list.text];
  return list.namedChildren.filter((n): n is Node => !!n && n.type === 'identifier').map((n) => n.text);
}

// Per-tree memo of the names each statement or function declares: lookups walk the same
// ancestors over and over. Keyed by tree, so a reparse starts afresh.
const memo = new PerTree<string[]>();

function memoized(node: Node, tag: number, compute: (n: Node) => string[]): string[] {
  const byId = memo.of(node.tree);
  const key = node.id * 2 + tag;
  let names = byId.get(key);
  if (!names) byId.set(key, (names = compute(node)));
  return names;
}

/** Names a statement declares into its enclosing block. */
export function declaredNames(stmt: Node): string[] {
  return memoized(stmt, 0, computeDeclaredNames);
}

function computeDeclaredNames(stmt: Node): string[] {
  switch (cachedType(stmt)) {
    case 'short_var_declaration':
      return identifiersOf(stmt.childForFieldName('left'));
    case 'var_declaration':
    case 'const_declaration': {
      const names: string[] = [];
      for (const spec of stmt.descendantsOfType(['var_spec', 'const_spec'])) {
        if (spec) for (const n of spec.childrenForFieldName('name')) if (n) names.push(n.text);
      }
      return names;
    }
    case 'type_declaration':
      return stmt.descendantsOfType(['type_spec', 'type_alias'])
        .map((s) => s?.childForFieldName('name')?.text)
        .filter((n): n is string => !!n);
    case 'labeled_statement':
      return [];
    default:
      return [];
  }
}

function parameterNames(fn: Node): string[] {
  return memoized(fn, 1, computeParameterNames);
}

function computeParameterNames(fn: Node): string[] {
  const names: string[] = [];
  for (const field of ['receiver', 'parameters', 'result', 'type_parameters']) {
    const list = fn.childForFieldName(field);
    if (!list || list.type === 'type_identifier') continue;
    for (const decl of list.namedChildren) {
      if (!decl) continue;
      for (const n of decl.childrenForFieldName('name')) if (n) names.push(n.text);
    }
  }
  return names;
}

/** Node types whose header can declare names: initialisers, range clauses, type-switch aliases, select cases. */
const HEADERS = new Set(['if_statement', 'expression_switch_statement', 'type_switch_statement', 'for_clause', 'for_statement', 'communication_case']);

/** Names a header declares, each visible from `end` on (-1: everywhere in the statement). */
interface HeaderBinding { end: number; names: string[] }

function computeHeaderBindings(stmt: Node): HeaderBinding[] {
  const out: HeaderBinding[] = [];
  const type = cachedType(stmt);
  const init = stmt.childForFieldName('initializer');
  if (init) out.push({ end: init.endIndex, names: declaredNames(init) });
  if (type === 'for_statement') {
    for (const child of stmt.namedChildren) {
      if (!child) continue;
      if (child.type === 'range_clause' && child.children.some((c) => c?.type === ':=')) {
        out.push({ end: child.endIndex, names: identifiersOf(child.childForFieldName('left')) });
      }
      if (child.type === 'for_clause') {
        const fi = child.childForFieldName('initializer');
        if (fi) out.push({ end: fi.endIndex, names: declaredNames(fi) });
      }
    }
  }
  if (type === 'type_switch_statement') out.push({ end: -1, names: identifiersOf(stmt.childForFieldName('alias')) });
  if (type === 'communication_case') {
    const comm = stmt.childForFieldName('communication');
    if (comm?.type === 'receive_statement' && comm.children.some((c) => c?.type === ':=')) {
      out.push({ end: -1, names: identifiersOf(comm.childForFieldName('left')) });
    }
  }
  return out;
}

/** A block's statements (up to any missing one), where each ends, and which declare each name. */
interface BlockIndex { stmts: Node[]; ends: number[]; declaring: Map<string, number[]> }

function computeBlockIndex(block: Node): BlockIndex {
  const index: BlockIndex = { stmts: [], ends: [], declaring: new Map() };
  for (const stmt of cachedNamedChildren(block)) {
    if (!stmt) break;
    const i = index.stmts.length;
    index.stmts.push(stmt);
    index.ends.push(cachedEnd(stmt));
    for (const name of declaredNames(stmt)) {
      const list = index.declaring.get(name);
      if (!list) index.declaring.set(name, [i]);
      else if (list[list.length - 1] !== i) list.push(i);
    }
  }
  return index;
}

/** An ancestor on a lookup's way up, with what it declares; built once per node and shared by lookups. */
interface ScopeStep {
  node: Node;
  kind: 'file' | 'block' | 'function' | 'literal' | 'header' | 'other';
  /** Undefined until first needed; null above the root. */
  parent?: ScopeStep | null;
  block?: BlockIndex;
  parameters?: string[];
  header?: HeaderBinding[];
}

const steps = new PerTree<ScopeStep>();

function kindOf(type: string): ScopeStep['kind'] {
  if (type === 'source_file') return 'file';
  if (type === 'statement_list' || type === 'block') return 'block';
  if (type === 'function_declaration' || type === 'method_declaration') return 'function';
  if (type === 'func_literal') return 'literal';
  return HEADERS.has(type) ? 'header' : 'other';
}

function stepOf(byId: Map<number, ScopeStep>, node: Node): ScopeStep {
  let step = byId.get(node.id);
  if (!step) byId.set(node.id, (step = { node, kind: kindOf(cachedType(node)) }));
  return step;
}

function parentStep(byId: Map<number, ScopeStep>, step: ScopeStep): ScopeStep | null {
  if (step.parent === undefined) {
    const parent = cachedParent(step.node);
    step.parent = parent ? stepOf(byId, parent) : null;
  }
  return step.parent;
}

/** Answers by tree and node id (with the name asked): types, the call graph and lock keys ask about the same uses. */
const answers = new PerTree<{ name: string; decl: Node | null }>();

/** The statement, header or function that locally declares `name` visible at `at`; null when none does. */
export function findLocalDeclaration(at: Node, name: string): Node | null {
  const byId = answers.of(at.tree);
  const known = byId.get(at.id);
  if (known?.name === name) return known.decl;
  const decl = lookUp(at, name);
  byId.set(at.id, { name, decl });
  return decl;
}

function lookUp(at: Node, name: string): Node | null {
  // The starting node is not cached: lookups start from many different nodes, their ancestors are shared.
  const first = at.parent;
  if (!first) return null;
  const byId = steps.of(at.tree);
  let childStart = at.startIndex;
  for (let step: ScopeStep | null = stepOf(byId, first); step; childStart = step.node.startIndex, step = parentStep(byId, step)) {
    switch (step.kind) {
      case 'file':
        return null;
      case 'block': {
        // The last statement before the child on the way up that declares the name and ends before `at`.
        const block = (step.block ??= computeBlockIndex(step.node));
        const declaring = block.declaring.get(name);
        for (let k = (declaring?.length ?? 0) - 1; k >= 0; k--) {
          const i = declaring![k];
          if (block.stmts[i].startIndex < childStart && block.ends[i] <= at.startIndex) return block.stmts[i];
        }
        break;
      }
      case 'function':
      case 'literal':
        if ((step.parameters ??= parameterNames(step.node)).includes(name)) return step.node;
        if (step.kind === 'function') return null;
        break;
      case 'header':
        for (const b of (step.header ??= computeHeaderBindings(step.node))) if (b.end <= at.startIndex && b.names.includes(name)) return step.node;
        break;
    }
  }
  return null;
}

export function isLocallyDeclared(at: Node, name: string): boolean {
  return findLocalDeclaration(at, name) !== null;
}

const SPACE = /\s/;

/**
 * A cheap negative test before findLocalDeclaration, for every name of a function's text at once:
 * a name missing from the set cannot be declared locally there. Each maximal run of word
 * characters is checked against the declaring forms: a list, `var` or `const` before it
 * (`(name`, `, name`, `[name` for type parameters), `:=` after it, or a line of a `var (...)` block.
 */
export function declarableNames(text: string): Set<string> {
  const out = new Set<string>();
  for (const m of text.matchAll(/[\w$]+/g)) {
    const name = m[0], at = m.index!, end = at + name.length;
    if (out.has(name)) continue;
    if (listedOrDeclared(text, at) || shortDeclared(text, at, end) || blockLine(text, at, end)) out.add(name);
  }
  return out;
}

/** `(name`, `, name`, `[name`, `var name`, `const name` (whitespace between). */
function listedOrDeclared(text: string, at: number): boolean {
  let i = at - 1;
  while (i >= 0 && SPACE.test(text[i])) i--;
  if (i >= 0 && (text[i] === '(' || text[i] === ',' || text[i] === '[')) return true;
  if (i === at - 1) return false; // `var`/`const` needs whitespace before the name
  for (const kw of ['var', 'const']) {
    const k = i - kw.length + 1;
    if (k >= 0 && text.startsWith(kw, k) && (k === 0 || !/\w/.test(text[k - 1]))) return true;
  }
  return false;
}

/** `name :=` or `name, other :=` on one line (no `=` between), not after a dot. */
function shortDeclared(text: string, at: number, end: number): boolean {
  if (at > 0 && text[at - 1] === '.') return false;
  let i = end;
  while (i < text.length && SPACE.test(text[i])) i++;
  if (text[i] === ':' && text[i + 1] === '=') return true;
  if (text[i] !== ',') return false;
  let r = i + 1;
  while (r < text.length && text[r] !== '=' && text[r] !== '\n') r++;
  return text[r] === '=' && r - 1 > i && text[r - 1] === ':';
}

/** A line that starts with the name, then spaces and a type or a value: `\n\tname T`, `\n\tname = v` (a `var (...)` block). */
function blockLine(text: string, at: number, end: number): boolean {
  let i = at - 1;
  while (i >= 0 && (text[i] === ' ' || text[i] === '\t')) i--;
  if (i < 0 || text[i] !== '\n') return false;
  let j = end;
  while (j < text.length && (text[j] === ' ' || text[j] === '\t')) j++;
  return j > end && j < text.length && /[\w*[=<(]/.test(text[j]);
}

const NAMES = '[(identifier) (type_identifier) (package_identifier) (label_name)] @name';

/** A name not used anywhere in `fn`: `base`, else `base2`, `base3`, ... */
export function freshNameIn(fn: Node, base: string): string {
  const used = new Set(query(NAMES).captures(fn).map((c) => c.node.text));
  if (!used.has(base)) return base;
  for (let i = 2; ; i++) if (!used.has(`${base}${i}`)) return `${base}${i}`;
}

/** The top-level function (or method) around a node, through any literals. */
export function outermostFunction(node: Node): Node | null {
  let fn: Node | null = null;
  for (let n = node.parent; n; n = n.parent) if (FUNCTIONS.has(n.type)) fn = n;
  return fn;
}
