// Syntax helpers for the goroutine-lifecycle rules: enclosing functions, go statements, local
// channels made with make(chan ...) and how each mention of them is used, a context.Context in
// scope, and the indentation facts that fixes need to stay gofmt-clean. Everything is found from
// text anchors and ancestor walks; no rule walks a whole tree.
import type { Node } from 'web-tree-sitter';
import { intConstant } from './constant';
import type { Package } from './package';
import { query } from './parser';
import { findLocalDeclaration } from './scope';
import type { SourceFile } from './source-file';
import { enclosingFunction, FUNCTION_TYPES } from './syntax';


/** The outermost function declaration or method containing `node` (itself when it is one). */
export function outermostFunction(node: Node): Node | null {
  let out: Node | null = FUNCTION_TYPES.has(node.type) ? node : null;
  for (let n = node.parent; n; n = n.parent) if (FUNCTION_TYPES.has(n.type)) out = n;
  return out;
}

/** `a` contains `b` (or is it): same tree, by offsets. */
export function contains(a: Node, b: Node): boolean {
  return a.startIndex <= b.startIndex && b.endIndex <= a.endIndex;
}

/** The statements of a block (`{ ... }`) or statement list, comments left out. */
export function statementsOf(block: Node | null): Node[] {
  if (!block) return [];
  const list = block.type === 'statement_list' ? block : block.namedChildren.find((c) => c?.type === 'statement_list');
  return (list?.namedChildren ?? []).filter((c): c is Node => !!c && c.type !== 'comment');
}

/** The go statement that starts function literal `lit` (`go func() {...}()`), if any. */
export function goStatementOf(lit: Node): Node | null {
  const call = lit.parent;
  if (call?.type !== 'call_expression' || call.childForFieldName('function')?.id !== lit.id) return null;
  return call.parent?.type === 'go_statement' ? call.parent : null;
}

const GO_KEYWORD = /(?<![\w$.])go(?=\s+[\w(])/g;

/** The go statements of a file, in source order, found from the keyword in the text. */
export function goStatements(file: SourceFile): Node[] {
  const out: Node[] = [];
  for (const m of file.text.matchAll(GO_KEYWORD)) {
    const stmt = file.root.descendantForIndex(m.index!, m.index! + 2)?.parent;
    if (stmt?.type === 'go_statement' && stmt.startIndex === m.index) out.push(stmt);
  }
  return out;
}

/** True when a `for` loop lies between `node` and `stop` (exclusive), inside one function. */
export function inLoopWithin(node: Node, stop: Node): boolean {
  for (let n = node.parent; n && n.id !== stop.id; n = n.parent) {
    if (n.type === 'for_statement') return true;
    if (FUNCTION_TYPES.has(n.type)) return false;
  }
  return false;
}

/**
 * Whether Go source text waits for another goroutine: a `.Wait()` call (WaitGroup, errgroup, Cond),
 * a receive `<-ch` or a `select`. A `<-` after an operand (`ch <- v`) is a send; one after an
 * operator, a keyword (`case`, `return`, `range`) or at the start of a line is a receive.
 */
export function waitsInText(text: string): boolean {
  if (/\.\s*Wait\s*\(/.test(text) || /(?<![\w$])select\s*\{/.test(text)) return true;
  for (const m of text.matchAll(/<-/g)) {
    const before = text.slice(Math.max(0, m.index - 40), m.index).replace(/[ \t]+$/, '');
    if (!/[\w$)\]}]$/.test(before) || /(?<![\w$.])(?:case|return|range)$/.test(before)) return true;
  }
  return false;
}

/** Builtin `name` (make, close, len, ...) called here, not a local of the same name. */
export function isBuiltin(fn: Node | null, names: readonly string[]): boolean {
  return fn?.type === 'identifier' && names.includes(fn.text) && !findLocalDeclaration(fn, fn.text);
}

/** A channel made in a function: `ch := make(chan T[, n])`. */
export interface ChanMake {
  decl: Node;
  name: Node;
  call: Node;
  chanType: Node;
  capacity?: Node;
  /** No capacity, or a constant 0. */
  unbuffered: boolean;
}

const MAKE_CHAN = /(?<![\w$.])make\s*\(\s*chan\b/g;

/** `x := make(chan T...)` declarations of a file (`a, b := make(chan T), make(chan U)` included). */
export function chanMakes(file: SourceFile, pkg: Package): ChanMake[] {
  const out: ChanMake[] = [];
  for (const m of file.text.matchAll(MAKE_CHAN)) {
    const fn = file.root.descendantForIndex(m.index!, m.index! + 4);
    const call = fn?.parent;
    if (!fn || fn.type !== 'identifier' || call?.type !== 'call_expression' || call.childForFieldName('function')?.id !== fn.id) continue;
    const right = call.parent;
    const decl = right?.parent;
    if (right?.type !== 'expression_list' || decl?.type !== 'short_var_declaration' || decl.childForFieldName('right')?.id !== right.id) continue;
    if (!isBuiltin(fn, ['make'])) continue;
    const values = right.namedChildren.filter((n): n is Node => !!n && n.type !== 'comment');
    const names = decl.childForFieldName('left')?.namedChildren.filter((n): n is Node => !!n && n.type !== 'comment') ?? [];
    const i = values.findIndex((v) => v.id === call.id);
    if (i < 0 || names.length !== values.length || names[i].type !== 'identifier' || names[i].text === '_') continue;
    const args = call.childForFieldName('arguments')?.namedChildren.filter((n): n is Node => !!n && n.type !== 'comment') ?? [];
    if (args[0]?.type !== 'channel_type' || args.length > 2) continue;
    const capacity = args[1];
    out.push({ decl, name: names[i], call, chanType: args[0], capacity, unbuffered: !capacity || intConstant(capacity, pkg) === 0 });
  }
  return out;
}

export type RefKind = 'send' | 'recv' | 'range' | 'close' | 'lencap' | 'arg' | 'other';

/** One mention of a variable and what the code does with it there. */
export interface Ref {
  node: Node;
  kind: RefKind;
  /** send: the send_statement; recv: the `<-x` expression; range: the for statement; close/lencap/arg: the call. */
  site: Node;
  /** arg: the argument's index. */
  index?: number;
}

function classify(id: Node): Ref {
  const p = id.parent!;
  if (p.type === 'send_statement' && p.childForFieldName('channel')?.id === id.id) return { node: id, kind: 'send', site: p };
  if (p.type === 'unary_expression' && p.childForFieldName('operand')?.id === id.id && p.child(0)?.type === '<-') return { node: id, kind: 'recv', site: p };
  if (p.type === 'range_clause' && p.childForFieldName('right')?.id === id.id && p.parent?.type === 'for_statement') return { node: id, kind: 'range', site: p.parent };
  if (p.type === 'argument_list' && p.parent?.type === 'call_expression') {
    const call = p.parent;
    const fn = call.childForFieldName('function');
    const args = p.namedChildren.filter((n): n is Node => !!n && n.type !== 'comment');
    const index = args.findIndex((a) => a.id === id.id);
    if (isBuiltin(fn, ['close']) && args.length === 1) return { node: id, kind: 'close', site: call };
    if (isBuiltin(fn, ['len', 'cap']) && args.length === 1) return { node: id, kind: 'lencap', site: call };
    return { node: id, kind: 'arg', site: call, index };
  }
  return { node: id, kind: 'other', site: p };
}

/**
 * Every mention of the variable `name` declared by `decl` inside `scope` (the declaring name
 * itself left out), with how it is used. Found by name in the text, bound through the scope walk.
 */
export function refsOf(file: SourceFile, scope: Node, name: Node, decl: Node): Ref[] {
  const out: Ref[] = [];
  const n = name.text.replace(/\$/g, '\\$');
  const re = new RegExp(`(?<![\\w$.])${n}(?![\\w$])`, 'g');
  const text = file.text.slice(scope.startIndex, scope.endIndex);
  for (const m of text.matchAll(re)) {
    const at = scope.startIndex + m.index!;
    if (at === name.startIndex) continue;
    const id = file.root.descendantForIndex(at, at + name.text.length);
    if (id?.type !== 'identifier' || id.startIndex !== at || id.text !== name.text) continue;
    if (findLocalDeclaration(id, name.text)?.id !== decl.id) continue;
    out.push(classify(id));
  }
  return out;
}

/** Whitespace before the first character of the line holding `offset`. */
export function lineIndent(file: SourceFile, offset: number): string {
  const start = file.lines.lineStart(file.positionAt(offset).line);
  return /^[ \t]*/.exec(file.text.slice(start, offset))![0];
}

/** The node is alone on its lines: only indentation before it and nothing but spaces after it. */
export function standsAlone(file: SourceFile, node: Node, allowComment = false): boolean {
  const start = file.lines.lineStart(file.positionAt(node.startIndex).line);
  if (!/^[ \t]*$/.test(file.text.slice(start, node.startIndex))) return false;
  let eol = file.text.indexOf('\n', node.endIndex);
  if (eol < 0) eol = file.text.length;
  const rest = file.text.slice(node.endIndex, eol);
  return /^[ \t\r]*$/.test(rest) || (allowComment && /^[ \t]+\/\/[^\n]*$/.test(rest));
}

/** End of the line holding `offset`, before any `\r\n` / `\n`. */
export function lineEnd(file: SourceFile, offset: number): number {
  let eol = file.text.indexOf('\n', offset);
  if (eol < 0) return file.text.length;
  if (eol > 0 && file.text[eol - 1] === '\r') eol--;
  return eol;
}

export function eolOf(file: SourceFile): string {
  return file.text.includes('\r\n') ? '\r\n' : '\n';
}

const CONTEXT_MAKERS = new Set(['Background', 'TODO', 'WithValue', 'WithoutCancel']);
const CONTEXT_DERIVERS = new Set(['WithCancel', 'WithTimeout', 'WithDeadline', 'WithCancelCause', 'WithTimeoutCause', 'WithDeadlineCause']);

/** True when `decl` (found for `name`) declares it as a context.Context. */
function declaresContext(decl: Node, name: string, file: SourceFile, local: string): boolean {
  const typeText = `${local}.Context`;
  const isContextType = (t: Node | null) => !!t && file.textOf(t).replace(/\s+/g, '') === typeText;
  if (FUNCTION_TYPES.has(decl.type)) {
    for (const field of ['parameters', 'receiver']) {
      for (const p of decl.childForFieldName(field)?.namedChildren ?? []) {
        if (p?.type === 'parameter_declaration' && p.childrenForFieldName('name').some((n) => n?.text === name)) return isContextType(p.childForFieldName('type'));
      }
    }
    return false;
  }
  if (decl.type === 'var_declaration') {
    const spec = decl.descendantsOfType('var_spec').find((s) => s?.childrenForFieldName('name').some((n) => n?.text === name));
    return isContextType(spec?.childForFieldName('type') ?? null);
  }
  if (decl.type !== 'short_var_declaration') return false;
  const names = decl.childForFieldName('left')?.namedChildren.filter((n): n is Node => !!n && n.type !== 'comment') ?? [];
  const values = decl.childForFieldName('right')?.namedChildren.filter((n): n is Node => !!n && n.type !== 'comment') ?? [];
  const i = names.findIndex((n) => n.text === name);
  if (i < 0) return false;
  const value = values.length === names.length ? values[i] : values.length === 1 && i === 0 ? values[0] : undefined;
  const fn = value?.type === 'call_expression' ? value.childForFieldName('function') : null;
  if (fn?.type !== 'selector_expression') return false;
  const operand = fn.childForFieldName('operand');
  const method = fn.childForFieldName('field')?.text ?? '';
  if (operand?.type !== 'identifier' || !file.refersToImport(operand, 'context')) return false;
  return values.length === names.length ? CONTEXT_MAKERS.has(method) : CONTEXT_DERIVERS.has(method);
}

/**
 * The name of a context.Context variable visible at `at`: `ctx` when it is one, else a
 * context.Context parameter of an enclosing function that nothing shadows. Undefined when none.
 */
export function contextInScope(at: Node, file: SourceFile): string | undefined {
  const spec = file.importOf('context');
  if (!spec || spec.dot) return undefined;
  const names = ['ctx'];
  for (let n = at.parent; n; n = n.parent) {
    if (!FUNCTION_TYPES.has(n.type)) continue;
    for (const p of n.childForFieldName('parameters')?.namedChildren ?? []) {
      if (p?.type !== 'parameter_declaration' || file.textOf(p.childForFieldName('type') ?? p).replace(/\s+/g, '') !== `${spec.local}.Context`) continue;
      for (const id of p.childrenForFieldName('name')) if (id && id.text !== '_' && !names.includes(id.text)) names.push(id.text);
    }
    if (n.type !== 'func_literal') break;
  }
  for (const name of names) {
    const decl = findLocalDeclaration(at, name);
    if (decl && declaresContext(decl, name, file, spec.local)) return name;
  }
  return undefined;
}

/** The receive `<-ch` is the communication of a select case: the case. */
export function selectCaseOf(recv: Node): Node | null {
  const p = recv.parent;
  if (p?.type === 'receive_statement' && p.childForFieldName('right')?.id === recv.id && p.parent?.type === 'communication_case') return p.parent;
  return null;
}

/** The send statement is the communication of a select case: the case. */
export function selectCaseOfSend(send: Node): Node | null {
  const p = send.parent;
  return p?.type === 'communication_case' && p.childForFieldName('communication')?.id === send.id ? p : null;
}

/** The source of `node` with its comments blanked out (same length), for text tests on code only. */
export function codeText(file: SourceFile, node: Node): string {
  let text = file.textOf(node);
  if (!text.includes('//') && !text.includes('/*')) return text;
  for (const c of query('(comment) @c').captures(node)) {
    const s = c.node.startIndex - node.startIndex, e = c.node.endIndex - node.startIndex;
    text = text.slice(0, s) + ' '.repeat(e - s) + text.slice(e);
  }
  return text;
}

const EXITS = `[
  (return_statement) @exit
  (goto_statement) @exit
  (break_statement) @break
  (continue_statement (label_name)) @continue
  (call_expression function: [(identifier) @name (selector_expression field: (field_identifier) @name)]) @call
]`;
/** Calls that end the goroutine or the process: panic, os.Exit, log.Fatal, runtime.Goexit, t.FailNow... */
const ENDS = /^(?:panic\w*|die|abort\w*|crash\w*|throw|skip\w*)$|fatal|exit|failnow/i;
const BREAKABLE = new Set(['for_statement', 'expression_switch_statement', 'type_switch_statement', 'select_statement']);

/** `for { ... }`: no condition, no clause, no range. */
export function isBareLoop(loop: Node): boolean {
  return loop.namedChildren.filter((c) => c && c.type !== 'comment').length === 1;
}

/** The statement a label names, looked up among the ancestors of `from` inside `fn`. */
function labelled(from: Node, label: string, fn: Node): Node | null {
  for (let n = from.parent; n && n.id !== fn.id; n = n.parent) {
    if (n.type === 'labeled_statement' && n.childForFieldName('label')?.text === label) return n;
  }
  return null;
}

/** True when something in the loop ends it, the goroutine or the process. */
export function loopHasExit(loop: Node, fn: Node): boolean {
  for (const m of query(EXITS).matches(loop)) {
    const node = m.captures.find((x) => x.name === 'exit' || x.name === 'break' || x.name === 'continue' || x.name === 'call')!.node;
    if (enclosingFunction(node)?.id !== fn.id) continue;
    switch (node.type) {
      case 'return_statement':
      case 'goto_statement':
        return true;
      case 'break_statement': {
        const label = node.namedChildren.find((n) => n?.type === 'label_name')?.text;
        if (label) {
          const target = labelled(node, label, fn);
          // `break L` where L labels this loop or a statement around it.
          if (!target || contains(target, loop)) return true;
          break;
        }
        for (let n = node.parent; n && n.id !== fn.id; n = n.parent) {
          if (BREAKABLE.has(n.type)) {
            if (n.id === loop.id) return true;
            break;
          }
        }
        break;
      }
      case 'continue_statement': {
        const label = node.namedChildren.find((n) => n?.type === 'label_name')?.text;
        const target = label ? labelled(node, label, fn) : null;
        // `continue L` of an outer loop leaves this one.
        if (!target || (contains(target, loop) && target.namedChildren.find((n) => n?.type === 'for_statement')?.id !== loop.id)) return true;
        break;
      }
      default: {
        const name = m.captures.find((x) => x.name === 'name')?.node;
        if (name && ENDS.test(name.text)) return true;
      }
    }
  }
  return false;
}
