import type { Node } from 'web-tree-sitter';
import { matchesOnAnchoredLines } from '../../engine/anchored';
import { query } from '../../engine/parser';
import type { Rule } from '../../engine/rule';
import { findLocalDeclaration } from '../../engine/scope';
import type { SourceFile } from '../../engine/source-file';
import { typeOfExpr } from '../../engine/types';

/** Element writes: `x[i] = ...`, `x[i] op= ...`, `x[i]++`, `x[i]--`. */
const INDEX_WRITES = `[
  (assignment_statement left: (expression_list (index_expression operand: [(identifier) (selector_expression)]) @lhs))
  (inc_statement (index_expression operand: [(identifier) (selector_expression)]) @lhs)
  (dec_statement (index_expression operand: [(identifier) (selector_expression)]) @lhs)
]`;

const IDENTIFIERS = '(identifier) @id';

const ESCAPE = /[.*+?^${}()|[\]\\]/g;

/**
 * The lines that may hold a write to a ranged map: `x[...] op= ...` or `x[...]++` where `range x {`
 * occurs in the file. The query runs on those lines only; the tree decides the rest.
 */
function anchor(file: SourceFile): RegExp | undefined {
  const names = new Set<string>();
  for (const m of file.matchesWith('range', /\brange\s+([A-Za-z_][\w.]*)\s*\{/g)) names.add(m[1].replace(ESCAPE, '\\$&'));
  if (!names.size) return undefined;
  return new RegExp(`(?:^|[^\\w.])(?:${[...names].join('|')})\\s*\\[[^\\n]*\\]\\s*(?:\\+\\+|--|(?:<<|>>|&\\^|[-+*/%&|^])?=(?!=))`, 'gm');
}

function sameDeclaration(a: Node | null, b: Node | null): boolean {
  return a === null || b === null ? a === b : a.id === b.id;
}

function identifiersOf(expr: Node): Node[] {
  return expr.type === 'identifier' ? [expr] : query(IDENTIFIERS).captures(expr).map((c) => c.node);
}

/** Same text, and every name in it resolves to the same declaration at both places. */
function sameExpression(a: Node, b: Node): boolean {
  if (a.text !== b.text) return false;
  const ia = identifiersOf(a), ib = identifiersOf(b);
  return ia.length === ib.length
    && ia.every((x, i) => sameDeclaration(findLocalDeclaration(x, x.text), findLocalDeclaration(ib[i], ib[i].text)));
}

/** The key variable of `for k := range` / `for k, v := range` (either form); undefined for `_` or none. */
function rangeKey(clause: Node): Node | undefined {
  const first = clause.childForFieldName('left')?.namedChild(0);
  return first?.type === 'identifier' && first.text !== '_' ? first : undefined;
}

/** The loop a plain or labeled `break` leaves. */
function breakTarget(brk: Node): Node | null {
  const label = brk.namedChildren.find((c) => c?.type === 'label_name')?.text;
  for (let n = brk.parent; n; n = n.parent) {
    if (n.type === 'func_literal' || n.type === 'function_declaration' || n.type === 'method_declaration') return null;
    if (label) {
      if (n.type === 'labeled_statement' && n.childForFieldName('label')?.text === label) return n.namedChildren.find((c) => c?.type !== 'label_name') ?? null;
    } else if (['for_statement', 'expression_switch_statement', 'type_switch_statement', 'select_statement'].includes(n.type)) {
      return n;
    }
  }
  return null;
}

/** `stmt` leaves the loop for good: a return, a goto, a panic, or a break of the loop itself. */
function exits(stmt: Node, loop: Node): boolean {
  if (stmt.type === 'return_statement' || stmt.type === 'goto_statement') return true;
  if (stmt.type === 'break_statement') return breakTarget(stmt)?.id === loop.id;
  if (stmt.type === 'expression_statement') {
    const call = stmt.namedChild(0);
    const fn = call?.type === 'call_expression' ? call.childForFieldName('function') : null;
    return fn?.type === 'identifier' && fn.text === 'panic' && !findLocalDeclaration(fn, 'panic');
  }
  return false;
}

/**
 * After the write, every path leaves the loop before its next iteration: a later statement of the
 * write's block (or of a block around it, inside the loop) exits, and nothing before it can
 * continue the loop. No later iteration can see the new key.
 */
function leavesLoopAfter(stmt: Node, loop: Node, file: SourceFile): boolean {
  const body = loop.childForFieldName('body');
  for (let n: Node | null = stmt; n && n.id !== body?.id; n = n.parent) {
    if (n.id !== stmt.id && (n.type === 'for_statement' || n.type === 'func_literal')) return false;
    const list = n.parent;
    if (list?.type !== 'statement_list' && list?.type !== 'block') continue;
    for (let next = n.nextNamedSibling; next; next = next.nextNamedSibling) {
      if (next.type === 'comment') continue;
      if (exits(next, loop)) return true;
      if (/\b(?:continue|goto|break)\b/.test(file.textOf(next))) return false;
    }
  }
  return false;
}

function isAssignedIn(body: Node, expr: Node): boolean {
  // `m = other`, `s.m = other` or `&m` in the loop: the map written may not be the map ranged.
  const base = identifiersOf(expr)[0];
  if (!base) return true;
  const decl = findLocalDeclaration(base, base.text);
  for (const id of query(IDENTIFIERS).captures(body).map((c) => c.node)) {
    if (id.text !== base.text || !sameDeclaration(findLocalDeclaration(id, id.text), decl)) continue;
    let target: Node = id;
    while (target.parent && (target.parent.type === 'selector_expression' || target.parent.type === 'parenthesized_expression')
      && expr.text.startsWith(target.parent.text)) target = target.parent;
    const parent = target.parent;
    if (parent?.type === 'unary_expression' && parent.child(0)?.text === '&') return true;
    if (parent?.type === 'expression_list' && parent.parent?.type === 'assignment_statement'
      && parent.parent.childForFieldName('left')?.id === parent.id) return true;
  }
  return false;
}

/** `k = ...`, `k op= ...`, `k++`, `&k` inside `body`, for the variable `decl` declares. */
function isReassignedIn(body: Node, ident: Node, decl: Node | null): boolean {
  return query(IDENTIFIERS).captures(body).some(({ node: id }) => {
    if (id.text !== ident.text) return false;
    const parent = id.parent;
    const written = parent?.type === 'inc_statement' || parent?.type === 'dec_statement'
      || (parent?.type === 'unary_expression' && parent.child(0)?.text === '&')
      || (parent?.type === 'expression_list' && parent.parent?.type === 'assignment_statement'
        && parent.parent.childForFieldName('left')?.id === parent.id);
    return written && sameDeclaration(findLocalDeclaration(id, id.text), decl);
  });
}

export const mapInsertDuringRange: Rule = {
  id: 'map-insert-during-range',
  title: 'Map key added while ranging over the map',
  doc: 'Adding a key to the map a for-range loop is iterating over is allowed, but the new entry may or may not be visited by the same loop. Collect the new entries and add them after the loop.',
  severity: 'info',
  run(pass) {
    for (const file of pass.files) {
      const re = anchor(file);
      if (!re) continue;
      const byLoop = new Map<number, { forStmt: Node; clause: Node; range: Node; writes: Node[] }>();
      const verdicts = new Map<number, boolean>(); // loop id → over a map it does not reassign
      for (const m of matchesOnAnchoredLines(file, INDEX_WRITES, re)) {
        const lhs = m.captures[0].node;
        const operand = lhs.childForFieldName('operand'), index = lhs.childForFieldName('index');
        if (!operand || !index) continue;

        // The innermost enclosing range over the same map, and the keys of every such range:
        // writing with one of those keys updates an existing entry.
        let loop: { forStmt: Node; clause: Node; range: Node } | undefined;
        let closure = false, updatesKey = false;
        for (let n = lhs.parent; n; n = n.parent) {
          if (n.type === 'function_declaration' || n.type === 'method_declaration') break;
          if (n.type === 'func_literal' && !loop) closure = true;
          if (n.type !== 'for_statement') continue;
          const clause = n.namedChildren.find((x) => x?.type === 'range_clause');
          const range = clause?.childForFieldName('right');
          if (!clause || !range || !sameExpression(range, operand)) continue;
          loop ??= { forStmt: n, clause, range };
          const key = rangeKey(clause);
          if (!key || index.type !== 'identifier' || index.text !== key.text) continue;
          // `for k := range` declares k on the loop; `for k = range` assigns an outer variable.
          const declared = clause.children.some((x) => x?.type === ':=');
          const keyDecl = declared ? n : findLocalDeclaration(key, key.text);
          if (!sameDeclaration(findLocalDeclaration(index, index.text), keyDecl)) continue;
          // `k = strings.ToLower(k)` in the body: m[k] is no longer the entry being visited.
          const body = n.childForFieldName('body');
          if (body && !isReassignedIn(body, index, keyDecl)) updatesKey = true;
        }
        // A closure may run after the loop is over.
        if (!loop || closure || updatesKey) continue;
        let ok = verdicts.get(loop.forStmt.id);
        if (ok === undefined) {
          const body = loop.forStmt.childForFieldName('body');
          ok = !!body && typeOfExpr(loop.range, file, pass.pkg)?.kind === 'map' && !isAssignedIn(body, loop.range);
          verdicts.set(loop.forStmt.id, ok);
        }
        if (!ok) continue;
        const stmt = lhs.parent?.type === 'expression_list' ? lhs.parent.parent! : lhs.parent!;
        if (leavesLoopAfter(stmt, loop.forStmt, file)) continue;
        const found = byLoop.get(loop.forStmt.id);
        if (found) found.writes.push(lhs);
        else byLoop.set(loop.forStmt.id, { ...loop, writes: [lhs] });
      }
      // One finding per loop, on its first write: the loop is what needs a look (and one
      // suppression comment covers it); the other writes are related locations.
      for (const { clause, range, writes } of byLoop.values()) {
        writes.sort((a, b) => a.startIndex - b.startIndex);
        const [first, ...others] = writes;
        const mapText = file.textOf(range);
        pass.report({
          file,
          node: first,
          message: `${file.textOf(first)} may add a key to ${mapText} while ranging over it: the new entry may or may not be visited by this loop`
            + (others.length ? ` (${others.length} more write${others.length > 1 ? 's' : ''} in this loop)` : ''),
          related: [
            { path: file.path, start: clause.startIndex, end: clause.endIndex, message: `the loop over ${mapText}` },
            ...others.map((w) => ({ path: file.path, start: w.startIndex, end: w.endIndex, message: `${file.textOf(w)} may add a key too` })),
          ],
        });
      }
    }
  },
};
