// Shared variables of a package and every access to them: package-level vars, struct fields, and
// locals captured by goroutine closures. Text search finds candidate positions; each is then
// checked against the tree (identifier, not shadowed, right struct type).
import type { Node } from 'web-tree-sitter';
import type { Package } from '../package';
import { query } from '../parser';
import { findLocalDeclaration, mayDeclare } from '../scope';
import type { SourceFile } from '../source-file';
import { packageTypes, typeOfIdentifier, type GoType } from '../types';
import { storageKey } from './locks';
import type { FuncUnit, Units } from './units';
import { cachedType } from '../tree-cache';

export interface SharedVar {
  key: string;
  /** How code names it: `cache`, `c.items`'s `items`. */
  name: string;
  kind: 'pkgvar' | 'field' | 'local';
  type?: GoType;
  /** The declaring spec (var_spec, field_declaration, or local declaration). */
  decl?: Node;
  /** For fields: the struct type's name. */
  structName?: string;
  accesses: RawAccess[];
}

export interface RawAccess {
  /** The identifier or selector expression naming the variable. */
  expr: Node;
  file: SourceFile;
  unit?: FuncUnit;
  write: boolean;
  /** m[k] = v, delete(m, k), m[k]++: the map's contents change, not the variable. */
  element: boolean;
  /** &x: the address escapes, so racelens cannot follow every use. */
  addressTaken: boolean;
  /** For fields: reached through the enclosing method's receiver (the same instance only within that type's methods). */
  viaReceiver?: boolean;
}

const SYNC_KINDS = new Set(['mutex', 'rwmutex', 'waitgroup', 'once', 'atomic', 'syncmap', 'chan', 'func']);

function escape(name: string): string { return name.replace(/[$]/g, '\\$'); }

function isAssignTarget(x: Node): boolean {
  const list = x.parent;
  if (list?.type !== 'expression_list') return false;
  const stmt = list.parent;
  if (stmt?.type !== 'assignment_statement') return false;
  return stmt.childForFieldName('left')?.id === list.id;
}

/** Read or write, element or whole, for the expression naming a variable. */
export function classify(expr: Node): Pick<RawAccess, 'write' | 'element' | 'addressTaken'> {
  const parent = expr.parent;
  if (parent?.type === 'index_expression' && parent.childForFieldName('operand')?.id === expr.id) {
    const write = isAssignTarget(parent) || parent.parent?.type === 'inc_statement' || parent.parent?.type === 'dec_statement';
    return { write, element: write, addressTaken: false };
  }
  if (parent?.type === 'argument_list' && parent.namedChild(0)?.id === expr.id) {
    const fn = parent.parent?.childForFieldName('function');
    if (fn?.type === 'identifier' && (fn.text === 'delete' || fn.text === 'clear') && !findLocalDeclaration(fn, fn.text)) {
      return { write: true, element: true, addressTaken: false };
    }
  }
  if (isAssignTarget(expr) || parent?.type === 'inc_statement' || parent?.type === 'dec_statement') {
    return { write: true, element: false, addressTaken: false };
  }
  const addressTaken = parent?.type === 'unary_expression' && parent.child(0)?.text === '&';
  return { write: false, element: false, addressTaken };
}

/**
 * Whether an access in a unit may matter. When given, a package variable or field name whose every
 * occurrence is in a unit that does not matter gets no accesses: nothing is checked in the tree.
 */
export type Relevance = (unit: FuncUnit | undefined) => boolean;

export function collectSharedVars(pkg: Package, units: Units, relevant?: Relevance): SharedVar[] {
  const vars: SharedVar[] = [];
  collectPackageVars(pkg, units, vars, relevant);
  collectCapturedLocals(pkg, units, vars);
  collectFields(pkg, units, vars, sharedStructs(units, vars), relevant);
  return vars.filter((v) => v.accesses.length > 0);
}

interface Occurrence { file: SourceFile; at: number; end: number }

/** Matches of `pattern` (over the names, 200 at a time) in every file, grouped by `nameOf(match)`, in file and text order. */
function occurrencesByName(pkg: Package, names: string[], pattern: (alternatives: string) => string, nameOf: (m: RegExpMatchArray) => string): Map<string, Occurrence[]> {
  const out = new Map<string, Occurrence[]>();
  const patterns: RegExp[] = [];
  for (let i = 0; i < names.length; i += 200) patterns.push(new RegExp(pattern(names.slice(i, i + 200).map(escape).join('|')), 'g'));
  for (const file of pkg.files) {
    for (const re of patterns) {
      for (const m of file.text.matchAll(re)) {
        const name = nameOf(m);
        const o = { file, at: m.index!, end: m.index! + m[0].length };
        const list = out.get(name);
        if (list) list.push(o); else out.set(name, [o]);
      }
    }
  }
  return out;
}

function anyRelevant(list: Occurrence[], units: Units, relevant: Relevance | undefined): boolean {
  return !relevant || list.some((o) => relevant(units.unitAt(o.file, o.at, o.end)));
}

/**
 * Struct types whose fields can be shared: receivers of the methods that are or start concurrent
 * work, and the types of package variables and captured locals. Other structs' fields are only
 * ever reached through one instance per call.
 */
function sharedStructs(units: Units, vars: SharedVar[]): Set<string> {
  const out = new Set<string>();
  const top = (u: FuncUnit) => { while (u.parent) u = u.parent; return u; };
  for (const r of units.roots) {
    const t = top(r.unit).recvType ?? (r.spawner && top(r.spawner).recvType);
    if (t) out.add(t);
  }
  for (const v of vars) {
    const name = v.type?.kind === 'pointer' ? v.type.elem?.name : v.type?.name;
    if (name) out.add(name);
  }
  return out;
}

function collectPackageVars(pkg: Package, units: Units, out: SharedVar[], relevant?: Relevance): void {
  const byName = new Map<string, SharedVar>();
  for (const [name, decls] of pkg.decls) {
    if (decls.length !== 1 || cachedType(decls[0]) !== 'var_spec' || name === '_') continue;
    const spec = decls[0];
    const file = pkg.fileOf(spec);
    const nameNode = spec.childrenForFieldName('name').find((n) => n?.text === name);
    const type = file && nameNode ? typeOfIdentifier(nameNode, file, pkg) : undefined;
    if (type && SYNC_KINDS.has(type.kind)) continue;
    byName.set(name, { key: `pkgvar:${name}`, name, kind: 'pkgvar', type, decl: spec, accesses: [] });
  }
  if (!byName.size) return;
  const found = occurrencesByName(pkg, [...byName.keys()], (alts) => `(?<![\\w.$])(?:${alts})(?![\\w$])`, (m) => m[0]);
  // mayDeclare scans a whole function's text: once per function and name.
  const mayDeclareIn = new Map<string, boolean>();
  for (const [name, list] of found) {
    if (!anyRelevant(list, units, relevant)) continue;
    const v = byName.get(name)!;
    for (const { file, at, end } of list) {
      const node = file.root.descendantForIndex(at, end);
      if (node?.type !== 'identifier' || node.text !== name) continue;
      if (node.parent?.type === 'var_spec' && node.parent.id === v.decl?.id) continue;
      const unit = units.enclosing(node);
      let top = unit;
      while (top?.parent) top = top.parent;
      if (top) {
        const key = `${top.id}\u0000${name}`;
        let may = mayDeclareIn.get(key);
        if (may === undefined) mayDeclareIn.set(key, (may = mayDeclare(file.text.slice(top.start, top.end), name)));
        if (may && findLocalDeclaration(node, name)) continue;
      }
      v.accesses.push({ expr: node, file, unit, ...classify(node) });
    }
  }
  out.push(...byName.values());
}

function collectFields(pkg: Package, units: Units, out: SharedVar[], shared: Set<string>, relevant?: Relevance): void {
  const byKey = new Map<string, SharedVar>();
  const names = new Set<string>();
  for (const [structName, fields] of packageTypes(pkg).structs) {
    if (!shared.has(structName)) continue;
    for (const [name, f] of fields) {
      if (SYNC_KINDS.has(f.type.kind) || f.embedded) continue;
      byKey.set(`field:${structName}.${name}`, { key: `field:${structName}.${name}`, name, kind: 'field', type: f.type, decl: f.node, structName, accesses: [] });
      names.add(name);
    }
  }
  if (!names.size) return;
  const found = occurrencesByName(pkg, [...names], (alts) => `\\.\\s*(?:${alts})(?![\\w$])`, (m) => m[0].replace(/^\.\s*/, ''));
  for (const [name, list] of found) {
    if (!anyRelevant(list, units, relevant)) continue;
    for (const { file, end } of list) {
      const node = file.root.descendantForIndex(end - name.length, end);
      if (node?.type !== 'field_identifier' || node.parent?.type !== 'selector_expression') continue;
      const sel = node.parent;
      const base = sharedBase(sel, pkg, units);
      if (!base) continue;
      const key = storageKey(sel, file, pkg, units);
      const v = key && byKey.get(key);
      if (!v) continue;
      v.accesses.push({ expr: sel, file, unit: units.enclosing(sel), ...classify(sel), viaReceiver: base === 'receiver' });
    }
  }
  out.push(...byKey.values());
}

/**
 * Whether `x.f` reaches a possibly shared object: through the method's receiver, a package-level
 * variable, or a variable a closure captured. A parameter or a value made in this function is a
 * different instance each time, so its fields are not shared state.
 */
function sharedBase(sel: Node, pkg: Package, units: Units): 'receiver' | 'pkgvar' | 'captured' | undefined {
  let root: Node | null = sel.childForFieldName('operand');
  while (root && (root.type === 'selector_expression' || root.type === 'index_expression' || root.type === 'parenthesized_expression')) {
    root = root.type === 'parenthesized_expression' ? root.namedChild(0) : root.childForFieldName('operand');
  }
  if (root?.type !== 'identifier') return undefined;
  if (units.isReceiver(root)) return 'receiver';
  const decl = findLocalDeclaration(root, root.text);
  if (!decl) return pkg.decls.get(root.text)?.some((d) => cachedType(d) === 'var_spec') ? 'pkgvar' : undefined;
  const unit = units.enclosing(sel);
  let outer = unit;
  while (outer?.parent) outer = outer.parent;
  if (outer?.recvName === root.text) return 'receiver';
  // Captured: declared outside the innermost function literal that uses it.
  const captured = !!unit?.parent && (decl.endIndex <= unit.start || decl.startIndex >= unit.end) && decl.id !== unit.node.id;
  return captured ? 'captured' : undefined;
}

/** Locals of a function that a goroutine literal started in it also uses. */
function collectCapturedLocals(pkg: Package, units: Units, out: SharedVar[]): void {
  const seen = new Map<string, SharedVar>();
  for (const root of units.roots) {
    const lit = root.unit;
    if (lit.node.type !== 'func_literal' || !lit.body || !root.spawner || root.kind === 'handler') continue;
    let outer = root.spawner;
    while (outer.parent) outer = outer.parent;
    for (const { node: id } of query('(identifier) @id').captures(lit.body)) {
      const decl = findLocalDeclaration(id, id.text);
      if (!decl || (decl.startIndex >= lit.node.startIndex && decl.endIndex <= lit.node.endIndex)) continue;
      const key = `local:${lit.file.path}:${decl.startIndex}:${id.text}`;
      if (seen.has(key)) continue;
      const v: SharedVar = { key, name: id.text, kind: 'local', decl, accesses: [] };
      v.type = typeOfIdentifier(id, lit.file, pkg);
      if (v.type && SYNC_KINDS.has(v.type.kind)) continue;
      seen.set(key, v);
      const text = lit.file.text;
      const re = new RegExp(`(?<![\\w.$])${escape(id.text)}(?![\\w$])`, 'g');
      re.lastIndex = outer.node.startIndex;
      for (let m = re.exec(text); m && m.index < outer.node.endIndex; m = re.exec(text)) {
        const node = lit.file.root.descendantForIndex(m.index, m.index + id.text.length);
        if (node?.type !== 'identifier' || node.text !== id.text) continue;
        const d = findLocalDeclaration(node, id.text);
        if (!d || d.startIndex !== decl.startIndex) continue;
        if (isDeclaringOccurrence(node)) continue;
        v.accesses.push({ expr: node, file: lit.file, unit: units.enclosing(node), ...classify(node) });
      }
      out.push(v);
    }
  }
}

/** The identifier is the name being declared (`x := ...`, `var x`, a parameter, a range key). */
function isDeclaringOccurrence(node: Node): boolean {
  const p = node.parent;
  if (p?.type === 'var_spec' || p?.type === 'parameter_declaration' || p?.type === 'const_spec') return true;
  if (p?.type !== 'expression_list') return false;
  const owner = p.parent;
  return (owner?.type === 'short_var_declaration' || owner?.type === 'range_clause') && owner.childForFieldName('left')?.id === p.id
    && (owner.type === 'short_var_declaration' || owner.children.some((c) => c?.type === ':='));
}
