// The ways a select can stop waiting for one channel: ctx.Done(), timers and timeouts, default,
// and stop channels the senders do not feed; and whether taking that way leaves the receiving
// loop or function for good.
import type { Node } from 'web-tree-sitter';
import { codeText, contains, inLoopWithin, refsOf } from '../../engine/goroutines';
import { query } from '../../engine/parser';
import { findLocalDeclaration } from '../../engine/scope';
import type { SourceFile } from '../../engine/source-file';
import { enclosingFunction, FUNCTION_TYPES } from '../../engine/syntax';

const LEAVES = '[(return_statement) (goto_statement) (break_statement (label_name))] @leave';

/** A way out of a select: what it waits for, and its case. */
export interface Escape { kind: string; clause: Node }

/**
 * What lets a select give up on the channel: `<-ctx.Done()` (any `.Done()`), `<-time.After(d)`,
 * `<-time.Tick(d)`, a timer's or ticker's `.C`, `default`, or a receive from another channel the
 * senders do not feed (a stop channel: `<-s.stop`, `<-quit`, `<-s.stopper.ShouldStop()`).
 * Undefined for a select that waits.
 */
export function escapeOf(select: Node, own: Node, file: SourceFile, senders: readonly Node[], accept: (clause: Node) => boolean = () => true): Escape | undefined {
  for (const c of select.namedChildren) {
    if (!c || c.id === own.id || !accept(c)) continue;
    if (c.type === 'default_case') return { kind: 'a default case', clause: c };
    if (c.type !== 'communication_case') continue;
    const comm = c.childForFieldName('communication');
    const recv = comm?.type === 'receive_statement' ? comm.childForFieldName('right') : comm?.type === 'expression_statement' ? comm.namedChild(0) : null;
    const ch = recv?.type === 'unary_expression' && recv.child(0)?.type === '<-' ? recv.childForFieldName('operand') : null;
    if (!ch) continue;
    if (ch.type === 'call_expression') {
      const fn = ch.childForFieldName('function');
      const field = fn?.type === 'selector_expression' ? fn.childForFieldName('field')?.text : undefined;
      const operand = fn?.type === 'selector_expression' ? fn.childForFieldName('operand') : null;
      if (field === 'Done' && ch.childForFieldName('arguments')?.namedChildCount === 0) return { kind: `<-${file.textOf(ch)}`, clause: c };
      if ((field === 'After' || field === 'Tick') && operand?.type === 'identifier' && file.refersToImport(operand, 'time')) return { kind: 'a timeout', clause: c };
    }
    if (ch.type === 'selector_expression' && ch.childForFieldName('field')?.text === 'C') return { kind: 'a timer', clause: c };
    if (ch.type === 'identifier' && isTimeoutVar(ch, file)) return { kind: 'a timeout', clause: c };
    if (isStopSignal(ch, c, file, senders)) return { kind: `<-${file.textOf(ch)}`, clause: c };
  }
  return undefined;
}

/**
 * A channel the senders never mention: a field (`s.stop`), a parameter, a method's channel
 * (`s.stopper.ShouldStop()`), or a local that other code of the function feeds. Whatever makes
 * that case ready does not wait for the send, so the receiver may take it first.
 */
function isStopSignal(ch: Node, clause: Node, file: SourceFile, senders: readonly Node[]): boolean {
  let name: string | undefined;
  if (ch.type === 'identifier') name = ch.text;
  else if (ch.type === 'selector_expression') name = ch.childForFieldName('field')?.text;
  else if (ch.type === 'call_expression' && ch.childForFieldName('arguments')?.namedChildCount === 0) {
    const fn = ch.childForFieldName('function');
    name = fn?.type === 'selector_expression' ? fn.childForFieldName('field')?.text : undefined;
  }
  if (!name) return false;
  const word = new RegExp(`(?<![\\w$])${name.replace(/\$/g, '\\$')}(?![\\w$])`);
  if (senders.some((s) => word.test(codeText(file, s)))) return false;
  if (ch.type !== 'identifier') return true;
  const decl = findLocalDeclaration(ch, ch.text);
  // A package variable or a parameter: fed by other code.
  if (!decl || FUNCTION_TYPES.has(decl.type)) return true;
  const fn = enclosingFunction(decl);
  const body = fn?.childForFieldName('body');
  const declName = decl.type === 'short_var_declaration' || decl.type === 'var_declaration' ? findName(decl, ch.text) : null;
  if (!body || !declName) return false;
  // A local: fed only if some code mentions it besides its declaration and this case.
  return refsOf(file, body, declName, decl).some((r) => !contains(clause, r.node));
}

/** The identifier `name` among a declaration's declared names. */
function findName(decl: Node, name: string): Node | null {
  const left = decl.type === 'short_var_declaration' ? decl.childForFieldName('left')?.namedChildren : decl.descendantsOfType('identifier');
  return left?.find((n) => n?.type === 'identifier' && n.text === name) ?? null;
}

/** `timeout := time.After(d)` (or time.Tick): the variable is a timeout channel. */
function isTimeoutVar(id: Node, file: SourceFile): boolean {
  const decl = findLocalDeclaration(id, id.text);
  if (decl?.type !== 'short_var_declaration') return false;
  const names = decl.childForFieldName('left')?.namedChildren.filter((n) => n && n.type !== 'comment') ?? [];
  const values = decl.childForFieldName('right')?.namedChildren.filter((n) => n && n.type !== 'comment') ?? [];
  const i = names.findIndex((n) => n?.text === id.text);
  const value = names.length === values.length ? values[i] : null;
  const fn = value?.type === 'call_expression' ? value.childForFieldName('function') : null;
  const operand = fn?.type === 'selector_expression' ? fn.childForFieldName('operand') : null;
  const field = fn?.type === 'selector_expression' ? fn.childForFieldName('field')?.text : undefined;
  return (field === 'After' || field === 'Tick') && operand?.type === 'identifier' && file.refersToImport(operand, 'time');
}

/** The escape clause leaves the function (return, goto, labelled break) or the select is not in a loop. */
export function escapeLeaves(clause: Node, select: Node, fn: Node): boolean {
  if (!inLoopWithin(select, fn)) return true;
  return query(LEAVES).captures(clause).some((c) => enclosingFunction(c.node)?.id === fn.id);
}
