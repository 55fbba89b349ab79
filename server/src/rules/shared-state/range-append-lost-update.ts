import type { Node } from 'web-tree-sitter';
import { matchesOnAnchoredLines } from '../../engine/anchored';
import type { Package } from '../../engine/package';
import { query } from '../../engine/parser';
import type { Fix, Rule } from '../../engine/rule';
import { findLocalDeclaration, freshNameIn, outermostFunction } from '../../engine/scope';
import type { SourceFile } from '../../engine/source-file';
import { typeOfExpr } from '../../engine/types';
import { APPEND_ANCHOR, SELF_APPENDS } from '../../engine/appends';
import { unparen } from '../../engine/syntax';

/** `v = append(v, ...)`: one variable on the left, the same variable as append's first argument. */

const IDENTIFIERS = '(identifier) @id';

function sameDeclaration(a: Node | null, b: Node | null): boolean {
  return a === null || b === null ? a === b : a.id === b.id;
}

/** The identifiers in `node` that name the same variable as `ident` (resolved through scope). */
function referencesIn(node: Node, name: string, decl: Node | null): Node[] {
  return query(IDENTIFIERS).captures(node)
    .map((c) => c.node)
    .filter((n) => n.text === name && sameDeclaration(findLocalDeclaration(n, name), decl));
}

/** `x = ...`, `x op= ...`, `x++`, `&x`: places where a variable is changed or escapes. */
function isWrittenOrAddressed(ident: Node): boolean {
  const parent = ident.parent;
  if (!parent) return false;
  if (parent.type === 'inc_statement' || parent.type === 'dec_statement') return true;
  if (parent.type === 'unary_expression' && parent.child(0)?.text === '&') return true;
  if (parent.type === 'expression_list' && parent.parent?.type === 'assignment_statement') {
    return parent.parent.childForFieldName('left')?.id === parent.id;
  }
  return false;
}

/** An expression that can be evaluated again without side effects: names, fields, simple indexes, `*p`. */
function isPlainPath(expr: Node): boolean {
  switch (expr.type) {
    case 'identifier':
      return true;
    case 'selector_expression':
      return isPlainPath(expr.childForFieldName('operand')!);
    case 'parenthesized_expression':
      return !!expr.namedChild(0) && isPlainPath(expr.namedChild(0)!);
    case 'unary_expression':
      return expr.child(0)?.text === '*' && isPlainPath(expr.childForFieldName('operand')!);
    case 'index_expression': {
      const index = expr.childForFieldName('index');
      return isPlainPath(expr.childForFieldName('operand')!) && !!index
        && (['int_literal', 'interpreted_string_literal', 'raw_string_literal'].includes(index.type) || isPlainPath(index));
    }
    default:
      return false;
  }
}


interface Loop {
  forStmt: Node;
  body: Node;
  key: Node;
  value: Node;
  range: Node;
}

/** The `for k, v := range x` loop whose value variable `decl` is, if it is one. */
function rangeLoopOfValue(decl: Node | null, name: string): Loop | undefined {
  if (decl?.type !== 'for_statement') return undefined;
  const clause = decl.namedChildren.find((c) => c?.type === 'range_clause');
  const body = decl.childForFieldName('body');
  const range = clause?.childForFieldName('right');
  if (!clause || !body || !range || !clause.children.some((c) => c?.type === ':=')) return undefined;
  const names = clause.childForFieldName('left')?.namedChildren ?? [];
  if (names.length !== 2 || names[0]?.type !== 'identifier' || names[1]?.type !== 'identifier') return undefined;
  if (names[1].text !== name) return undefined;
  return { forStmt: decl, body, key: names[0], value: names[1], range };
}

function indexable(range: Node, file: SourceFile, pkg: Package): boolean {
  if (!isPlainPath(range)) return false;
  const t = typeOfExpr(range, file, pkg);
  // Not visible (e.g. a field of another package's struct): almost always a map or slice. A named
  // type that is none of those (an iterator function, a struct) cannot be indexed.
  if (!t || t.kind === 'unknown') return true;
  if (t.kind === 'pointer') return t.elem?.kind === 'array';
  return t.kind === 'map' || t.kind === 'slice' || t.kind === 'array';
}

export const rangeAppendLostUpdate: Rule = {
  id: 'range-append-lost-update',
  title: 'Append to a range value copy',
  doc: 'In for k, v := range m, v is a copy of the element, so v = append(v, x) changes only the copy and the update is lost. Write the result back with m[k] = append(v, x).',
  severity: 'warning',
  scope: 'declaration',
  run(pass) {
    for (const file of pass.files) {
      for (const m of matchesOnAnchoredLines(file, SELF_APPENDS, APPEND_ANCHOR, pass.spans(file))) {
        const cap = (name: string) => m.captures.find((c) => c.name === name)?.node;
        const assign = cap('assign'), lhs = cap('lhs'), fn = cap('fn'), first = cap('first');
        if (!assign || !lhs || !fn || !first) continue;
        const v = lhs.text;
        if (v === '_' || first.text !== v || fn.text !== 'append') continue;
        // Cheap first: is there an enclosing range loop whose value is named v at all?
        let candidate: Node | undefined;
        for (let n = assign.parent; n && !candidate; n = n.parent) {
          if (n.type === 'function_declaration' || n.type === 'method_declaration') break;
          if (n.type === 'for_statement' && rangeLoopOfValue(n, v)) candidate = n;
        }
        if (!candidate) continue;
        const loop = rangeLoopOfValue(findLocalDeclaration(lhs, v), v);
        if (!loop) continue;
        if (findLocalDeclaration(fn, 'append') || pass.pkg.decls.has('append')) continue;

        // Closures run at other times and goto jumps backwards: the copy may be read after all.
        let inInnerLoop = false, inClosure = false;
        for (let n = assign.parent; n && n.id !== loop.body.id; n = n.parent) {
          if (n.type === 'func_literal') inClosure = true;
          if (n.type === 'for_statement') inInnerLoop = true;
        }
        if (inClosure) continue;
        if (loop.body.descendantsOfType('goto_statement').length > 0) continue;

        // Is the appended copy used afterwards (read, captured, address taken)? Then it is not lost.
        const refs = referencesIn(loop.body, v, loop.forStmt);
        const usedLater = refs.some((r) => {
          let closure = false;
          for (let n = r.parent; n && n.id !== loop.body.id; n = n.parent) if (n.type === 'func_literal') closure = true;
          if (closure) return true;
          if (r.parent?.type === 'unary_expression' && r.parent.child(0)?.text === '&') return true;
          if (r.startIndex < assign.endIndex) return false;
          // `v = ...` overwrites the copy without reading it.
          const isPlainTarget = r.parent?.type === 'expression_list' && r.parent.parent?.type === 'assignment_statement'
            && r.parent.parent.childForFieldName('left')?.id === r.parent.id && r.parent.parent.childForFieldName('operator')?.text === '=';
          return !isPlainTarget;
        });
        if (usedLater) continue;

        // A write-back `m[k] = ...` after the append keeps the element up to date.
        const keyName = loop.key.text;
        const rangeText = file.textOf(unparen(loop.range));
        if (keyName !== '_') {
          const writesBack = referencesIn(loop.body, keyName, loop.forStmt).some((k) => {
            const index = k.parent;
            if (index?.type !== 'index_expression' || index.childForFieldName('index')?.id !== k.id) return false;
            if (index.startIndex < assign.endIndex) return false;
            if (file.textOf(unparen(index.childForFieldName('operand')!)) !== rangeText) return false;
            const list = index.parent;
            return list?.type === 'expression_list' && list.parent?.type === 'assignment_statement'
              && list.parent.childForFieldName('left')?.id === list.id;
          });
          if (writesBack) continue;
        }

        // The fix writes through the ranged expression and the key: both must mean the same there.
        let fixable = !inInnerLoop && indexable(loop.range, file, pass.pkg);
        const pathIdents = loop.range.type === 'identifier' ? [loop.range] : query(IDENTIFIERS).captures(loop.range).map((c) => c.node);
        for (const id of fixable ? pathIdents : []) {
          const declAtRange = findLocalDeclaration(id, id.text);
          if (!sameDeclaration(findLocalDeclaration(lhs, id.text), declAtRange)) fixable = false;
          else if (referencesIn(loop.body, id.text, declAtRange).some(isWrittenOrAddressed)) fixable = false;
        }
        let key = keyName;
        const edits: Fix['edits'] = [];
        if (keyName === '_') {
          const outer = outermostFunction(loop.forStmt);
          if (!outer) fixable = false;
          else {
            key = freshNameIn(outer, 'k');
            edits.push({ path: file.path, start: loop.key.startIndex, end: loop.key.endIndex, newText: key });
          }
        } else {
          if (!sameDeclaration(findLocalDeclaration(lhs, keyName), loop.forStmt)) fixable = false;
          if (referencesIn(loop.body, keyName, loop.forStmt).some(isWrittenOrAddressed)) fixable = false;
        }
        // `*p` indexes as `(*p)[k]`.
        const target = unparen(loop.range).type === 'unary_expression' ? `(${rangeText})[${key}]` : `${rangeText}[${key}]`;
        edits.push({ path: file.path, start: lhs.startIndex, end: lhs.endIndex, newText: target });
        const advice = !isPlainPath(loop.range)
          ? 'write the result back to the collection it came from'
          : inInnerLoop
            ? `write it back with ${target} = ${v} after the inner loop`
            : `write it back with ${target} = append(${v}, ...)`;
        pass.report({
          file,
          node: assign,
          message: `${v} is a copy of the element: append to it is lost; ${advice}`,
          related: [{ path: file.path, start: loop.value.startIndex, end: loop.value.endIndex, message: `${v} is declared here as a copy of each element of ${rangeText}` }],
          fixes: fixable ? [{ title: `Write back with ${target} = append(${v}, ...)`, edits, isPreferred: true }] : [],
        });
      }
    }
  },
};
