import type { Node } from 'web-tree-sitter';
import { matchesOnAnchoredLines } from '../../engine/anchored';
import type { Package } from '../../engine/package';
import { query } from '../../engine/parser';
import type { Fix, Rule } from '../../engine/rule';
import { findLocalDeclaration } from '../../engine/scope';
import type { SourceFile } from '../../engine/source-file';
import { typeOfIdentifier, type GoType } from '../../engine/types';
import { isPureExpression } from '../../engine/pure';
import { enclosingFunction } from '../../engine/syntax';

/** `m[a][b] = ...`, `m[a][b] op= ...`, `m[a][b]++`, `m[a][b]--` with `m` a plain name. */
const NESTED_WRITES = `[
  (assignment_statement left: (expression_list (index_expression operand: (index_expression operand: (identifier) @m) @inner) @outer)) @stmt
  (inc_statement (index_expression operand: (index_expression operand: (identifier) @m) @inner) @outer) @stmt
  (dec_statement (index_expression operand: (index_expression operand: (identifier) @m) @inner) @outer) @stmt
]`;

/** Lines with `x[a][b] op= ...` or `x[a][b]++`: the query runs on those lines only. */
const ANCHOR = /\]\s*\[[^\n]*\]\s*(\+\+|--|(<<|>>|&\^|[-+*/%&|^])?=(?!=))/;

const IDENTIFIERS = '(identifier) @id';
const FUNCTIONS = new Set(['function_declaration', 'method_declaration', 'func_literal']);
const HEADERS = new Set(['if_statement', 'expression_switch_statement', 'expression_case', 'for_statement', 'for_clause', 'type_switch_statement']);

function isBuiltinCall(call: Node | null, names: string[]): boolean {
  const fn = call?.type === 'call_expression' ? call.childForFieldName('function') : null;
  return fn?.type === 'identifier' && names.includes(fn.text) && !findLocalDeclaration(fn, fn.text);
}

/** The value `m` is declared with, when the declaration gives one value per name. */
function declaredValue(decl: Node, name: string): Node | undefined {
  let spec: Node | undefined = decl;
  if (decl.type === 'var_declaration') {
    spec = decl.descendantsOfType('var_spec').find((s) => s?.childrenForFieldName('name').some((n) => n?.text === name)) ?? undefined;
  }
  if (!spec) return undefined;
  const short = spec.type === 'short_var_declaration';
  const names = short ? spec.childForFieldName('left')?.namedChildren ?? [] : spec.childrenForFieldName('name');
  const values = spec.childForFieldName(short ? 'right' : 'value');
  const i = names.findIndex((n) => n?.text === name);
  if (i < 0 || !values || values.namedChildCount !== names.length) return undefined;
  return values.namedChild(i) ?? undefined;
}

/** `make(map...)` or an empty `map...{}` literal: a map with no inner maps yet. */
function isFreshEmptyMap(value: Node): boolean {
  if (value.type === 'call_expression') return isBuiltinCall(value, ['make']);
  if (value.type === 'composite_literal') {
    const body = value.childForFieldName('body');
    return !!body && body.namedChildren.every((c) => c?.type === 'comment');
  }
  return false;
}


/** The statement-level ancestor header (if/switch/case/for condition) `node` sits in, if any. */
function inHeader(node: Node, stop: Node): boolean {
  let child = node;
  for (let n = node.parent; n && n.id !== stop.id; child = n, n = n.parent) {
    if (n.type === 'block' || n.type === 'statement_list' || FUNCTIONS.has(n.type)) return false;
    if (HEADERS.has(n.type)) {
      const body = n.type === 'expression_case' ? null : n.childForFieldName('body') ?? n.childForFieldName('consequence');
      if (!body || body.id !== child.id) return true;
    }
  }
  return false;
}

/**
 * Uses of `m` that leave its inner maps alone: nested element writes and reads `m[a][b]`, plain
 * reads `m[a]` outside conditions, `len(m)`, `delete(m, k)`. Anything else may fill or test it.
 */
function isInert(ref: Node, fnBody: Node): boolean {
  const parent = ref.parent;
  if (isBuiltinCall(parent?.parent ?? null, ['len', 'delete']) && parent?.type === 'argument_list') return true;
  if (parent?.type !== 'index_expression' || parent.childForFieldName('operand')?.id !== ref.id) return false;
  const up = parent.parent;
  // m[a] = ...: an inner map is stored.
  if (up?.type === 'expression_list' && up.parent?.type === 'assignment_statement' && up.parent.childForFieldName('left')?.id === up.id) return false;
  // x, ok := m[a]: the comma-ok result usually guards the write.
  if (up?.type === 'expression_list' && up.parent && ['short_var_declaration', 'assignment_statement'].includes(up.parent.type)) {
    const left = up.parent.childForFieldName('left');
    if (left && left.id !== up.id && left.namedChildCount === 2) return false;
  }
  return !inHeader(parent, fnBody);
}

function guardedBy(stmt: Node, scope: Node, refs: Node[]): boolean {
  // The write sits in an if/switch whose header tests m: `if m[a] == nil`, `if _, ok := m[a]; !ok`.
  let child = stmt;
  for (let n = stmt.parent; n && n.id !== scope.id; child = n, n = n.parent) {
    if (!HEADERS.has(n.type)) continue;
    const headerRefs = refs.filter((r) => r.startIndex >= n.startIndex && r.endIndex <= n.endIndex
      && !(r.startIndex >= child.startIndex && r.endIndex <= child.endIndex));
    if (headerRefs.length) return true;
  }
  return false;
}

function loopsAround(node: Node, stop: Node): Node[] {
  const loops: Node[] = [];
  for (let n = node.parent; n && n.id !== stop.id; n = n.parent) if (n.type === 'for_statement') loops.push(n);
  return loops;
}

function insertGuardFix(file: SourceFile, stmt: Node, mText: string, index: Node, inner: GoType): Fix[] {
  if (!isPureExpression(index)) return [];
  const lineStart = file.lines.lineStart(file.positionAt(stmt.startIndex).line);
  const indent = file.text.slice(lineStart, stmt.startIndex);
  if (!/^\t*$/.test(indent)) return [];
  const key = file.textOf(index);
  const target = `${mText}[${key}]`;
  const eol = file.text.includes('\r\n') ? '\r\n' : '\n'; // keep a CRLF file CRLF
  const newText = `if ${target} == nil {${eol}${indent}\t${target} = make(${inner.text})${eol}${indent}}${eol}${indent}`;
  return [{
    title: `Create ${target} before writing to it`,
    edits: [{ path: file.path, start: stmt.startIndex, end: stmt.startIndex, newText }],
    isPreferred: true,
    safe: true,
  }];
}

function check(file: SourceFile, pkg: Package, mIdent: Node, stmt: Node): { type: GoType } | undefined {
  const name = mIdent.text;
  const decl = findLocalDeclaration(mIdent, name);
  if (!decl || (decl.type !== 'short_var_declaration' && decl.type !== 'var_declaration')) return undefined;
  const fn = enclosingFunction(stmt);
  if (!fn || enclosingFunction(decl)?.id !== fn.id) return undefined;
  const value = declaredValue(decl, name);
  if (!value || !isFreshEmptyMap(value)) return undefined;
  const type = typeOfIdentifier(mIdent, file, pkg);
  if (type?.kind !== 'map' || type.elem?.kind !== 'map') return undefined;

  // Every use of this m in its scope (the block that declares it).
  const scope = decl.parent;
  if (!scope) return undefined;
  const refs = query(IDENTIFIERS).captures(scope).map((c) => c.node).filter((r) => r.text === name
    && r.startIndex > decl.endIndex && r.id !== mIdent.id && findLocalDeclaration(r, name)?.id === decl.id);
  if (guardedBy(stmt, scope, refs)) return undefined;
  const stmtLoops = new Set(loopsAround(stmt, scope).map((l) => l.id));
  for (const r of refs) {
    if (isInert(r, fn)) continue;
    if (enclosingFunction(r)?.id !== fn.id) return undefined; // a closure may fill m at any time
    if (r.startIndex < stmt.startIndex) return undefined;
    // Later in a loop that also holds the write: it runs before the write's next iteration.
    if (loopsAround(r, scope).some((l) => stmtLoops.has(l.id))) return undefined;
  }
  return { type };
}

export const nilInnerMap: Rule = {
  id: 'nil-inner-map',
  title: 'Write to a nil inner map',
  doc: 'In a map of maps made empty, m[a][b] = v writes into the inner map m[a], which is nil until it is created, and panics with "assignment to entry in nil map". Create it first: if m[a] == nil { m[a] = make(...) }.',
  severity: 'error',
  scope: 'declaration',
  run(pass) {
    for (const file of pass.files) {
      for (const m of matchesOnAnchoredLines(file, NESTED_WRITES, ANCHOR, pass.spans(file))) {
        const cap = (name: string) => m.captures.find((c) => c.name === name)?.node;
        const mIdent = cap('m'), inner = cap('inner'), outer = cap('outer'), stmt = cap('stmt');
        if (!mIdent || !inner || !outer || !stmt) continue;
        const found = check(file, pass.pkg, mIdent, stmt);
        if (!found) continue;
        const innerType = found.type.elem!;
        const index = inner.childForFieldName('index');
        if (!index) continue;
        const target = `${mIdent.text}[${file.textOf(index)}]`;
        // A named outer type spelled in another file may use imports this file does not have.
        const fixable = !(found.type.name && innerType.text.includes('.'));
        pass.report({
          file,
          node: outer,
          message: `${target} is a nil map here: assigning to its entries panics (assignment to entry in nil map)`,
          fixes: fixable ? insertGuardFix(file, stmt, mIdent.text, index, innerType) : [],
        });
      }
    }
  },
};
