// double-lock: a mutex locked again while the same goroutine holds it on every path to that point,
// directly or by calling a function that locks it (at any depth, through methods, interfaces,
// function values and fmt's String()). The goroutine then waits for itself forever.
import type { Node } from 'web-tree-sitter';
import { CallGraphFact } from '../../engine/analysis/callgraph';
import type { FuncUnit } from '../../engine/analysis/functions';
import { isAcquire, lockCallOf, modeOf, type LockKey, type LockMode } from '../../engine/analysis/lock-keys';
import { LockStateFact, type Held } from '../../engine/analysis/lock-state';
import { contradict, guardsAround, PathGuardsFact } from '../../engine/analysis/path-guards';
import type { Rule } from '../../engine/rule';
import { deferredRuns, deferringUnits, isSyncMutex, lineOf, rebound, relatedAt, sameInstance, where, writeLocker } from './helpers';

export const doubleLock: Rule = {
  id: 'double-lock',
  title: 'Mutex locked while already held',
  doc: 'A mutex is locked again, directly or by a called function, while the same goroutine already holds it. Go mutexes are not reentrant: the goroutine waits for itself forever (a recursive RLock too, once a writer is waiting). Unlock first, or call a variant that expects the lock held.',
  severity: 'error',
  scope: 'package',
  requires: [LockStateFact, CallGraphFact, PathGuardsFact],
  run(pass) {
    const pkg = pass.pkg;
    const locks = pass.get(LockStateFact);
    const guards = pass.get(PathGuardsFact);
    const calls = pass.get(CallGraphFact);
    const writeLocked = writeLocker(locks);
    /** Whether taking `mode` blocks while the same goroutine holds the mutex in `held` mode. */
    const blocks = (held: LockMode, mode: LockMode, key: LockKey, u: Held['unit']) => held === 'w' || mode === 'w' || writeLocked(key, u);
    const why = (held: LockMode, mode: LockMode, key: LockKey) => held === 'r' && mode === 'r'
      ? `a second RLock by the same goroutine blocks as soon as a writer waits (${key.text} is write-locked elsewhere), and the writer waits for the first RLock: deadlock`
      : 'Go mutexes are not reentrant, so the goroutine waits for itself forever';
    const state = (m: LockMode) => (m === 'w' ? 'locked' : 'read-locked');

    const reportedOn = new Set(pass.files); // its findings lie in the unit's own file
    const reported = new Set<string>();
    const report = (u: FuncUnit, call: Node, held: Held, message: string, more: ReturnType<typeof relatedAt>[]) => {
      const at = `${u.file.path}:${call.startIndex}`;
      if (reported.has(at)) return;
      reported.add(at);
      pass.report({ file: u.file, node: call, message, related: [relatedAt(held.site, held.unit, `${held.key.text} ${state(held.mode)} here`), ...more] });
    };
    /** A call made while `must` is held whose callee (or something it calls) locks one of them again. */
    const throughCall = (u: FuncUnit, call: Node, must: ReadonlyMap<string, Held>, deferred: boolean) => {
      for (const e of calls.edgesOf(call, u)) {
        if (e.how === 'callback' && !e.certain) continue;
        for (const a of locks.acquiresThrough(e)) {
          const key = a.key;
          const h = must.get(key.id);
          if (!h || !sameInstance(h.key, key) || !blocks(h.mode, a.mode, key, u)) continue;
          // The chain releases it before taking it again (unlock, work, relock): no re-entry.
          if (a.releasedBefore.has(key.id)) continue;
          if ((h.unit === u && rebound(key, u, h.site.endIndex, call.startIndex)) || !isSyncMutex(lockCallOf(a.site)?.mutex ?? a.site, a.unit, pkg)) continue;
          // The callee locks only under a condition no way to this call satisfies (`if !p.nodeScope` against `if p.nodeScope`).
          const inner = guardsAround(a.site, a.unit);
          if (inner.length && guards.contexts(call, u).every((c) => contradict(c.guards, inner))) continue;
          const fn = call.childForFieldName('function');
          const callText = e.how === 'stringer' ? `${call.text.replace(/\(.*$/s, '').replace(/\s+/g, '')}() calls String() on ${e.receiver?.text ?? 'its argument'}, which` : `${deferred ? 'the deferred ' : ''}${fn?.type === 'func_literal' ? 'function literal' : `${(fn?.text ?? 'the call').replace(/\s+/g, '')}()`}${deferred ? ', run at the exit,' : ''}`;
          const chain = a.via.length > 1 ? ` (through ${a.via.map((c) => `${c.childForFieldName('function')?.text.replace(/\s+/g, '') ?? '?'}()`).join(' → ')})` : '';
          report(u, call, h,
            `${callText} ${a.mode === 'w' ? 'locks' : 'read-locks'} ${key.text} (in ${a.unit.label} at ${where(a.site, a.unit)}) while it is ${deferred ? 'still' : 'already'} ${state(h.mode)} ${deferred ? 'there' : 'here'} (line ${lineOf(h.site, h.unit)}): ${why(h.mode, a.mode, key)}${chain}`,
            [relatedAt(a.site, a.unit, `${a.unit.label} ${a.mode === 'w' ? 'locks' : 'read-locks'} it again here`)]);
          return;
        }
      }
    };
    for (const u of locks.lockingUnits()) {
      if (!reportedOn.has(u.file)) continue;
      locks.walk(u, (op, _node, before) => {
        if (op.kind !== 'call' || op.role) return;
        const lc = lockCallOf(op.syntax);
        if (lc) {
          // Direct: the same mutex locked again.
          if (!isAcquire(lc.method)) return;
          const key = locks.keyOfLockCall(op.syntax, u);
          const h = key && before.must.get(key.id);
          const mode = modeOf(lc.method, key);
          if (!key || !h || !sameInstance(h.key, key) || !blocks(h.mode, mode, key, u) || (h.unit === u && rebound(key, u, h.site.endIndex, op.start)) || !isSyncMutex(lc.mutex, u, pkg)) return;
          report(u, op.syntax, h, `${key.text}.${lc.method}() while ${key.text} is already ${state(h.mode)} (line ${lineOf(h.site, h.unit)}): ${why(h.mode, mode, key)}`, []);
          return;
        }
        // Through a call: the callee (or something it calls) locks a mutex held here.
        if (before.must.size) throughCall(u, op.syntax, before.must, false);
      });
    }
    // Deferred calls run at the exit, under what is still held there: `defer mu.Unlock(); defer s.flush()` runs flush first.
    for (const u of deferringUnits(locks)) {
      if (!reportedOn.has(u.file)) continue;
      for (const d of deferredRuns(locks, calls, u)) throughCall(u, d.call, d.held, true);
    }
  },
};
