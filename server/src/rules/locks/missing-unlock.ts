// missing-unlock: a function that locks a mutex returns with it still held on some paths while it
// unlocks it on others: the next Lock deadlocks. Found on the CFG with the lock state at each exit.
import type { Node } from 'web-tree-sitter';
import type { Cfg, FlowNode } from '../../engine/analysis/cfg';
import type { FuncUnit } from '../../engine/analysis/functions';
import { isAcquire, lockCallOf, type LockKey } from '../../engine/analysis/lock-keys';
import { LockStateFact, type LockState } from '../../engine/analysis/lock-state';
import { deleteStatement } from '../../engine/edits';
import { codeText, eolOf, inLoopWithin, lineEnd, lineIndent, standsAlone } from '../../engine/goroutines';
import { enclosingFunction, FUNCTION_TYPES } from '../../engine/syntax';
import { query } from '../../engine/parser';
import type { Fix, Pass, Rule } from '../../engine/rule';
import type { SourceFile } from '../../engine/source-file';
import { lineOf } from './helpers';

const DEFERS = '(defer_statement) @defer';
/** Statements that jump: a lock held there is carried to wherever they go. */
const JUMPS = new Set(['break_statement', 'continue_statement', 'goto_statement']);

/** A lock a function takes itself: its first Lock call and its unlock calls. */
interface Taken { key: LockKey; lock: Node; method: string; unlocks: Node[] }
const CALLS = '(call_expression) @call';

const norm = (s: string) => s.replace(/\s+/g, '');

function isLockOf(stmt: Node, mutex: string, methods: readonly string[]): boolean {
  const call = stmt.type === 'expression_statement' ? stmt.namedChild(0) : null;
  const lc = call && lockCallOf(call);
  return !!lc && stmt.type === 'expression_statement' && methods.includes(lc.method) && norm(lc.mutex.text) === mutex;
}

/** Nothing in `ret` runs code: no calls, no receives. */
function plainReturn(ret: Node, file: SourceFile): boolean {
  return ret.type === 'return_statement' && !file.textOf(ret).includes('<-') && query(CALLS).captures(ret).length === 0;
}

/**
 * After `u` runs, control reaches the end of the function with no other code: `u` is last in its
 * block or followed only by a plain return, and so is every statement it is nested in.
 */
function endsFunction(u: Node, body: Node, file: SourceFile): boolean {
  let cur = u;
  for (let p = u.parent; p; cur = p, p = p.parent) {
    if (p.type === 'statement_list') {
      const stmts = p.namedChildren.filter((s): s is Node => !!s && s.type !== 'comment');
      const i = stmts.findIndex((s) => s.id === cur.id);
      const after = stmts.slice(i + 1);
      if (after.length > 1 || (after.length === 1 && !plainReturn(after[0], file))) return false;
      if (after.length === 1) return true;
      continue;
    }
    if (p.id === body.id) return true;
    if (p.type === 'for_statement' || FUNCTION_TYPES.has(p.type)) return false;
  }
  return false;
}

/**
 * "Use defer": `defer mu.Unlock()` after the Lock, and the manual unlocks it replaces deleted.
 * Only when the Lock is the function's only one for that mutex, outside loops, every Unlock of it
 * follows the Lock in the same block and ends the function, and no defer is registered after it.
 */
function deferFix(file: SourceFile, fn: Node, lock: Node, mutexText: string, unlockName: string): Fix | undefined {
  const body = fn.childForFieldName('body')!;
  const list = lock.parent!;
  if (inLoopWithin(lock, fn) || !standsAlone(file, lock, true)) return undefined;
  const mutex = norm(mutexText);
  const esc = mutex.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/\\\./g, '\\s*\\.\\s*');
  const text = codeText(file, body);
  const locks = [...text.matchAll(new RegExp(`(?<![\\w$.])${esc}\\s*\\.\\s*R?Lock\\s*\\(`, 'g'))];
  if (locks.length !== 1) return undefined;
  const unlocks: Node[] = [];
  for (const m of text.matchAll(new RegExp(`(?<![\\w$.])${esc}\\s*\\.\\s*(R?Unlock)\\b`, 'g'))) {
    if (m[1] !== unlockName) return undefined;
    const at = body.startIndex + m.index! + m[0].length - m[1].length;
    const stmt = file.root.descendantForIndex(at, at + m[1].length)?.parent?.parent?.parent;
    if (!stmt || !isLockOf(stmt, mutex, [unlockName]) || enclosingFunction(stmt)?.id !== fn.id) return undefined;
    if (stmt.startIndex < lock.endIndex || stmt.endIndex > list.endIndex) return undefined;
    if (!endsFunction(stmt, body, file)) return undefined;
    unlocks.push(stmt);
  }
  if (!unlocks.length) return undefined;
  // Defers registered after the Lock would now run before the unlock, under the lock.
  if (query(DEFERS).captures(body).some((c) => c.node.startIndex > lock.endIndex && enclosingFunction(c.node)?.id === fn.id)) return undefined;
  // A block left empty by the deletions would not be gofmt-clean in every layout: keep it simple.
  for (const u of unlocks) {
    const siblings = u.parent!.namedChildren.filter((s) => s && s.type !== 'comment');
    if (siblings.length === 1 && u.parent!.parent?.id !== body.id) return undefined;
  }
  const at = lineEnd(file, lock.endIndex);
  const edits = [
    { path: file.path, start: at, end: at, newText: `${eolOf(file)}${lineIndent(file, lock.startIndex)}defer ${mutexText}.${unlockName}()` },
    ...unlocks.map((u) => ({ path: file.path, ...deleteStatement(file, u) })),
  ];
  return { title: `Use defer ${mutexText}.${unlockName}() right after the lock`, edits, isPreferred: true };
}

export const missingUnlock: Rule = {
  id: 'missing-unlock',
  title: 'Return with the mutex still locked',
  doc: 'A return between mu.Lock() and mu.Unlock() leaves the function with the mutex held, and the next Lock deadlocks. Unlock before returning, or defer mu.Unlock() right after Lock.',
  severity: 'warning',
  scope: 'package',
  requires: [LockStateFact],
  run(pass) {
    const locks = pass.get(LockStateFact);
    const reportedOn = new Set(pass.files); // its findings lie in the unit's own file
    for (const u of locks.lockingUnits()) {
      if (!reportedOn.has(u.file)) continue;
      const top = u.outermost;
      // Lock helpers (lock(), tryLock(), lockAndGet()) return holding the lock by design.
      if (/lock/i.test(top.name ?? '') || u.isLiteral && !u.parent) continue;
      const file = u.file;
      // `unlock := mu.Unlock` and friends: the unlock can hide behind another name.
      const text = codeText(file, u.node);
      if (/\.\s*R?Unlock(?!\s*\()/.test(text)) continue;
      // Every unlock deferred: it runs on every return.
      const unlocks = text.match(/\.\s*R?Unlock\s*\(/g)?.length ?? 0;
      const deferred = text.match(/\bdefer\s+[\w.]*\.\s*R?Unlock\s*\(/g)?.length ?? 0;
      if (unlocks === deferred) continue;
      const { cfg, before } = locks.states(u);
      // The locks this function takes itself, with their first Lock and Unlock calls.
      const taken = new Map<string, Taken>();
      locks.walk(u, (op, _n, before) => {
        const lc = op.kind === 'call' && !op.role ? lockCallOf(op.syntax) : undefined;
        const key = lc && locks.keyOfLockCall(op.syntax, u);
        if (!lc || !key || key.inexact) return;
        const t = taken.get(key.id);
        // Taking back the caller's lock (unlock, work, relock) returns it held as it came: by design.
        if (isAcquire(lc.method)) { if (!t && !before.released.has(key.id)) taken.set(key.id, { key, lock: op.syntax, method: lc.method, unlocks: [] }); }
        else t?.unlocks.push(op.syntax);
      });
      if (!taken.size) continue;
      // The exits: each return, and falling off the end of the body.
      const exits: FlowNode[] = cfg.nodes[cfg.exit].pred.map((id) => cfg.nodes[id]).filter((n) => before[n.id] && !locks.deadEdge(u, n, cfg.nodes[cfg.exit]));
      const heldAt = (n: FlowNode, id: string) => {
        const s = locks.after(u, n);
        const h = s?.must.get(id);
        return !!h && !h.relock && !s!.deferred.has(id);
      };
      const releasedAt = (n: FlowNode, id: string) => {
        const s = locks.after(u, n);
        return !!s && !s.may.has(id) || !!s?.deferred.has(id);
      };
      // break, continue and goto, and the loop ends that go round again: reported on their own.
      const jumps = new Set(cfg.nodes.filter((n) => JUMPS.has(n.syntax?.type ?? '')).map((n) => n.id));
      for (const t of taken.values()) {
        if (!t.unlocks.length) continue;
        // Unlocked on the way out on some path: at an exit, or by an unlock the end is reached from.
        const mixed = exits.some((n) => releasedAt(n, t.key.id)) || unlockReachesEnd(locks, u, cfg, t);
        // Held at every exit: a lock helper by design, unless no caller ever unlocks it.
        const leakedAbove = mixed ? undefined : callersNeverRelease(locks, u, t.key);
        reportJumpLeaks(pass, locks, u, t, jumps, mixed || !!leakedAbove);
        if (!mixed && !leakedAbove) continue;
        const unlockName = t.method === 'Lock' ? 'Unlock' : 'RUnlock';
        const mainUnlock = mainUnlockOf(t);
        const lockStmt = t.lock.parent;
        let fix: Fix | undefined | null = null;
        for (const n of exits) {
          if (!heldAt(n, t.key.id) || jumps.has(n.id)) continue;
          const node = n.kind === 'return' ? n.syntax! : lastBrace(u.node);
          if (!node) continue;
          if (fix === null) {
            fix = !leakedAbove && lockStmt?.type === 'expression_statement' && lockStmt.parent?.type === 'statement_list' && !u.isLiteral
              ? deferFix(file, top.node, lockStmt, t.key.text, unlockName) : undefined;
          }
          pass.report({
            file,
            node,
            message: leakedAbove
              ? `${n.kind === 'return' ? 'returns' : 'falls off the end of the function'} with ${t.key.text} still locked, and no caller unlocks it (the chain ends in ${leakedAbove}): the ${t.key.text}.${t.method}() at line ${lineOf(t.lock, u)} is released only by the ${t.key.text}.${unlockName}() at line ${lineOf(mainUnlock, u)}, which this path skips; the next ${t.method === 'Lock' ? 'Lock' : 'writer'} deadlocks`
              : `${n.kind === 'return' ? 'returns' : 'falls off the end of the function'} with ${t.key.text} still locked: the ${t.key.text}.${t.method}() at line ${lineOf(t.lock, u)} has no deferred ${unlockName}, and this path skips the ${t.key.text}.${unlockName}() at line ${lineOf(mainUnlock, u)}; the next ${t.method === 'Lock' ? 'Lock' : 'writer'} deadlocks`,
            related: [
              { path: file.path, start: t.lock.startIndex, end: t.lock.endIndex, message: 'locked here' },
              { path: file.path, start: mainUnlock.startIndex, end: mainUnlock.endIndex, message: 'unlocked here on other paths' },
            ],
            fixes: fix ? [fix] : [],
          });
        }
      }
    }
  },
};

/** The closing brace of a function's body. */
function lastBrace(fn: Node): Node | undefined {
  const body = fn.childForFieldName('body');
  const close = body?.child(body.childCount - 1);
  return close?.type === '}' ? close : undefined;
}

/** The unlock a message names: the first one after the Lock. */
function mainUnlockOf(t: Taken): Node {
  return t.unlocks.find((x) => x.startIndex > t.lock.startIndex) ?? t.unlocks[0];
}

/**
 * Jumps that carry a lock this function took: a `break`, `continue` or `goto` where it is held on
 * every path, and the ends of loop bodies that go round again holding it. From there, every path
 * that keeps it either reaches another Lock of it (the next round waits for itself) or the end of
 * the function (reported when `exitLeaks`: other exits unlock it, or no caller does). An unlock
 * reachable on the way makes the outcome depend on conditions racelens cannot read: silent.
 */
function reportJumpLeaks(pass: Pass, locks: LockState, u: FuncUnit, t: Taken, jumps: Set<number>, exitLeaks: boolean): void {
  const { cfg } = locks.states(u);
  const id = t.key.id;
  const file = u.file;
  const unlock = mainUnlockOf(t);
  const unlockName = t.method === 'Lock' ? 'Unlock' : 'RUnlock';
  for (const n of cfg.nodes) {
    if (!n.syntax || n.id === cfg.exit || n.id === cfg.abort) continue;
    const jump = jumps.has(n.id);
    // A loop body's end (or `for` post statement) going back to the loop head.
    const back = jump ? n.succ : n.succ.filter((s) => s !== cfg.exit && s !== cfg.abort && cfg.nodes[s].start <= n.start);
    if (!back.length) continue;
    const s = locks.after(u, n);
    const held = s?.must.get(id);
    if (!held || held.relock || s!.deferred.has(id)) continue;
    const end = followHeld(locks, u, cfg, id, back);
    if (!end) continue;
    const kw = jump ? n.syntax.text.split(/\s/)[0] : '';
    if (end.relock && !perIteration(t.key, end.relock)) {
      const both = held.mode === 'r' && end.relock.childForFieldName('function')?.childForFieldName('field')?.text === 'RLock';
      const outcome = both ? `takes a second read lock, and the first is never released: the next writer waits forever` : `waits for the lock it already holds: a deadlock`;
      const relockLine = lineOf(end.relock, u);
      pass.report(jump ? {
        file,
        node: n.syntax,
        message: `${kw} with ${t.key.text} still locked: the ${t.key.text}.${t.method}() at line ${relockLine} runs again before any unlock and ${outcome} (this path skips the ${t.key.text}.${unlockName}() at line ${lineOf(unlock, u)})`,
        related: [
          { path: file.path, start: end.relock.startIndex, end: end.relock.endIndex, message: 'locks again here' },
          { path: file.path, start: unlock.startIndex, end: unlock.endIndex, message: 'unlocked here on other paths' },
        ],
      } : {
        file,
        node: end.relock,
        message: `${t.key.text} is still locked when the loop comes back to this ${t.key.text}.${t.method}(): the round that ends at line ${lineOf(n.syntax, u)} skips the ${t.key.text}.${unlockName}() at line ${lineOf(unlock, u)}, so the next round ${outcome}`,
        related: [
          { path: file.path, start: n.syntax.startIndex, end: n.syntax.endIndex, message: `the round ends here with ${t.key.text} locked` },
          { path: file.path, start: unlock.startIndex, end: unlock.endIndex, message: 'unlocked here on other paths' },
        ],
      });
    } else if (!end.relock && end.exits && jump && exitLeaks) {
      pass.report({
        file,
        node: n.syntax,
        message: `${kw} with ${t.key.text} still locked, and no path on from here unlocks it: the function returns holding the ${t.key.text}.${t.method}() at line ${lineOf(t.lock, u)} (this path skips the ${t.key.text}.${unlockName}() at line ${lineOf(unlock, u)}); the next ${t.method === 'Lock' ? 'Lock' : 'writer'} deadlocks`,
        related: [
          { path: file.path, start: t.lock.startIndex, end: t.lock.endIndex, message: 'locked here' },
          { path: file.path, start: unlock.startIndex, end: unlock.endIndex, message: 'unlocked here on other paths' },
        ],
      });
    }
  }
}

/**
 * Where the paths from `from` go while they keep lock `id`: to a Lock of it, and whether to the end
 * of the function. Undefined when some path unlocks it first (or defers an unlock), or goes nowhere.
 */
function followHeld(locks: LockState, u: FuncUnit, cfg: Cfg, id: string, from: readonly number[]): { relock?: Node; exits: boolean } | undefined {
  const seen = new Uint8Array(cfg.nodes.length);
  const work = [...from];
  for (const f of from) seen[f] = 1;
  let relock: Node | undefined;
  let exits = false;
  while (work.length) {
    const nid = work.pop()!;
    if (nid === cfg.exit) { exits = true; continue; }
    if (nid === cfg.abort) continue;
    const n = cfg.nodes[nid];
    const again = acquireIn(locks, u, cfg, n, id);
    if (again) { if (!relock || again.startIndex < relock.startIndex) relock = again; continue; }
    const after = locks.after(u, n);
    if (!after) continue;
    if (!after.may.has(id) || (n.kind === 'defer' && /Unlock|unlock/.test(n.syntax?.text ?? ''))) return undefined;
    for (const s of n.succ) if (!seen[s]) { seen[s] = 1; work.push(s); }
  }
  return relock || exits ? { relock, exits } : undefined;
}

/** A Lock or RLock of `id` in the node's own code. */
function acquireIn(locks: LockState, u: FuncUnit, cfg: Cfg, n: FlowNode, id: string): Node | undefined {
  for (const op of cfg.ops(n)) {
    const lc = op.kind === 'call' && !op.role ? lockCallOf(op.syntax) : undefined;
    if (lc && isAcquire(lc.method) && locks.keyOfLockCall(op.syntax, u)?.id === id) return op.syntax;
  }
  return undefined;
}

/** A mutex named through a variable declared inside the loop around `call`: another mutex each round. */
function perIteration(key: LockKey, call: Node): boolean {
  if (key.root.kind !== 'local') return false;
  for (let p = call.parent; p && !FUNCTION_TYPES.has(p.type); p = p.parent) {
    if (p.type === 'for_statement') return key.root.at >= p.startIndex && key.root.at < p.endIndex;
  }
  return false;
}

/**
 * For a function that returns holding `key` on every path: the root of the call chain that keeps
 * it, when no caller, at any depth, unlocks it (every caller returns holding it too, up to a
 * goroutine's function or a test). Undefined when some caller unlocks it, or racelens cannot see
 * all callers (an exported function, a function value, a chain deeper than six calls).
 */
function callersNeverRelease(locks: LockState, u: FuncUnit, key: LockKey, depth = 0, seen = new Set<FuncUnit>()): string | undefined {
  if (depth > 6 || seen.has(u)) return undefined; // a budget: callers of callers
  seen.add(u);
  if (u.isLiteral) {
    const call = u.node.parent;
    return call?.type === 'call_expression' && call.parent?.type === 'go_statement' ? `the goroutine started at line ${lineOf(call.parent, u)}` : undefined;
  }
  const name = u.name ?? '';
  if (/^Test[A-Z_]|^Test$/.test(name) && u.file.isTest) return name;
  // An exported function's other callers are outside: they can unlock it only through a field or
  // a package function that releases it.
  if (/^[A-Z]/.test(name) && !privateToPackage(locks, key)) return undefined;
  const callers = locks.calls.callersOf(u);
  if (!callers.length) return undefined;
  let root: string | undefined;
  for (const e of callers) {
    if (e.how !== 'static' && e.how !== 'interface') return undefined;
    const k = locks.keys.toCaller(key, e);
    if (!k || k.inexact) return undefined;
    if (e.role === 'go') { root ??= `the goroutine started at line ${lineOf(e.call, e.caller)}`; continue; }
    if (e.role === 'defer') return undefined;
    if (releasesIn(locks, e.caller, k)) return undefined;
    const up = callersNeverRelease(locks, e.caller, k, depth + 1, seen);
    if (!up) return undefined;
    root ??= up;
  }
  return root;
}

/** A mutex in unexported fields that no function of the package unlocks for its caller. */
function privateToPackage(locks: LockState, key: LockKey): boolean {
  if (!key.path.length || key.path.some((f) => /^[A-Z]/.test(f)) || !key.shared) return false;
  let released = releasedForCallers.get(locks);
  if (!released) {
    released = new Set();
    for (const v of locks.lockingUnits()) for (const r of locks.effect(v).releases.values()) if (r.key.shared) released.add(r.key.shared.id);
    releasedForCallers.set(locks, released);
  }
  return !released.has(key.shared.id);
}

/** Per package analysis: the mutexes (by shared identity) some function releases for its caller. */
const releasedForCallers = new WeakMap<LockState, Set<string>>();

/** Whether `u`'s own code unlocks `key` anywhere: an unlock call, a releasing callee, or an unlock method value. */
function releasesIn(locks: LockState, u: FuncUnit, key: LockKey): boolean {
  let found = false;
  locks.walk(u, (op) => {
    if (found) return;
    if (op.kind === 'unlock-value') { found = locks.keys.ofMutex(op.syntax.childForFieldName('operand') ?? op.syntax, u)?.id === key.id; return; }
    if (op.kind !== 'call') return;
    const lc = lockCallOf(op.syntax);
    if (lc) { found = !isAcquire(lc.method) && locks.keyOfLockCall(op.syntax, u)?.id === key.id; return; }
    found = locks.calls.edgesOf(op.syntax, u).some((e) => [...locks.effect(e.callee).releases.values()].some((r) => locks.keys.toCaller(r.key, e)?.id === key.id));
  });
  return found;
}

/** Some unlock of the lock reaches the end of the function without passing another Lock of it. */
function unlockReachesEnd(locks: LockState, u: FuncUnit, cfg: Cfg, t: Taken): boolean {
  return t.unlocks.some((x) => {
    const n = cfg.nodeAt(x.startIndex);
    return !!n && !!cfg.reachableFrom(n.succ, (m) => !!acquireIn(locks, u, cfg, m, t.key.id))[cfg.exit];
  });
}
