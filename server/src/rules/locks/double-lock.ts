// double-lock: a mutex locked again while the same goroutine holds it on every path to that point,
// directly or by calling a function that locks it (at any depth, through methods, interfaces,
// function values and fmt's String()). The goroutine then waits for itself forever.
import type { Node } from 'web-tree-sitter';
import { CallGraphFact } from '../../engine/analysis/callgraph';
import { isAcquire, lockCallOf, modeOf, type LockKey, type LockMode } from '../../engine/analysis/lock-keys';
import { LockStateFact, type Held } from '../../engine/analysis/lock-state';
import { contradict, guardsAround, PathGuardsFact } from '../../engine/analysis/path-guards';
import type { Rule } from '../../engine/rule';
import { isSyncMutex, lineOf, rebound, relatedAt, sameInstance, where, writeLocker } from './helpers';

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
    for (const u of locks.lockingUnits()) {
      if (!reportedOn.has(u.file)) continue;
      const reported = new Set<number>();
      const report = (call: Node, held: Held, message: string, more: ReturnType<typeof relatedAt>[]) => {
        if (reported.has(call.id)) return;
        reported.add(call.id);
        pass.report({ file: u.file, node: call, message, related: [relatedAt(held.site, held.unit, `${held.key.text} ${state(held.mode)} here`), ...more] });
      };
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
          report(op.syntax, h, `${key.text}.${lc.method}() while ${key.text} is already ${state(h.mode)} (line ${lineOf(h.site, h.unit)}): ${why(h.mode, mode, key)}`, []);
          return;
        }
        // Through a call: the callee (or something it calls) locks a mutex held here.
        if (!before.must.size) return;
        for (const e of calls.edgesOf(op.syntax, u)) {
          if (e.how === 'callback' && !e.certain) continue;
          for (const a of locks.acquiresThrough(e)) {
            const key = a.key;
            const h = before.must.get(key.id);
            if (!h || !sameInstance(h.key, key) || !blocks(h.mode, a.mode, key, u)) continue;
            // The chain releases it before taking it again (unlock, work, relock): no re-entry.
            if (a.releasedBefore.has(key.id)) continue;
            if ((h.unit === u && rebound(key, u, h.site.endIndex, op.start)) || !isSyncMutex(lockCallOf(a.site)?.mutex ?? a.site, a.unit, pkg)) continue;
            // The callee locks only under a condition no way to this call satisfies (`if !p.nodeScope` against `if p.nodeScope`).
            const inner = guardsAround(a.site, a.unit);
            if (inner.length && guards.contexts(op.syntax, u).every((c) => contradict(c.guards, inner))) continue;
            const fn = op.syntax.childForFieldName('function');
            const callText = e.how === 'stringer' ? `${op.syntax.text.replace(/\(.*$/s, '').replace(/\s+/g, '')}() calls String() on ${e.receiver?.text ?? 'its argument'}, which` : `${(fn?.text ?? 'the call').replace(/\s+/g, '')}()`;
            const chain = a.via.length > 1 ? ` (through ${a.via.map((c) => `${c.childForFieldName('function')?.text.replace(/\s+/g, '') ?? '?'}()`).join(' → ')})` : '';
            report(op.syntax, h,
              `${callText} ${a.mode === 'w' ? 'locks' : 'read-locks'} ${key.text} (in ${a.unit.label} at ${where(a.site, a.unit)}) while it is already ${state(h.mode)} here (line ${lineOf(h.site, h.unit)}): ${why(h.mode, a.mode, key)}${chain}`,
              [relatedAt(a.site, a.unit, `${a.unit.label} ${a.mode === 'w' ? 'locks' : 'read-locks'} it again here`)]);
            return;
          }
        }
      });
    }
  },
};
