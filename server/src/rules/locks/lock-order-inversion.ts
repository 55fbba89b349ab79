// lock-order-inversion: two mutexes taken in opposite orders in two places of a package, directly
// or through calls at any depth. Two goroutines running them can each hold one mutex and wait for
// the other (ABBA deadlock).
import type { Node } from 'web-tree-sitter';
import { CallGraphFact } from '../../engine/analysis/callgraph';
import type { FuncUnit } from '../../engine/analysis/functions';
import { isAcquire, lockCallOf, modeOf, type LockKey, type LockMode } from '../../engine/analysis/lock-keys';
import { LockStateFact, type Held } from '../../engine/analysis/lock-state';
import { contradict, PathGuardsFact } from '../../engine/analysis/path-guards';
import type { Rule } from '../../engine/rule';
import { relatedAt, where, writeLocker } from './helpers';

/** `inner` is locked (directly, or by the callee of `inner`) while `outer` is held. */
interface Edge {
  from: string;
  to: string;
  outer: Held;
  toKey: LockKey;
  /** The Lock call, or the call of a function that locks `to`. */
  inner: Node;
  innerMode: LockMode;
  /** For a call: the Lock in the callee and the callee's unit. */
  via?: { lock: Node; unit: FuncUnit };
  unit: FuncUnit;
  /** Every lock held at `inner`, callers' included: a common one serialises the two sites. */
  gate: Set<string>;
}

/** How edges compare locks: a struct embedding its mutex by the field holding it (`Conn.in`), else the mutex (`T.mu`). */
function orderId(k: LockKey): string | undefined {
  return k.holder?.id ?? k.shared?.id;
}

function lockLabel(k: LockKey): string {
  const s = k.holder ?? k.shared;
  return s ? (s.scope === 'struct' ? `${s.struct}.${s.name}` : s.name) : k.text;
}

export const lockOrderInversion: Rule = {
  id: 'lock-order-inversion',
  title: 'Two mutexes locked in opposite orders',
  doc: 'One function locks mutex A and then B while another locks B and then A. Two goroutines running them can each hold one mutex and wait for the other forever. Pick one order for every place that takes both.',
  severity: 'warning',
  scope: 'package',
  requires: [LockStateFact, CallGraphFact, PathGuardsFact],
  run(pass) {
    const locks = pass.get(LockStateFact);
    const calls = pass.get(CallGraphFact);
    const writeLocked = writeLocker(locks);
    const edges = new Map<string, Edge[]>();
    const add = (e: Edge) => {
      const k = `${e.from}\u0000${e.to}`;
      const list = edges.get(k);
      if (list) list.push(e); else edges.set(k, [e]);
    };
    const gateAt = (u: FuncUnit, at: number, held: Iterable<Held>) => {
      const out = new Set<string>();
      for (const h of [...held, ...locks.heldAt(u, at, true).locks.values()]) {
        for (const id of [orderId(h.key), h.key.shared?.id]) if (id) out.add(id);
      }
      return out;
    };

    for (const u of locks.lockingUnits()) {
      locks.walk(u, (op, _node, before) => {
        if (op.kind !== 'call' || op.role || !before.must.size) return;
        const held = [...before.must.values()];
        const lc = lockCallOf(op.syntax);
        if (lc) {
          if (!isAcquire(lc.method)) return;
          const key = locks.keyOfLockCall(op.syntax, u);
          const to = key && orderId(key);
          if (!key || !to) return;
          const outers = held.filter((h) => h.key.id !== key.id && orderId(h.key) && orderId(h.key) !== to);
          if (!outers.length) return;
          const gate = gateAt(u, op.start, held);
          for (const h of outers) add({ from: orderId(h.key)!, to, outer: h, toKey: key, inner: op.syntax, innerMode: modeOf(lc.method, key), unit: u, gate });
          return;
        }
        let gate: Set<string> | undefined;
        for (const e of calls.edgesOf(op.syntax, u)) {
          if (e.how === 'callback' && !e.certain) continue;
          for (const a of locks.acquiresThrough(e)) {
            const key = a.key;
            const to = orderId(key);
            if (!to || before.must.has(key.id)) continue;
            for (const h of held) {
              const from = orderId(h.key);
              // The caller's locks the chain releases before taking this one are not held with it.
              if (!from || from === to || a.releasedBefore.has(h.key.id)) continue;
              gate ??= gateAt(u, op.start, held);
              add({ from, to, outer: h, toKey: key, inner: op.syntax, innerMode: a.mode, via: { lock: a.site, unit: a.unit }, unit: u, gate });
            }
          }
        }
      });
    }

    // C7: the two orders never run in one configuration, or one runs only inside the other's call
    // (the same goroutine: double-lock's finding, not an inversion between two).
    const guards = pass.get(PathGuardsFact);
    const waysIn = (x: Edge, other: Edge) => guards.contexts(x.inner, x.unit).filter((c) => !c.via.has(other.inner.id));
    const exclusive = (e: Edge, f: Edge) => {
      const ce = waysIn(e, f), cf = waysIn(f, e);
      return !ce.length || !cf.length || ce.every((x) => cf.every((y) => contradict(x.guards, y.guards)));
    };

    const reported = new Set<number>();
    const describe = (e: Edge) => e.via
      ? `${e.inner.childForFieldName('function')?.text.replace(/\s+/g, '')}() locks ${lockLabel(e.toKey)} (in ${e.via.unit.label} at ${where(e.via.lock, e.via.unit)})`
      : `${lockLabel(e.toKey)} is locked`;
    for (const [k, list] of edges) {
      const [a, b] = k.split('\u0000');
      if (a > b) continue;
      const back = edges.get(`${b}\u0000${a}`);
      if (!back) continue;
      for (const e of list) {
        for (const f of back) {
          if (e.inner.id === f.inner.id) continue;
          // A third mutex held at both sites serialises them: they cannot interleave.
          if ([...e.gate].some((g) => g !== a && g !== b && f.gate.has(g))) continue;
          // Readers do not exclude readers: both sides must block on each mutex.
          if (e.outer.mode === 'r' && f.innerMode === 'r' && !writeLocked(e.outer.key, e.unit)) continue;
          if (e.innerMode === 'r' && f.outer.mode === 'r' && !writeLocked(f.outer.key, f.unit)) continue;
          if (exclusive(e, f)) continue;
          for (const [x, y] of [[e, f], [f, e]] as const) {
            if (reported.has(x.inner.id)) continue;
            reported.add(x.inner.id);
            const [first, second] = [lockLabel(x.outer.key), lockLabel(x.toKey)];
            pass.report({
              file: x.unit.file,
              node: x.inner,
              message: `${describe(x)} while ${first} is held (line ${x.outer.unit.file.positionAt(x.outer.site.startIndex).line + 1}), but ${y.unit.label} takes them in the opposite order (${where(y.inner, y.unit)}): two goroutines can each hold one and wait for the other forever`,
              related: [
                relatedAt(x.outer.site, x.outer.unit, `${first} locked here first`),
                relatedAt(y.inner, y.unit, `${y.unit.label} locks ${first} while holding ${second}`),
                relatedAt(y.outer.site, y.outer.unit, `${second} locked first here`),
                ...(x.via ? [relatedAt(x.via.lock, x.via.unit, `${lockLabel(x.toKey)} locked here`)] : []),
              ],
            });
          }
        }
      }
    }
  },
};
