import { CallGraphFact, type CallGraph } from '../../engine/analysis/callgraph';
import { FunctionsFact, type FuncUnit, type Functions } from '../../engine/analysis/functions';
import { GoroutinesFact, type Goroutines, type Root } from '../../engine/analysis/goroutines';
import { LockStateFact, type LockState } from '../../engine/analysis/lock-state';
import { isBuiltin } from '../../engine/goroutines';
import type { Rule } from '../../engine/rule';
import type { SourceFile } from '../../engine/source-file';
import { cachedParent, cachedType } from '../../engine/tree-cache';
import { chanFieldKey, commonLock, goroutineRunning, lineOf, waitsBefore, type ChanOp } from './channel-fields';

/** `close(x.f)`: a channel field closed. */
const CLOSE_FIELD = /(?<![\w$.])close\s*\(\s*([\w$]+)\s*\.\s*([\w$]+)\s*\)/g;
/** `x.f <-`: a send on a channel field (checked in the tree: a receive `v := <-x.f` has no operand before `<-`). */
const SEND_FIELD = /(?<![\w$.])([\w$]+)\s*\.\s*([\w$]+)\s*<-/g;
const RECOVER = /(?<![\w$.])recover\s*\(\s*\)/;
/** How many callers up racelens looks for the closing function, or for a wait before a call. */
const CALLER_DEPTH = 4;


export const sendOnClosedChannel: Rule = {
  id: 'send-on-closed-channel',
  title: 'Send on a channel another function closes',
  doc: 'A send on a closed channel panics. When one function closes a channel field and another sends on it, with no lock held at both and no wait for the senders before the close, a send can come after the close. Close the channel only where the senders are known to have finished (after wg.Wait, or in the only sending goroutine), or guard both with a mutex and a closed flag.',
  severity: 'warning',
  requires: [FunctionsFact, CallGraphFact, LockStateFact, GoroutinesFact],
  run(pass) {
    const files = pass.files.filter((f) => f.text.includes('close') && f.text.includes('<-'));
    if (!files.length) return;
    const fns = pass.get(FunctionsFact);
    const calls = pass.get(CallGraphFact);
    const closes = new Map<string, ChanOp[]>();
    for (const file of files) {
      for (const op of closesIn(file, fns, calls)) {
        const list = closes.get(op.key);
        if (list) list.push(op); else closes.set(op.key, [op]);
      }
    }
    if (!closes.size) return;
    const fields = new Set([...closes.values()].map((l) => l[0].field));
    let locks: LockState | undefined;
    let goroutines: Goroutines | undefined;
    for (const file of files) {
      for (const send of sendsIn(file, fns, calls, fields)) {
        const closers = closes.get(send.key);
        if (!closers || RECOVER.test(send.unit.outermost.node.text)) continue;
        locks ??= pass.get(LockStateFact);
        goroutines ??= pass.get(GoroutinesFact);
        let closer: ChanOp | undefined;
        let root: { r: Root; runs: string } | undefined;
        for (const c of closers) {
          const r = goroutineRunning(send.unit, goroutines);
          const rc = r ? undefined : goroutineRunning(c.unit, goroutines);
          if ((!r && !rc) || !unguarded(send, c, calls, locks)) continue;
          closer = c;
          root = r ? { r, runs: 'the send' } : { r: rc!, runs: 'the close' };
          break;
        }
        if (!closer || !root) continue;
        const site = root.r.site!;
        const siteFile = root.r.spawner?.file ?? send.file;
        const siteLine = siteFile.positionAt(site.startIndex).line + 1;
        const where = closer.file === send.file ? `line ${lineOf(closer)}` : `${closer.file.path.split('/').pop()}:${lineOf(closer)}`;
        const closerName = closer.unit.outermost.label;
        pass.report({
          file: send.file,
          node: send.node,
          message: `send on ${send.key} may panic: ${closerName} closes it (${where}) with no lock held here and there and no wait for the senders before the close, and ${root.runs} runs on the goroutine started at line ${siteLine}, so this send in ${send.unit.outermost.label} can run after the close; close the channel only once every sender has finished, or guard the send and the close with one mutex and a closed flag`,
          related: [
            { path: closer.file.path, start: closer.node.startIndex, end: closer.node.endIndex, message: `${send.key} is closed here, in ${closerName}` },
            { path: siteFile.path, start: site.startIndex, end: site.startIndex + 2, message: `${root.runs} runs on the goroutine started here` },
          ],
        });
      }
    }
  },
};

function closesIn(file: SourceFile, fns: Functions, calls: CallGraph): ChanOp[] {
  const out: ChanOp[] = [];
  for (const m of file.text.matchAll(CLOSE_FIELD)) {
    const fn = file.root.descendantForIndex(m.index!, m.index! + 5);
    const call = fn && cachedParent(fn);
    if (!call || cachedType(call) !== 'call_expression' || !isBuiltin(fn, ['close'])) continue;
    const arg = call.childForFieldName('arguments')?.namedChild(0);
    const operand = arg?.type === 'selector_expression' ? arg.childForFieldName('operand') : null;
    const unit = fns.enclosing(call);
    if (!operand || operand.type !== 'identifier' || !unit || !runsWhereSeen(unit)) continue;
    const key = chanFieldKey(operand, m[2], file, calls);
    if (key) out.push({ key, field: m[2], node: call, unit, file });
  }
  return out;
}

function sendsIn(file: SourceFile, fns: Functions, calls: CallGraph, fields: ReadonlySet<string>): ChanOp[] {
  const out: ChanOp[] = [];
  for (const m of file.text.matchAll(SEND_FIELD)) {
    if (!fields.has(m[2])) continue;
    const operand = file.root.descendantForIndex(m.index!, m.index! + m[1].length);
    const sel = operand && cachedParent(operand);
    const send = sel && cachedParent(sel);
    if (operand?.type !== 'identifier' || sel?.type !== 'selector_expression' || send?.type !== 'send_statement') continue;
    if (send.childForFieldName('channel')?.id !== sel.id) continue;
    const unit = fns.enclosing(send);
    const key = unit && chanFieldKey(operand, m[2], file, calls);
    if (unit && key) out.push({ key, field: m[2], node: send, unit, file });
  }
  return out;
}

/**
 * A literal whose running racelens can place: called in place, deferred, started with `go`, or
 * given to `once.Do`. A literal stored in a field or passed elsewhere runs where racelens cannot see
 * what waits before it (`closeOnce = sync.OnceFunc(func() { close(ch) })`).
 */
function runsWhereSeen(u: FuncUnit): boolean {
  for (let n: FuncUnit | undefined = u; n?.isLiteral; n = n.parent) {
    const p = cachedParent(n.node);
    if (p?.type === 'call_expression' && p.childForFieldName('function')?.id === n.node.id) continue;
    const call = p?.type === 'argument_list' ? cachedParent(p) : null;
    const fn = call?.childForFieldName('function');
    if (fn?.type === 'selector_expression' && fn.childForFieldName('field')?.text === 'Do') continue;
    return false;
  }
  return true;
}

/** Nothing orders `send` before `close`: not the same goroutine's code, no common lock, no wait first. */
function unguarded(send: ChanOp, close: ChanOp, calls: CallGraph, locks: LockState): boolean {
  if (send.file !== close.file && send.file.path.endsWith('_test.go') !== close.file.path.endsWith('_test.go')) return false;
  if (sequentialIn(send.unit, close.unit, calls, 0)) return false;
  if (waitsBefore(close.unit, close.node.startIndex, calls, 0)) return false;
  return !commonLock(send, close, locks);
}

/**
 * True when `u` runs only inside `closer`'s own thread: it is `closer`, a literal it runs in place,
 * or a function that only `closer` (or such functions) call. A producer that sends through helpers
 * and closes at its end orders its sends before the close.
 */
function sequentialIn(u: FuncUnit, closer: FuncUnit, calls: CallGraph, depth: number): boolean {
  if (u === closer || u.outermost === closer.outermost && !startsGoroutine(u, closer)) return true;
  if (depth >= CALLER_DEPTH || u.isLiteral || !u.name) return false;
  const callers = calls.callersOf(u);
  // An unexported function no call names runs as a function value racelens does not follow
  // (`for state := start; state != nil; { state = state(l) }`): its thread is unknown, so stay silent.
  if (!callers.length) return !/^[A-Z]/.test(u.name);
  return callers.every((e) => e.role !== 'go' && sequentialIn(e.caller, closer, calls, depth + 1));
}

/** A `go func() {...}()` between `u` and `outer`: the literal runs on a goroutine of its own. */
function startsGoroutine(u: FuncUnit, outer: FuncUnit): boolean {
  for (let n: FuncUnit | undefined = u; n && n !== outer; n = n.parent) {
    if (!n.isLiteral) return false;
    const call = cachedParent(n.node);
    if (call?.type === 'call_expression' && cachedParent(call)?.type === 'go_statement') return true;
  }
  return false;
}
