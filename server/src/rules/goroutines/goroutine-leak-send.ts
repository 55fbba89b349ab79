import type { Node } from 'web-tree-sitter';
import {
  chanMakes, codeText, contains, contextInScope, eolOf, goStatementOf, inLoopWithin, lineIndent, refsOf, selectCaseOf, selectCaseOfSend, standsAlone, type ChanMake, type Ref,
} from '../../engine/goroutines';
import { enclosingFunction, FUNCTION_TYPES } from '../../engine/syntax';
import { query } from '../../engine/parser';
import type { Fix, Pass, RelatedLocation, Rule } from '../../engine/rule';
import { FunctionsFact } from '../../engine/analysis/functions';
import { GoroutinesFact } from '../../engine/analysis/goroutines';
import { fieldChannels, type FieldUse } from './field-channels';
import { findLocalDeclaration } from '../../engine/scope';
import type { SourceFile } from '../../engine/source-file';

const RETURNS = '(return_statement) @ret';
const LEAVES = '[(return_statement) (goto_statement) (break_statement (label_name))] @leave';

interface Send { ref: Ref; lit: Node; go: Node }

/** Why the spawner may stop listening: a return before its receive, or a select it can leave. */
interface Reason { text: string; node: Node }

function lineOf(file: SourceFile, node: Node): number {
  return file.positionAt(node.startIndex).line + 1;
}

/**
 * What lets a select give up on the channel: `<-ctx.Done()` (any `.Done()`), `<-time.After(d)`,
 * `<-time.Tick(d)`, a timer's or ticker's `.C`, `default`, or a receive from another channel the
 * senders do not feed (a stop channel: `<-s.stop`, `<-quit`, `<-s.stopper.ShouldStop()`).
 * Undefined for a select that waits.
 */
function escapeOf(select: Node, own: Node, file: SourceFile, senders: readonly Node[]): { kind: string; clause: Node } | undefined {
  for (const c of select.namedChildren) {
    if (!c || c.id === own.id) continue;
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
function escapeLeaves(clause: Node, select: Node, fn: Node): boolean {
  if (!inLoopWithin(select, fn)) return true;
  return query(LEAVES).captures(clause).some((c) => enclosingFunction(c.node)?.id === fn.id);
}

/** `node` runs after `stmt` in the same function: it lies in a later sibling of `stmt` or of an ancestor. */
function follows(stmt: Node, node: Node, body: Node): boolean {
  for (let n: Node | null = stmt; n && n.id !== body.id; n = n.parent) {
    const list = n.parent;
    if ((list?.type === 'statement_list' || list?.type === 'block') && node.startIndex >= n.endIndex && node.endIndex <= list.endIndex) return true;
    if (n.type === 'func_literal') return false;
  }
  return false;
}

/** The innermost `for` containing `node` inside `fn`. */
function loopOf(node: Node, fn: Node): Node | null {
  for (let n = node.parent; n && n.id !== fn.id; n = n.parent) if (n.type === 'for_statement') return n;
  return null;
}

function leakReason(fn: Node, go: Node, recvs: Ref[], file: SourceFile, senders: readonly Node[]): Reason | undefined {
  // Every receive sits in a select that can give up waiting.
  const selects = recvs.map((r) => {
    const clause = r.kind === 'recv' ? selectCaseOf(r.site) : null;
    const select = clause?.parent;
    const esc = clause && select ? escapeOf(select, clause, file, senders) : undefined;
    return esc && select && escapeLeaves(esc.clause, select, fn) ? { select, esc } : undefined;
  });
  if (selects.every((s) => !!s)) {
    // The receiver stops listening for good at an escape that no later receive follows.
    const body = fn.childForFieldName('body');
    const last = (body && selects.find((s) => !recvs.some((r) => follows(s!.select, r.node, body)))) ?? selects[0]!;
    return { text: `it receives only in a select that can take ${last.esc.kind} instead`, node: last.esc.clause };
  }
  // A return after the go statement and before the first receive.
  const first = recvs.reduce((a, b) => (b.node.startIndex < a.node.startIndex ? b : a));
  if (first.node.startIndex < go.endIndex) return undefined;
  const body = fn.childForFieldName('body');
  if (!body) return undefined;
  const recvLoop = loopOf(first.node, fn);
  for (const c of query(RETURNS).captures(body)) {
    const ret = c.node;
    if (ret.startIndex < go.endIndex || ret.endIndex > first.node.startIndex) continue;
    if (enclosingFunction(ret)?.id !== fn.id || !follows(go, ret, body)) continue;
    // A return in another case of the select that receives is an alternative to the receive.
    if (recvs.some((r) => { const clause = r.kind === 'recv' ? selectCaseOf(r.site) : null; return !!clause?.parent && contains(clause.parent, ret); })) continue;
    // A return in the loop that receives may come after an earlier iteration received.
    if (recvLoop && contains(recvLoop, ret) && !contains(recvLoop, go)) continue;
    return { text: `the return at line ${lineOf(file, ret)} comes before any receive`, node: ret };
  }
  return undefined;
}

/** t.Fatal, t.Errorf, panic...: in a test, the path that stops listening has already failed the test (a watchdog). */
const TEST_FAILURE = /(?:\.(?:Fatal|Fatalf|Error|Errorf|Fail|FailNow|Skip|Skipf|SkipNow)|(?<![\w$.])panic)\s*\(/;

function failsTest(node: Node, file: SourceFile): boolean {
  const scope = node.type === 'return_statement' ? node.parent ?? node : node;
  return TEST_FAILURE.test(codeText(file, scope));
}

function bufferFix(file: SourceFile, mk: ChanMake): Fix | undefined {
  if (mk.capacity) return undefined;
  const args = mk.call.childForFieldName('arguments');
  if (!args || /[\n,]/.test(file.textOf(args))) return undefined;
  return {
    title: `Make ${mk.name.text} buffered (capacity 1) so the send never blocks`,
    edits: [{ path: file.path, start: mk.chanType.endIndex, end: mk.chanType.endIndex, newText: ', 1' }],
    isPreferred: true,
  };
}

function selectFix(file: SourceFile, send: Node, preferred: boolean): Fix | undefined {
  if (send.parent?.type !== 'statement_list' || file.textOf(send).includes('\n') || !standsAlone(file, send, true)) return undefined;
  const ctx = contextInScope(send, file);
  if (!ctx) return undefined;
  const ind = lineIndent(file, send.startIndex);
  const eol = eolOf(file);
  return {
    title: `Send in a select with <-${ctx}.Done()`,
    edits: [{ path: file.path, start: send.startIndex, end: send.endIndex, newText: `select {${eol}${ind}case ${file.textOf(send)}:${eol}${ind}case <-${ctx}.Done():${eol}${ind}}` }],
    isPreferred: preferred,
  };
}

/** Where a receive of a field channel can stop listening: its select's way out, and the function it leaves. */
interface ReceiverExit { esc: { kind: string; clause: Node }; fn: Node }

/**
 * The way a receive of a field channel gives up: it is a case of a select with a way out that
 * leaves the loop or the function. Undefined for a receive that keeps waiting (a plain `<-x.f`,
 * a `range`), which may be the one that takes the send.
 */
function receiverExit(recv: FieldUse, senders: readonly Node[]): ReceiverExit | undefined {
  const clause = recv.node.type === 'unary_expression' ? selectCaseOf(recv.node) : null;
  const select = clause?.parent;
  const fn = select && enclosingFunction(select);
  const esc = clause && select ? escapeOf(select, clause, recv.file, senders) : undefined;
  return esc && fn && escapeLeaves(esc.clause, select!, fn) ? { esc, fn } : undefined;
}

/**
 * Sends on an unbuffered channel field whose every receive sits in a select that can leave for
 * good (a stop channel, ctx.Done(), a timeout): once the receiving loop has returned, the next
 * send blocks forever. The sender may be any function of the package; a goroutine that runs it
 * is named when racelens knows one.
 */
function reportFieldSends(pass: Pass): void {
  const goroutines = pass.get(GoroutinesFact);
  const fns = pass.get(FunctionsFact);
  for (const ch of fieldChannels(pass.pkg)) {
    if (!ch.unbuffered || !ch.sends.length || !ch.recvs.length) continue;
    const senders = ch.sends.map((s) => enclosingFunction(s.node)).filter((f): f is Node => !!f);
    const exits = ch.recvs.map((r) => receiverExit(r, senders));
    if (exits.some((e) => !e)) continue;
    const receivers = new Set(exits.map((e) => e!.fn.id));
    const exit = exits[0]!;
    const exitFile = ch.recvs[0].file;
    for (const send of ch.sends) {
      if (!pass.files.includes(send.file) || selectCaseOfSend(send.node)) continue;
      const owner = senders[ch.sends.indexOf(send)];
      if (!owner || receivers.has(owner.id)) continue;
      if (send.file.isTest && failsTest(exit.esc.clause, exitFile)) continue;
      const unit = fns.enclosing(send.node);
      const root = unit ? [...goroutines.reach(unit)].find((r) => r.kind === 'goroutine' && r.site && r.spawner) : undefined;
      const related: RelatedLocation[] = [{ path: exitFile.path, start: exit.esc.clause.startIndex, end: exit.esc.clause.endIndex, message: `the receiving loop in ${functionLabel(exit.fn)} can stop listening here` }];
      if (root) related.push({ path: root.spawner!.file.path, start: root.site!.startIndex, end: root.site!.endIndex, message: 'the goroutine that sends is started here' });
      const where = exitFile === send.file ? `line ${lineOf(exitFile, exit.esc.clause)}` : `${exitFile.path.replace(/^.*[\\/]/, '')}:${lineOf(exitFile, exit.esc.clause)}`;
      pass.report({
        file: send.file,
        node: send.node,
        message: `this send on unbuffered channel field ${ch.owner}.${ch.name} blocks forever once ${functionLabel(exit.fn)} stops receiving: every receive of ${ch.name} is in a select that can take ${exit.esc.kind} and leave (${where}), and nothing else receives, so ${root ? 'the goroutine' : 'the caller'} leaks`,
        related,
      });
    }
  }
}

function functionLabel(fn: Node): string {
  if (fn.type === 'func_literal') return 'the enclosing function';
  const name = fn.childForFieldName('name')?.text;
  return name ? name : 'the function';
}

export const goroutineLeakSend: Rule = {
  id: 'goroutine-leak-send',
  title: 'Goroutine blocked on a send nobody receives',
  doc: 'A goroutine sends on an unbuffered channel, but the function that made it can return without receiving (an early return, or a select on ctx.Done(), a timer or default): the sender then blocks forever and leaks. Give the channel a buffer of 1, or send in a select with ctx.Done().',
  severity: 'warning',
  requires: [GoroutinesFact, FunctionsFact],
  run(pass) {
    reportFieldSends(pass);
    for (const file of pass.files) {
      if (!file.contains('<-')) continue;
      for (const mk of chanMakes(file, pass.pkg)) {
        if (!mk.unbuffered) continue;
        const fn = enclosingFunction(mk.decl);
        const body = fn?.childForFieldName('body');
        if (!fn || !body) continue;
        const refs = refsOf(file, body, mk.name, mk.decl);
        // Passed on, stored, closed, reassigned: someone else may receive, or the story is another.
        if (refs.some((r) => r.kind === 'other' || r.kind === 'arg' || r.kind === 'close')) continue;
        const sends: Send[] = [];
        const recvs: Ref[] = [];
        let elsewhere = false;
        for (const r of refs) {
          const owner = enclosingFunction(r.node);
          if (r.kind === 'send') {
            if (!owner || owner.id === fn.id) continue;
            const go = owner.type === 'func_literal' ? goStatementOf(owner) : null;
            if (go && enclosingFunction(go)?.id === fn.id) sends.push({ ref: r, lit: owner, go });
          } else if (r.kind === 'recv' || r.kind === 'range') {
            if (owner?.id !== fn.id) elsewhere = true;
            recvs.push(r);
          }
        }
        if (elsewhere || !recvs.length || !sends.length) continue;
        const blocking = sends.filter((s) => {
          const clause = selectCaseOfSend(s.ref.site);
          return !clause || clause.parent!.namedChildren.filter((c) => c && c.type !== 'comment').length === 1;
        });
        // A buffer of one is enough for exactly one send, executed once.
        const single = sends.length === 1 && refs.filter((r) => r.kind === 'send').length === 1 && !inLoopWithin(sends[0].go, fn) && !inLoopWithin(sends[0].ref.site, sends[0].lit);
        const reasons = new Map<number, Reason | undefined>();
        for (const s of blocking) {
          if (!reasons.has(s.go.id)) reasons.set(s.go.id, leakReason(fn, s.go, recvs, file, sends.map((x) => x.lit)));
          const reason = reasons.get(s.go.id);
          if (!reason || (file.isTest && failsTest(reason.node, file))) continue;
          const buffer = single ? bufferFix(file, mk) : undefined;
          const wrap = selectFix(file, s.ref.site, !buffer);
          pass.report({
            file,
            node: s.ref.site,
            message: `this goroutine sends on unbuffered channel ${mk.name.text}, but ${functionLabel(fn)} can return without receiving from it (${reason.text}): the send then blocks forever and the goroutine leaks`,
            related: [{ path: file.path, start: reason.node.startIndex, end: reason.node.endIndex, message: 'the receiver can stop listening here' }],
            fixes: [buffer, wrap].filter((f): f is Fix => !!f),
          });
        }
      }
    }
  },
};
