import type { Node } from 'web-tree-sitter';
import { CallGraphFact, type CallGraph } from '../../engine/analysis/callgraph';
import { CfgFact } from '../../engine/analysis/cfg';
import { FunctionsFact, type FuncUnit } from '../../engine/analysis/functions';
import { GoroutinesFact } from '../../engine/analysis/goroutines';
import { intConstant } from '../../engine/constant';
import {
  chanMakes, codeText, contains, contextInScope, eolOf, goStatementOf, inLoopWithin, lineIndent, refsOf, selectCaseOf, selectCaseOfSend, standsAlone, type ChanMake, type Ref,
} from '../../engine/goroutines';
import type { Package } from '../../engine/package';
import { query } from '../../engine/parser';
import type { Fix, Pass, RelatedLocation, Rule } from '../../engine/rule';
import type { SourceFile } from '../../engine/source-file';
import { enclosingFunction } from '../../engine/syntax';
import { parameterUses } from './channel-params';
import { fieldChannels, type FieldUse } from './field-channels';
import { escapeLeaves, escapeOf, type Escape } from './select-escapes';

const RETURNS = '(return_statement) @ret';

/** A send of a goroutine started by the channel's function: in its literal, or in a function it hands the channel to. */
interface Send { ref: Ref; lit: Node; go: Node; file: SourceFile }

/** Why the spawner may stop listening: a return before its receive, or a select it can leave. */
interface Reason { text: string; node: Node }

function lineOf(file: SourceFile, node: Node): number {
  return file.positionAt(node.startIndex).line + 1;
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
    const esc = clause && select ? escapeOf(select, clause, file, senders, (c) => escapeLeaves(c, select, fn)) : undefined;
    return esc && select ? { select, esc } : undefined;
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
interface ReceiverExit { esc: Escape; fn: Node }

/**
 * The way a receive of a field channel gives up: it is a case of a select with a way out that
 * leaves the loop or the function. Undefined for a receive that keeps waiting (a plain `<-x.f`,
 * a `range`), which may be the one that takes the send.
 */
function receiverExit(recv: FieldUse, senders: readonly Node[]): ReceiverExit | undefined {
  const clause = recv.node.type === 'unary_expression' ? selectCaseOf(recv.node) : null;
  const select = clause?.parent;
  const fn = select && enclosingFunction(select);
  const esc = clause && select && fn ? escapeOf(select, clause, recv.file, senders, (c) => escapeLeaves(c, select, fn)) : undefined;
  return esc && fn ? { esc, fn } : undefined;
}

/**
 * Sends on an unbuffered channel field whose every receive sits in a select that can leave for
 * good (a stop channel, ctx.Done(), a timeout): once the receiving loop has returned, the next
 * send blocks forever. The sender may be any function of the package; a goroutine that runs it
 * is named when racelens knows one.
 */
function reportFieldSends(pass: Pass): void {
  const fns = pass.get(FunctionsFact);
  for (const ch of fieldChannels(pass.pkg)) {
    // Buffered fields are left out: one-shot signals and token pools fit their buffer, and racelens cannot count the sends.
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
      const receiver = fns.enclosing(exit.esc.clause)?.label ?? functionLabel(exit.fn);
      const loopUnits = exits.map((e) => fns.enclosing(e!.esc.clause)).filter((u): u is FuncUnit => !!u);
      if (unit && callsReach(pass.get(CallGraphFact), loopUnits, unit)) {
        // The receiving loop itself runs the send: it cannot be receiving at the same time.
        pass.report({
          file: send.file,
          node: send.node,
          message: `this send on unbuffered channel field ${ch.owner}.${ch.name} runs inside ${receiver}, the loop that receives from ${ch.name}, and nothing else receives: it blocks forever the first time it runs`,
          related: [{ path: ch.recvs[0].file.path, start: ch.recvs[0].node.startIndex, end: ch.recvs[0].node.endIndex, message: `${receiver} receives here, but is busy sending` }],
        });
        continue;
      }
      // Built on first need: most packages have no candidate.
      const root = unit ? [...pass.get(GoroutinesFact).reach(unit)].find((r) => r.kind === 'goroutine' && r.site && r.spawner) : undefined;
      const related: RelatedLocation[] = [{ path: exitFile.path, start: exit.esc.clause.startIndex, end: exit.esc.clause.endIndex, message: `the receiving loop in ${receiver} can stop listening here` }];
      if (root) related.push({ path: root.spawner!.file.path, start: root.site!.startIndex, end: root.site!.endIndex, message: 'the goroutine that sends is started here' });
      const where = exitFile === send.file ? `line ${lineOf(exitFile, exit.esc.clause)}` : `${exitFile.path.replace(/^.*[\\/]/, '')}:${lineOf(exitFile, exit.esc.clause)}`;
      pass.report({
        file: send.file,
        node: send.node,
        message: `this send on unbuffered channel field ${ch.owner}.${ch.name} blocks forever once ${receiver} stops receiving: every receive of ${ch.name} is in a select that can take ${exit.esc.kind} and leave (${where}), and nothing else receives, so ${root ? 'the goroutine' : 'the caller'} leaks`,
        related,
      });
    }
  }
}

/** Whether one of `from` calls `target` synchronously, up to four calls deep (not through go statements). */
function callsReach(calls: CallGraph, from: readonly FuncUnit[], target: FuncUnit): boolean {
  const seen = new Set<FuncUnit>(from);
  let frontier = [...from];
  for (let depth = 0; depth < 4 && frontier.length; depth++) { // a budget: the loop's helpers are near
    const next: FuncUnit[] = [];
    for (const u of frontier) {
      for (const e of calls.callsIn(u)) {
        if (e.role === 'go' || seen.has(e.callee)) continue;
        if (e.callee === target) return true;
        seen.add(e.callee);
        next.push(e.callee);
      }
    }
    frontier = next;
  }
  return false;
}

function functionLabel(fn: Node): string {
  if (fn.type === 'func_literal') return 'the enclosing function';
  const name = fn.childForFieldName('name')?.text;
  return name ? name : 'the function';
}

/** The sends and receives of a local channel, or undefined when it leaves where racelens can see. */
interface LocalUses { sends: Send[]; recvs: Ref[]; sendRefs: number }

function usesOfLocal(pass: Pass, file: SourceFile, fn: Node, refs: Ref[]): LocalUses | undefined {
  const sends: Send[] = [];
  const recvs: Ref[] = [];
  const closes: Ref[] = [];
  for (const r of refs) {
    const owner = enclosingFunction(r.node);
    if (r.kind === 'other') return undefined;
    if (r.kind === 'send') {
      if (!owner || owner.id === fn.id) continue;
      const go = owner.type === 'func_literal' ? goStatementOf(owner) : null;
      if (go && enclosingFunction(go)?.id === fn.id) sends.push({ ref: r, lit: owner, go, file });
    } else if (r.kind === 'recv' || r.kind === 'range') {
      // Received in another goroutine or a deferred function: someone else may take the value.
      if (owner?.id !== fn.id) return undefined;
      recvs.push(r);
    } else if (r.kind === 'arg') {
      const through = sendsThroughCall(pass, r, fn);
      if (!through) return undefined;
      sends.push(...through);
    } else if (r.kind === 'close') closes.push(r);
  }
  // Closed by a sender after its sends: that never unblocks a send. Closed anywhere else: another story.
  const closedBySender = (c: Ref) => {
    const owner = enclosingFunction(c.node);
    const go = owner?.type === 'func_literal' ? goStatementOf(owner) : null;
    return sends.some((s) => s.lit.id === owner?.id || s.go.id === go?.id);
  };
  if (!closes.every(closedBySender)) return undefined;
  return { sends, recvs, sendRefs: refs.filter((r) => r.kind === 'send').length };
}

/**
 * `go produce(ch)`, or `produce(ctx, ch)` inside a goroutine literal: the sends of a package
 * function that only sends on (or closes) the parameter it is given. Undefined when the callee is
 * not known or does anything else with the channel.
 */
function sendsThroughCall(pass: Pass, arg: Ref, fn: Node): Send[] | undefined {
  const call = arg.site;
  const owner = enclosingFunction(call);
  const go = call.parent?.type === 'go_statement' ? call.parent : owner?.type === 'func_literal' ? goStatementOf(owner) : null;
  if (!go || enclosingFunction(go)?.id !== fn.id) return undefined;
  const uses = parameterUses(pass, arg);
  if (!uses) return undefined;
  const out: Send[] = [];
  for (const r of uses.refs) {
    if (r.kind === 'send') out.push({ ref: r, lit: uses.callee.node, go, file: uses.callee.file });
    else if (r.kind !== 'close' && r.kind !== 'lencap') return undefined;
  }
  return out;
}

function reportLocalChannel(pass: Pass, file: SourceFile, mk: ChanMake): void {
  const fn = enclosingFunction(mk.decl);
  const body = fn?.childForFieldName('body');
  if (!fn || !body) return;
  const uses = usesOfLocal(pass, file, fn, refsOf(file, body, mk.name, mk.decl));
  if (!uses || !uses.recvs.length || !uses.sends.length) return;
  const { sends, recvs } = uses;
  const blocking = sends.filter((s) => {
    const clause = selectCaseOfSend(s.ref.site);
    return !clause || clause.parent!.namedChildren.filter((c) => c && c.type !== 'comment').length === 1;
  });
  // A buffer of one is enough for exactly one send, executed once.
  const single = sends.length === 1 && uses.sendRefs === 1 && !inLoopWithin(sends[0].go, fn) && !inLoopWithin(sends[0].ref.site, sends[0].lit);
  const reasons = new Map<number, Reason | undefined>();
  for (const s of blocking) {
    if (!pass.files.includes(s.file)) continue;
    if (!reasons.has(s.go.id)) {
      let reason = mk.unbuffered ? leakReason(fn, s.go, recvs, file, sends.map((x) => x.lit)) : undefined;
      if (!reason && manySends(sends, fn, mk, pass)) reason = rangeExitReason(pass, fn, recvs, file);
      reasons.set(s.go.id, reason);
    }
    const reason = reasons.get(s.go.id);
    if (!reason || (file.isTest && failsTest(reason.node, file))) continue;
    const buffer = single && s.file === file ? bufferFix(file, mk) : undefined;
    const wrap = selectFix(s.file, s.ref.site, !buffer);
    const kind = mk.unbuffered ? 'unbuffered channel' : `channel (buffer ${file.textOf(mk.capacity!)})`;
    const related: RelatedLocation[] = [{ path: file.path, start: reason.node.startIndex, end: reason.node.endIndex, message: 'the receiver can stop listening here' }];
    if (s.file !== file || s.lit.type !== 'func_literal') related.push({ path: file.path, start: s.go.startIndex, end: s.go.endIndex, message: 'the goroutine that sends is started here' });
    pass.report({
      file: s.file,
      node: s.ref.site,
      message: `this goroutine sends on ${kind} ${mk.name.text}, but ${functionLabel(fn)} can return without receiving from it (${reason.text}): the send then blocks forever and the goroutine leaks`,
      related,
      fixes: [buffer, wrap].filter((f): f is Fix => !!f),
    });
  }
}

/**
 * The goroutines send more values than the receiver may take: a send in a loop, several sends,
 * or a go statement in a loop. A buffered channel counts only when a loop with a constant
 * number of rounds sends more values than its constant capacity holds.
 */
function manySends(sends: Send[], fn: Node, mk: ChanMake, pass: Pass): boolean {
  if (mk.unbuffered) return sends.length > 1 || sends.some((s) => inLoopWithin(s.ref.site, s.lit) || inLoopWithin(s.go, fn));
  const capacity = constantValue(mk.capacity!, pass.pkg);
  if (capacity === undefined || sends.some((s) => inLoopWithin(s.go, fn))) return false;
  let total = 0;
  for (const s of sends) {
    let rounds = 1;
    for (let n = s.ref.site.parent; n && n.id !== s.lit.id; n = n.parent) {
      if (n.type !== 'for_statement') continue;
      const trips = constantTrips(n, pass.pkg);
      if (trips === undefined) return false;
      rounds *= trips;
    }
    total += rounds;
  }
  return total > capacity;
}

/** `a + b`, `a - b`, `a * b` over integer constants, besides what intConstant reads. */
function constantValue(expr: Node, pkg: Package): number | undefined {
  if (expr.type !== 'binary_expression') return intConstant(expr, pkg);
  const l = expr.childForFieldName('left');
  const r = expr.childForFieldName('right');
  const a = l ? constantValue(l, pkg) : undefined;
  const b = r ? constantValue(r, pkg) : undefined;
  if (a === undefined || b === undefined) return undefined;
  switch (expr.childForFieldName('operator')?.text) {
    case '+': return a + b;
    case '-': return a - b;
    case '*': return a * b;
    default: return undefined;
  }
}

/** `for i := A; i < B; i++` (or `<=`) with constant bounds: how many rounds it runs. */
function constantTrips(loop: Node, pkg: Package): number | undefined {
  const clause = loop.namedChildren.find((c) => c?.type === 'for_clause');
  const init = clause?.childForFieldName('initializer');
  const cond = clause?.childForFieldName('condition');
  const update = clause?.childForFieldName('update');
  if (init?.type !== 'short_var_declaration' || cond?.type !== 'binary_expression' || !update) return undefined;
  const name = init.childForFieldName('left')?.namedChild(0)?.text;
  const from = init.childForFieldName('right')?.namedChild(0);
  const bound = cond.childForFieldName('right');
  const op = cond.childForFieldName('operator')?.text;
  if (!name || !from || !bound || cond.childForFieldName('left')?.text !== name || update.text.replace(/\s+/g, '') !== `${name}++`) return undefined;
  const a = constantValue(from, pkg);
  const b = constantValue(bound, pkg);
  if (a === undefined || b === undefined) return undefined;
  return Math.max(0, op === '<' ? b - a : op === '<=' ? b - a + 1 : 0);
}

/**
 * A `for v := range ch` loop of the receiving function that can leave before the channel is
 * closed: a path from its body to the function's end that receives from ch no more (a return,
 * a break out of the loop, a goto). The senders still have values to give; the next send blocks.
 */
function rangeExitReason(pass: Pass, fn: Node, recvs: Ref[], file: SourceFile): Reason | undefined {
  const unit = pass.get(FunctionsFact).enclosing(recvs[0].node);
  if (!unit || unit.node.id !== fn.id) return undefined;
  const cfg = pass.get(CfgFact).of(unit);
  const receiving = new Set<number>();
  for (const r of recvs) {
    const at = cfg.nodeAt(r.kind === 'range' ? r.node.startIndex : r.site.startIndex);
    if (at) receiving.add(at.id);
  }
  for (const r of recvs) {
    if (r.kind !== 'range') continue;
    const loopBody = r.site.childForFieldName('body');
    const head = cfg.nodeAt(r.node.startIndex);
    if (!loopBody || !head) continue;
    const inBody = (id: number) => cfg.nodes[id].start >= loopBody.startIndex && cfg.nodes[id].end <= loopBody.endIndex;
    const seen = cfg.reachableFrom(head.succ.filter(inBody), (n) => receiving.has(n.id));
    if (!seen[cfg.exit]) continue;
    // Name the way out: a return in the loop body, else a break or goto there.
    const out = cfg.nodes.find((n) => seen[n.id] && inBody(n.id) && n.kind === 'return')
      ?? cfg.nodes.find((n) => seen[n.id] && inBody(n.id) && !!n.syntax && (n.syntax.type === 'break_statement' || n.syntax.type === 'goto_statement'));
    const node = out?.syntax ?? r.site;
    return { text: `the range loop at line ${lineOf(file, r.site)} can stop at line ${lineOf(file, node)} while senders still have values to send`, node };
  }
  return undefined;
}

export const goroutineLeakSend: Rule = {
  id: 'goroutine-leak-send',
  title: 'Goroutine blocked on a send nobody receives',
  doc: 'A goroutine sends on an unbuffered channel (a local or an unexported field), but its receiver can stop listening: an early return, a select on ctx.Done(), a stop channel, a timer or default that leaves, or a range loop that returns early. The sender then blocks forever and leaks. Give the channel a buffer of 1, or send in a select with ctx.Done().',
  severity: 'warning',
  requires: [GoroutinesFact, FunctionsFact, CallGraphFact, CfgFact],
  run(pass) {
    reportFieldSends(pass);
    for (const file of pass.files) {
      if (!file.contains('<-')) continue;
      for (const mk of chanMakes(file, pass.pkg)) reportLocalChannel(pass, file, mk);
    }
  },
};
