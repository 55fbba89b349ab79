// Local scope lookup: is a name declared in a block, parameter list or statement header that
// encloses a node? Walks the ancestors only; package-level declarations are the package's business.
import type { Node, Tree } from 'web-tree-sitter';
import { query } from './parser';

const FUNCTIONS = new Set(['function_declaration', 'method_declaration', 'func_literal']);

function identifiersOf(list: Node | null): string[] {
  if (!list) return [];
  if (list.type === 'identifier') return [list.text];
  return list.namedChildren.filter((n): n is Node => !!n && n.type === 'identifier').map((n) => n.text);
}

// Per-tree memo of the names each statement or function declares: lookups walk the same
// ancestors over and over. Keyed by tree, so a reparse starts afresh.
const memo = new WeakMap<Tree, Map<number, string[]>>();

function memoized(node: Node, tag: number, compute: (n: Node) => string[]): string[] {
  let byId = memo.get(node.tree);
  if (!byId) memo.set(node.tree, (byId = new Map()));
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
  switch (stmt.type) {
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

/** Names declared by a statement header (if/for/switch initialisers, range, type-switch alias, select case). */
function headerNames(stmt: Node, at: Node): string[] {
  const names: string[] = [];
  const init = stmt.childForFieldName('initializer');
  if (init && init.endIndex <= at.startIndex) names.push(...declaredNames(init));
  if (stmt.type === 'for_statement') {
    for (const child of stmt.namedChildren) {
      if (!child) continue;
      if (child.type === 'range_clause' && child.children.some((c) => c?.type === ':=')) {
        if (child.endIndex <= at.startIndex) names.push(...identifiersOf(child.childForFieldName('left')));
      }
      if (child.type === 'for_clause') {
        const fi = child.childForFieldName('initializer');
        if (fi && fi.endIndex <= at.startIndex) names.push(...declaredNames(fi));
      }
    }
  }
  if (stmt.type === 'type_switch_statement') names.push(...identifiersOf(stmt.childForFieldName('alias')));
  if (stmt.type === 'communication_case') {
    const comm = stmt.childForFieldName('communication');
    if (comm?.type === 'receive_statement' && comm.children.some((c) => c?.type === ':=')) {
      names.push(...identifiersOf(comm.childForFieldName('left')));
    }
  }
  return names;
}

/** The statement, header or function that locally declares `name` visible at `at`; null when none does. */
export function findLocalDeclaration(at: Node, name: string): Node | null {
  let child: Node = at;
  for (let scope = at.parent; scope; child = scope, scope = scope.parent) {
    if (scope.type === 'source_file') return null;
    if (scope.type === 'statement_list' || scope.type === 'block') {
      let found: Node | null = null;
      for (const stmt of scope.namedChildren) {
        if (!stmt || stmt.startIndex >= child.startIndex) break;
        if (stmt.endIndex <= at.startIndex && declaredNames(stmt).includes(name)) found = stmt;
      }
      if (found) return found;
    } else if (FUNCTIONS.has(scope.type)) {
      if (parameterNames(scope).includes(name)) return scope;
      if (scope.type === 'function_declaration' || scope.type === 'method_declaration') return null;
    } else if (headerNames(scope, at).includes(name)) {
      return scope;
    }
  }
  return null;
}

export function isLocallyDeclared(at: Node, name: string): boolean {
  return findLocalDeclaration(at, name) !== null;
}

/**
 * A cheap negative test before findLocalDeclaration: false when `text` (a function's source)
 * cannot declare `name` — no `name :=`, `var name`, `const name`, parameter-like `(name` or
 * `, name`, a `range`/`case` binding, or a line of a `var (...)` block. True means "maybe".
 */
export function mayDeclare(text: string, name: string): boolean {
  const n = name.replace(/\$/g, '\\$');
  return new RegExp(`(?:[(,]\\s*|\\b(?:var|const)\\s+)${n}(?![\\w$])|(?<![\\w$.])${n}\\s*(?:,[^=\\n]*)?:=|\\n[ \\t]*${n}[ \\t]+[\\w*\\[]`).test(text);
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
