import type { Node } from 'web-tree-sitter';
import { matchesOnAnchoredLines } from '../../engine/anchored';
import type { Package } from '../../engine/package';
import { query } from '../../engine/parser';
import type { Fix, Rule } from '../../engine/rule';
import { declaredNames, findLocalDeclaration } from '../../engine/scope';
import type { SourceFile } from '../../engine/source-file';
import { typeOfExpr } from '../../engine/types';
import { APPEND_ANCHOR, SELF_APPENDS } from '../../engine/appends';

/** `out = append(out, ...)`: one variable on the left, the same variable as append's first argument. */

const IDENTIFIERS = '(identifier) @id';
const JUMPS = ['break_statement', 'continue_statement', 'goto_statement', 'return_statement'];
/** Statements allowed between the declaration and the loop. */
const DECLARATIONS = new Set(['var_declaration', 'short_var_declaration', 'const_declaration', 'type_declaration', 'comment']);
const SIGNED_TYPES = new Set(['int', 'int8', 'int16', 'int32', 'int64', 'rune']);
const UNSIGNED_TYPES = new Set(['uint', 'uint8', 'uint16', 'uint32', 'uint64', 'uintptr', 'byte']);

function sameDeclaration(a: Node | null, b: Node | null): boolean {
  return a === null || b === null ? a === b : a.id === b.id;
}

function isBuiltin(at: Node, name: string, pkg: Package): boolean {
  return !findLocalDeclaration(at, name) && !pkg.decls.has(name);
}

function identifiersIn(node: Node): Node[] {
  return node.type === 'identifier' ? [node] : query(IDENTIFIERS).captures(node).map((c) => c.node);
}

/** `x = ...` (any assignment operator), `x++`, `&x`: the variable itself changes or escapes. */
function isWrittenOrAddressed(ident: Node): boolean {
  const parent = ident.parent;
  if (!parent) return false;
  if (parent.type === 'inc_statement' || parent.type === 'dec_statement') return true;
  if (parent.type === 'unary_expression' && parent.child(0)?.text === '&') return true;
  if (parent.type === 'expression_list' && (parent.parent?.type === 'assignment_statement' || parent.parent?.type === 'range_clause')) {
    return parent.parent.childForFieldName('left')?.id === parent.id;
  }
  return false;
}

function inFunctionLiteralWithin(node: Node, within: Node): boolean {
  for (let n = node.parent; n && n.id !== within.id; n = n.parent) if (n.type === 'func_literal') return true;
  return false;
}

/** A name or a chain of field selections on a name: evaluating it again has no side effect. */
function isPlainPath(expr: Node): boolean {
  if (expr.type === 'identifier') return true;
  if (expr.type !== 'selector_expression') return false;
  const operand = expr.childForFieldName('operand');
  return !!operand && isPlainPath(operand);
}

/** The expression as written, or an abbreviation when it spans lines or is long (a literal table). */
function shortText(expr: Node, file: SourceFile): string {
  const text = file.textOf(expr);
  if (!text.includes('\n') && text.length <= 60) return text;
  const type = expr.type === 'composite_literal' ? expr.childForFieldName('type') : null;
  if (type && !type.text.includes('\n')) return `${file.textOf(type)}{...}`;
  return `${text.split('\n')[0].slice(0, 40).trimEnd()} ...`;
}

interface EmptySlice {
  /** The declaration statement (reported). */
  stmt: Node;
  /** The `[]T` node. */
  sliceType: Node;
  /** Replaced by the fix, with `make(...)` (short form) or `out := make(...)` (var form). */
  replace: Node;
  varForm: boolean;
}

/** `var out []T`, `out := []T{}` or `out := make([]T, 0)` declaring exactly `name`. */
function emptySliceDeclaration(stmt: Node, name: string, pkg: Package): EmptySlice | undefined {
  if (stmt.type === 'var_declaration') {
    const specs = stmt.namedChildren.filter((c) => c?.type !== 'comment');
    const spec = specs.length === 1 && specs[0]?.type === 'var_spec' ? specs[0] : undefined;
    const names = spec?.childrenForFieldName('name') ?? [];
    const type = spec?.childForFieldName('type');
    if (!spec || names.length !== 1 || names[0]?.text !== name || spec.childForFieldName('value') || type?.type !== 'slice_type') return undefined;
    return { stmt, sliceType: type, replace: stmt, varForm: true };
  }
  if (stmt.type !== 'short_var_declaration') return undefined;
  const left = stmt.childForFieldName('left'), right = stmt.childForFieldName('right');
  if (left?.namedChildCount !== 1 || left.namedChild(0)?.text !== name || right?.namedChildCount !== 1) return undefined;
  const value = right.namedChild(0)!;
  if (value.type === 'composite_literal') {
    const type = value.childForFieldName('type'), body = value.childForFieldName('body');
    if (type?.type !== 'slice_type' || !body || body.namedChildCount !== 0) return undefined;
    return { stmt, sliceType: type, replace: right, varForm: false };
  }
  if (value.type === 'call_expression') {
    const fn = value.childForFieldName('function'), args = value.childForFieldName('arguments');
    if (fn?.type !== 'identifier' || fn.text !== 'make' || !isBuiltin(fn, 'make', pkg)) return undefined;
    const type = args?.namedChild(0);
    if (args?.namedChildCount !== 2 || type?.type !== 'slice_type' || args.namedChild(1)?.text !== '0') return undefined;
    return { stmt, sliceType: type, replace: right, varForm: false };
  }
  return undefined;
}

type RangeShape = 'len' | 'int' | 'count' | 'none';

function versionAtLeast(v: string | undefined, minor: number): boolean {
  const m = v ? /^1\.(\d+)/.exec(v) : null;
  return !m || Number(m[1]) >= minor; // no go.mod: assume a current Go
}

/**
 * What the loop ranges over: 'len' (slice, array, map, string: len(x) iterations), 'int' (n
 * iterations, or none when n < 0), 'count' (an unsigned n: n iterations) or 'none' (a channel, a function, or a type that may be one of them or an
 * iterator: the number of iterations is not known up front).
 */
function rangeShape(range: Node, variables: number, file: SourceFile, pkg: Package): RangeShape {
  if (range.type === 'int_literal') return 'int';
  if (range.type === 'interpreted_string_literal' || range.type === 'raw_string_literal') return 'len';
  const t = typeOfExpr(range, file, pkg);
  switch (t?.kind) {
    case 'slice': case 'array': case 'map':
      return 'len';
    case 'pointer':
      return t.elem?.kind === 'array' ? 'len' : 'none';
    case 'basic':
      if (t.text === 'string') return 'len';
      return UNSIGNED_TYPES.has(t.text) ? 'count' : SIGNED_TYPES.has(t.text) ? 'int' : 'none';
    case 'chan': case 'func': case 'interface': case 'struct':
    case 'syncmap': case 'mutex': case 'rwmutex': case 'waitgroup': case 'once': case 'atomic':
      return 'none';
    default:
      // Another package's type, or one syntax cannot tell. With two range variables it is not a
      // channel or an integer, so a slice, array, map or string: unless the module's Go has
      // range-over-func (1.23), where it may be an iterator with no length.
      return variables === 2 && !versionAtLeast(pkg.goVersion, 23) ? 'len' : 'none';
  }
}

export const appendWithoutPrealloc: Rule = {
  id: 'append-without-prealloc',
  title: 'Slice grown by append in a loop of known length',
  doc: 'A slice started empty gets exactly one append per iteration of a range loop whose length is known, so it is regrown and copied as it fills. Allocate it once: make([]T, 0, len(x)).',
  severity: 'info',
  scope: 'declaration',
  run(pass) {
    const pkg = pass.pkg;
    for (const file of pass.files) {
      const seen = new Set<number>();
      for (const m of matchesOnAnchoredLines(file, SELF_APPENDS, APPEND_ANCHOR, pass.spans(file))) {
        const cap = (name: string) => m.captures.find((c) => c.name === name)?.node;
        const assign = cap('assign'), lhs = cap('lhs'), fn = cap('fn'), first = cap('first');
        if (!assign || !lhs || !fn || !first) continue;
        const name = lhs.text;
        if (name === '_' || first.text !== name || fn.text !== 'append') continue;

        // One element, no spread: `append(out, v)`.
        const args = first.parent!.namedChildren.filter((a) => a?.type !== 'comment');
        if (args.length !== 2 || args[1]?.type === 'variadic_argument' || first.parent!.children.some((c) => c?.type === '...')) continue;

        // At the top level of the body of a range loop.
        const list = assign.parent;
        const body = list?.type === 'statement_list' ? list.parent : list;
        const forStmt = body?.parent;
        if (!list || body?.type !== 'block' || forStmt?.type !== 'for_statement' || forStmt.childForFieldName('body')?.id !== body.id) continue;
        const clause = forStmt.namedChildren.find((c) => c?.type === 'range_clause');
        const range = clause?.childForFieldName('right');
        if (!clause || !range) continue;
        if (seen.has(forStmt.id)) continue;

        // The declaration of out stands before the loop statement (or its label) in the same block,
        // with only declarations and comments in between, none of them mentioning out (no escape,
        // no closure appending to it). Found by walking back over the siblings: cheap.
        const loopStmt = forStmt.parent?.type === 'labeled_statement' ? forStmt.parent : forStmt;
        const between: Node[] = [];
        let decl: Node | null = null;
        for (let s = loopStmt.previousNamedSibling; s && DECLARATIONS.has(s.type); s = s.previousNamedSibling) {
          if (s.type !== 'comment' && declaredNames(s).includes(name)) { decl = s; break; }
          if (identifiersIn(s).some((id) => id.text === name)) break;
          between.push(s);
        }
        const empty = decl ? emptySliceDeclaration(decl, name, pkg) : undefined;
        if (!decl || !empty) continue;
        if (!sameDeclaration(findLocalDeclaration(lhs, name), decl) || !sameDeclaration(findLocalDeclaration(first, name), decl)) continue;
        if (!isBuiltin(fn, 'append', pkg)) continue;

        // No jump anywhere in the body that could skip the append, and no other write to out in the
        // loop (a second append, a reset, a closure appending, &out).
        // A jump inside a function literal leaves only that function.
        if (body.descendantsOfType(JUMPS).some((j) => j && !inFunctionLiteralWithin(j, body))) continue;
        const refs = identifiersIn(forStmt).filter((id) => id.text === name && sameDeclaration(findLocalDeclaration(id, name), decl));
        if (refs.some((r) => r.id !== lhs.id && isWrittenOrAddressed(r))) continue;
        if (identifiersIn(range).some((id) => id.text === name)) continue;

        const variables = clause.childForFieldName('left')?.namedChildCount ?? 0;
        const shape = rangeShape(range, variables, file, pkg);
        if (shape === 'none') continue;
        seen.add(forStmt.id);

        // The capacity, evaluated at the declaration: the range expression must mean the same there.
        const rangeText = file.textOf(range);
        let capacity: string | undefined;
        if (shape === 'int' && range.type === 'int_literal') capacity = rangeText;
        else if (isPlainPath(range)) {
          const stable = identifiersIn(range).every((id) =>
            sameDeclaration(findLocalDeclaration(id, id.text), findLocalDeclaration(empty.stmt, id.text))
            && !between.some((s) => identifiersIn(s).some((b) => b.text === id.text)));
          // A negative n gives zero iterations but makes make panic: max(n, 0) keeps the loop's meaning.
          const builtin = shape === 'len' ? 'len' : shape === 'int' ? 'max' : undefined;
          if (stable && (!builtin || isBuiltin(empty.stmt, builtin, pkg))) {
            capacity = shape === 'len' ? `len(${rangeText})` : shape === 'int' ? `max(${rangeText}, 0)` : rangeText;
          }
        }
        if (capacity && !isBuiltin(empty.stmt, 'make', pkg)) capacity = undefined;

        const typeText = file.textOf(empty.sliceType);
        const made = `make(${typeText}, 0, ${capacity ?? (shape === 'len' ? 'len(...)' : 'n')})`;
        const fixes: Fix[] = capacity
          ? [{
            // `var out []T` is nil when the loop does not run; make(...) is not (== nil, JSON null):
            // offered, but not applied by --fix or fix-all.
            title: `Preallocate: ${name} := ${made}${empty.varForm ? ' (no longer nil when the loop does not run)' : ''}`,
            edits: [{ path: file.path, start: empty.replace.startIndex, end: empty.replace.endIndex, newText: empty.varForm ? `${name} := ${made}` : made }],
            isPreferred: !empty.varForm,
          }]
          : [];
        pass.report({
          file,
          node: empty.stmt,
          message: `${name} starts empty and gets one append per iteration over ${shortText(range, file)}: preallocate with ${made}`,
          related: [{ path: file.path, start: assign.startIndex, end: assign.endIndex, message: `the append that runs once per iteration` }],
          fixes,
        });
      }
    }
  },
};
