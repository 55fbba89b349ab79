import type { Node } from 'web-tree-sitter';
import { matchesOnAnchoredLines } from '../../engine/anchored';
import type { Package } from '../../engine/package';
import { query } from '../../engine/parser';
import { commentAbove, saysCallerHoldsLock } from '../../engine/analysis/lock-state';
import type { Fix, Rule } from '../../engine/rule';
import { findLocalDeclaration } from '../../engine/scope';
import type { SourceFile } from '../../engine/source-file';
import { typeOfExpr } from '../../engine/types';
import { isPureExpression } from '../../engine/pure';

const LOAD_CALL = `(call_expression
  function: (selector_expression operand: (_) @recv field: (field_identifier) @method)
  arguments: (argument_list . (_) @key .)) @call`;

/** `if _, ok := sm.Load(k); !ok { ... }` */
const IF_LOAD = `(if_statement
  initializer: (short_var_declaration left: (expression_list) @left right: (expression_list . ${LOAD_CALL} .))
  condition: (unary_expression operand: (identifier) @ok)) @if`;

/** `_, ok := sm.Load(k)` or `_, ok = sm.Load(k)` as a statement of its own. */
const LOAD_STATEMENT = `[
  (short_var_declaration left: (expression_list) @left right: (expression_list . ${LOAD_CALL} .)) @stmt
  (assignment_statement left: (expression_list) @left operator: "=" right: (expression_list . ${LOAD_CALL} .)) @stmt
]`;

/** Every candidate calls `.Load(` and `.Store(`: the queries run on the Load lines only. */
const LOAD_TEXT = /\.\s*Load\s*\(/g;
/** `.Store(`, written to find the literal first and look behind it for the dot. */
const STORE_TEXT = /Store(?<=\.\s*Store)\s*\(/;

const IDENTIFIERS = '(identifier) @id';
const METHOD_CALLS = '(call_expression function: (selector_expression field: (field_identifier) @method) arguments: (argument_list) @args) @call';
const FUNCTIONS = new Set(['function_declaration', 'method_declaration', 'func_literal']);
const CALLS = '(call_expression) @call';
const COMMENTS = '(comment) @comment';

function capture(m: { captures: { name: string; node: Node }[] }, name: string): Node | undefined {
  return m.captures.find((c) => c.name === name)?.node;
}


/** True when a name in `nodes` refers to one of `names` (the Load results the fix removes). */
function mentions(nodes: Node[], names: string[]): boolean {
  return nodes.some((n) => (n.type === 'identifier' ? [n] : query(IDENTIFIERS).captures(n).map((c) => c.node)).some((id) => names.includes(id.text)));
}

function isSyncMap(expr: Node, file: SourceFile, pkg: Package): boolean {
  const t = typeOfExpr(expr, file, pkg);
  return t?.kind === 'syncmap' || (t?.kind === 'pointer' && t.elem?.kind === 'syncmap');
}

/** The `_, ok` names of a Load: [first, ok] identifiers, or undefined. */
function commaOk(left: Node): [Node, Node] | undefined {
  const names = left.namedChildren;
  if (names.length !== 2 || names[0]?.type !== 'identifier' || names[1]?.type !== 'identifier' || names[1].text === '_') return undefined;
  return [names[0], names[1]];
}

/** `!ok`, with the same ok. */
function isNotOk(cond: Node | null, ok: Node): boolean {
  if (cond?.type !== 'unary_expression' || cond.child(0)?.text !== '!') return false;
  const operand = cond.childForFieldName('operand');
  return operand?.type === 'identifier' && operand.text === ok.text;
}

/** The if's only statement, when it is `recv.Store(key, v)`: returns the call. */
function onlyStore(ifStmt: Node, recv: Node, key: Node, file: SourceFile): Node | undefined {
  if (ifStmt.childForFieldName('alternative')) return undefined;
  const body = ifStmt.childForFieldName('consequence');
  const list = body?.namedChildren.find((c) => c?.type === 'statement_list');
  const stmts = list?.namedChildren.filter((c) => c?.type !== 'comment') ?? [];
  if (stmts.length !== 1 || stmts[0]?.type !== 'expression_statement') return undefined;
  const call = stmts[0].namedChild(0);
  const fn = call?.type === 'call_expression' ? call.childForFieldName('function') : null;
  if (fn?.type !== 'selector_expression' || fn.childForFieldName('field')?.text !== 'Store') return undefined;
  if (file.textOf(fn.childForFieldName('operand')!) !== file.textOf(recv)) return undefined;
  const args = call!.childForFieldName('arguments')?.namedChildren.filter((a) => a?.type !== 'comment') ?? [];
  if (args.length !== 2 || args.some((a) => a?.type === 'variadic_argument') || file.textOf(args[0]!) !== file.textOf(key)) return undefined;
  return call!;
}

function storeArgs(store: Node): Node[] {
  return store.childForFieldName('arguments')!.namedChildren.filter((a): a is Node => !!a && a.type !== 'comment');
}

/** The first call in `expr` (outermost first), to name in the fix title. */
function firstCall(expr: Node, file: SourceFile): string | undefined {
  const calls = query(CALLS).captures(expr).map((c) => c.node).sort((a, b) => a.startIndex - b.startIndex || b.endIndex - a.endIndex);
  if (!calls.length) return undefined;
  const text = file.textOf(calls[0]);
  if (text.length <= 40 && !text.includes('\n')) return text;
  return `${file.textOf(calls[0].childForFieldName('function')!)}(...)`;
}

/** Replaces [start, end) with `code`, keeping every comment of the replaced text. */
function replaceKeepingComments(file: SourceFile, container: Node, start: number, end: number, code: string): Fix['edits'] {
  const comments = query(COMMENTS).captures(container).map((c) => c.node)
    .filter((c) => c.startIndex >= start && c.endIndex <= end)
    .sort((a, b) => a.startIndex - b.startIndex);
  const lineStart = file.lines.lineStart(file.positionAt(start).line);
  const indent = file.text.slice(lineStart, start);
  const firstLine = file.positionAt(start).line;
  const trailing = comments.filter((c) => file.positionAt(c.startIndex).line === firstLine && !file.textOf(c).includes('\n'));
  const above = comments.filter((c) => !trailing.some((t) => t.id === c.id));
  const eol = file.text.includes('\r\n') ? '\r\n' : '\n';
  const text = above.map((c) => `${file.textOf(c)}${eol}${indent}`).join('') + code + trailing.map((c) => ` ${file.textOf(c)}`).join('');
  return [{ path: file.path, start, end, newText: text }];
}

/**
 * The Load may not race at all: it runs in `init`, inside a `once.Do(func() {...})`, or after a
 * `.Lock()` earlier in the same function (writers serialised by a mutex, readers lock-free).
 */
function isSerialised(load: Node, file: SourceFile): boolean {
  let outer: Node | null = null;
  for (let n = load.parent; n; n = n.parent) {
    if (!FUNCTIONS.has(n.type)) continue;
    outer = n;
    if (n.type === 'function_declaration' && n.childForFieldName('name')?.text === 'init') return true;
    const call = n.parent?.type === 'argument_list' ? n.parent.parent : null;
    const fn = call?.type === 'call_expression' ? call.childForFieldName('function') : null;
    if (fn?.type === 'selector_expression' && fn.childForFieldName('field')?.text === 'Do') return true;
    if (n.type !== 'func_literal') break;
  }
  if (!outer) return false;
  // Documented to run under the caller's lock (`…Locked`, "Lock should be held").
  const name = outer.childForFieldName('name')?.text;
  if (name && saysCallerHoldsLock(name, commentAbove(file.text, outer.startIndex))) return true;
  return query(METHOD_CALLS).matches(outer).some((m) => {
    const method = capture(m, 'method'), args = capture(m, 'args'), call = capture(m, 'call');
    return method?.text === 'Lock' && args?.namedChildCount === 0 && !!call && call.startIndex < load.startIndex;
  });
}

/** True when `ok` (declared by `decl`) is used after `after` in its block. */
function usedAfter(block: Node, ok: Node, decl: Node, after: Node): boolean {
  return query(IDENTIFIERS).captures(block).some((c) => c.node.text === ok.text && c.node.startIndex >= after.endIndex
    && findLocalDeclaration(c.node, ok.text)?.id === decl.id);
}

export const syncmapCheckThenAct: Rule = {
  id: 'syncmap-check-then-act',
  title: 'sync.Map Load then Store',
  doc: 'Checking a sync.Map with Load and then calling Store is not atomic: two goroutines can both miss and both Store, and one value silently replaces the other. Use LoadOrStore.',
  severity: 'warning',
  run(pass) {
    for (const file of pass.files) {
      if (!file.contains('Store') || !STORE_TEXT.test(file.text)) continue;
      const report = (load: Node, recv: Node, key: Node, store: Node, start: number, end: number, container: Node, fixable: boolean) => {
        const r = file.textOf(recv), k = file.textOf(key);
        const value = storeArgs(store)[1];
        const v = file.textOf(value);
        const replacement = `${r}.LoadOrStore(${k}, ${v})`;
        const call = firstCall(value, file);
        const fixes: Fix[] = fixable && !v.includes('\n') ? [{
          title: call ? `Use LoadOrStore (${call} now runs even when the key exists)` : 'Use LoadOrStore',
          edits: replaceKeepingComments(file, container, start, end, replacement),
          isPreferred: true,
        }] : [];
        pass.report({
          file,
          node: load,
          message: `${r}.Load(${k}) then ${r}.Store(${k}, ...) is check-then-act: two goroutines can both see the key missing and both Store; use ${r}.LoadOrStore(${k}, ...)`,
          related: [{ path: file.path, start: store.startIndex, end: store.endIndex, message: 'the Store that races with another goroutine\'s' }],
          fixes,
        });
      };

      // Form 1: if _, ok := sm.Load(k); !ok { sm.Store(k, v) }
      for (const m of matchesOnAnchoredLines(file, IF_LOAD, LOAD_TEXT)) {
        const ifStmt = capture(m, 'if'), left = capture(m, 'left'), recv = capture(m, 'recv'), method = capture(m, 'method');
        const key = capture(m, 'key'), ok = capture(m, 'ok'), load = capture(m, 'call');
        if (!ifStmt || !left || !recv || !method || !key || !ok || !load || method.text !== 'Load') continue;
        const names = commaOk(left);
        if (!names || names[1].text !== ok.text || !isNotOk(ifStmt.childForFieldName('condition'), names[1])) continue;
        if (!isPureExpression(recv) || !isPureExpression(key)) continue; // `next()` twice may be two keys
        const store = onlyStore(ifStmt, recv, key, file);
        if (!store || !isSyncMap(recv, file, pass.pkg) || isSerialised(load, file)) continue;
        // An `else if` cannot become a call; a named first result is used in the body.
        const fixable = names[0].text === '_' && ifStmt.parent?.type === 'statement_list'
          && !mentions(storeArgs(store), [names[1].text]);
        report(load, recv, key, store, ifStmt.startIndex, ifStmt.endIndex, ifStmt, fixable);
      }

      // Form 2: _, ok := sm.Load(k) followed by if !ok { sm.Store(k, v) }
      for (const m of matchesOnAnchoredLines(file, LOAD_STATEMENT, LOAD_TEXT)) {
        const stmt = capture(m, 'stmt'), left = capture(m, 'left'), recv = capture(m, 'recv'), method = capture(m, 'method');
        const key = capture(m, 'key'), load = capture(m, 'call');
        if (!stmt || !left || !recv || !method || !key || !load || method.text !== 'Load') continue;
        if (stmt.parent?.type !== 'statement_list') continue; // not an if/for header
        const names = commaOk(left);
        if (!names) continue;
        let next = stmt.nextNamedSibling;
        while (next?.type === 'comment') next = next.nextNamedSibling;
        if (next?.type !== 'if_statement' || next.childForFieldName('initializer')) continue;
        if (!isNotOk(next.childForFieldName('condition'), names[1])) continue;
        const okRef = next.childForFieldName('condition')!.childForFieldName('operand')!;
        const declared = stmt.type === 'short_var_declaration';
        if (declared && findLocalDeclaration(okRef, okRef.text)?.id !== stmt.id) continue;
        if (!isPureExpression(recv) || !isPureExpression(key)) continue;
        const store = onlyStore(next, recv, key, file);
        if (!store || !isSyncMap(recv, file, pass.pkg) || isSerialised(load, file)) continue;
        const fixable = declared && names[0].text === '_' && !usedAfter(stmt.parent, names[1], stmt, next)
          && !mentions(storeArgs(store), [names[1].text]);
        report(load, recv, key, store, stmt.startIndex, next.endIndex, stmt.parent, fixable);
      }
    }
  },
};
