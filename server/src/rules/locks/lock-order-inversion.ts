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
import { deferredRuns, deferringUnits, relatedAt, where, writeLocker } from './helpers';

/** `inner` is locked (directly, or by the callee of `inner`) while `outer` is held. */
interface Edge {
  from: string;
  to: string;
  outer: Held;
  toKey: LockKey;
  /** The Lock call, or the call of a function that locks `to`. */
  inner: Node;
  innerMode: LockMode;
  /** For a call: the Lock in the callee, the callee's unit, and the calls leading there (outermost first). */
  via?: { lock: Node; unit: FuncUnit; chain: Node[] };
  unit: FuncUnit;
  /** Every lock held at `inner`, callers' included: a common one serialises the two sites. */
  gate: Set<string>;
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
    /**
     * How edges compare locks: a struct embedding its mutex by the field holding it (`Conn.in`), else
     * the mutex (`T.mu`; for a package variable's field, by the variable's type where a call chain
     * named it); a mutex in a map or slice by the field holding it (`T.locks[]`).
     */
    const orderId = (k: LockKey, u: FuncUnit): string | undefined => k.holder?.id ?? k.shared?.id ?? ofPackageVar(k, u)?.id ?? elementOf(k, u);
    const ofPackageVar = (k: LockKey, u: FuncUnit) => (k.root.kind === 'pkgvar' ? locks.keys.byType(k, u) : undefined);
    const elementOf = (k: LockKey, u: FuncUnit) => {
      if (k.path[k.path.length - 1] !== '[]') return undefined;
      const container = locks.keys.byType({ ...k, path: k.path.slice(0, -1) }, u);
      return container?.scope === 'struct' ? `${container.id}[]` : undefined;
    };
    const lockLabel = (k: LockKey, u: FuncUnit): string => {
      const s = k.holder ?? k.shared ?? ofPackageVar(k, u);
      const element = s ? undefined : elementOf(k, u);
      return s ? (s.scope === 'struct' ? `${s.struct}.${s.name}` : s.name) : element ? `an element of ${element.slice(0, -2)}` : k.text;
    };
    const edges = new Map<string, Edge[]>();
    const add = (e: Edge) => {
      const k = `${e.from}\u0000${e.to}`;
      const list = edges.get(k);
      if (list) list.push(e); else edges.set(k, [e]);
    };
    const gateAt = (u: FuncUnit, at: number, held: Iterable<Held>) => {
      const out = new Set<string>();
      for (const h of [...held, ...locks.heldAt(u, at, true).locks.values()]) {
        for (const id of [orderId(h.key, u), h.key.shared?.id]) if (id) out.add(id);
      }
      return out;
    };

    /** The edges of a call made while `must` is held: its own lock, or every lock the functions it runs take. */
    const onCall = (u: FuncUnit, call: Node, must: ReadonlyMap<string, Held>) => {
      const held = [...must.values()];
      const lc = lockCallOf(call);
      if (lc) {
        if (!isAcquire(lc.method)) return;
        const key = locks.keyOfLockCall(call, u);
        const to = key && orderId(key, u);
        if (!key || !to) return;
        const outers = held.filter((h) => h.key.id !== key.id && orderId(h.key, u) && orderId(h.key, u) !== to);
        if (!outers.length) return;
        const gate = gateAt(u, call.startIndex, held);
        for (const h of outers) add({ from: orderId(h.key, u)!, to, outer: h, toKey: key, inner: call, innerMode: modeOf(lc.method, key), unit: u, gate });
        return;
      }
      let gate: Set<string> | undefined;
      for (const e of calls.edgesOf(call, u)) {
        if (e.how === 'callback' && !e.certain) continue;
        for (const a of locks.acquiresThrough(e)) {
          const key = a.key;
          const to = orderId(key, u);
          if (!to || must.has(key.id)) continue;
          for (const h of held) {
            const from = orderId(h.key, u);
            // The caller's locks the chain releases before taking this one are not held with it.
            if (!from || from === to || a.releasedBefore.has(h.key.id)) continue;
            gate ??= gateAt(u, call.startIndex, held);
            add({ from, to, outer: h, toKey: key, inner: call, innerMode: a.mode, via: { lock: a.site, unit: a.unit, chain: a.via }, unit: u, gate });
          }
        }
      }
    };
    for (const u of locks.lockingUnits()) {
      locks.walk(u, (op, _node, before) => {
        if (op.kind === 'call' && !op.role && before.must.size) onCall(u, op.syntax, before.must);
      });
    }
    // Deferred calls run at the exit, under the locks still held there.
    for (const u of deferringUnits(locks)) for (const d of deferredRuns(locks, calls, u)) onCall(u, d.call, d.held);

    // C7: the two orders never run in one configuration, or one runs only inside the other's call
    // (the same goroutine: double-lock's finding, not an inversion between two).
    const guards = pass.get(PathGuardsFact);
    const waysIn = (x: Edge, other: Edge) => guards.contexts(x.inner, x.unit).filter((c) => !c.via.has(other.inner.id));
    const exclusive = (e: Edge, f: Edge) => {
      const ce = waysIn(e, f), cf = waysIn(f, e);
      return !ce.length || !cf.length || ce.every((x) => cf.every((y) => contradict(x.guards, y.guards)));
    };

    const reported = new Set<number>();
    const callName = (c: Node) => {
      const fn = c.childForFieldName('function');
      return fn?.type === 'func_literal' ? 'function literal' : `${fn?.text.replace(/\s+/g, '') ?? '?'}()`;
    };
    const describe = (e: Edge) => {
      if (!e.via) return `${lockLabel(e.toKey, e.unit)} is locked`;
      const call = callName(e.inner);
      const deferred = e.inner.parent?.type === 'defer_statement';
      const chain = e.via.chain.length > 1 ? `, through ${e.via.chain.slice(1).map(callName).join(' → ')}` : '';
      return `${deferred ? `the deferred ${call}, run at the exit,` : call} locks ${lockLabel(e.toKey, e.unit)} (in ${e.via.unit.label} at ${where(e.via.lock, e.via.unit)}${chain})`;
    };
    for (const [k, list] of edges) {
      const [a, b] = k.split('\u0000');
      if (a > b) continue;
      const back = edges.get(`${b}\u0000${a}`);
      if (!back) continue;
      for (const e of list) {
        for (const f of back) {
          if (e.inner.id === f.inner.id) continue;
          // A test against production code: only where both lock directly. A test poking at internals
          // through calls rarely runs them while production code holds the other lock.
          if (e.unit.file.isTest !== f.unit.file.isTest && (e.via || f.via)) continue;
          // A third mutex held at both sites serialises them: they cannot interleave.
          if ([...e.gate].some((g) => g !== a && g !== b && f.gate.has(g))) continue;
          // Readers do not exclude readers: both sides must block on each mutex.
          if (e.outer.mode === 'r' && f.innerMode === 'r' && !writeLocked(e.outer.key, e.unit)) continue;
          if (e.innerMode === 'r' && f.outer.mode === 'r' && !writeLocked(f.outer.key, f.unit)) continue;
          if (exclusive(e, f)) continue;
          for (const [x, y] of [[e, f], [f, e]] as const) {
            if (reported.has(x.inner.id)) continue;
            reported.add(x.inner.id);
            const [first, second] = [lockLabel(x.outer.key, x.unit), lockLabel(x.toKey, x.unit)];
            pass.report({
              file: x.unit.file,
              node: x.inner,
              message: `${describe(x)} while ${first} is held (line ${x.outer.unit.file.positionAt(x.outer.site.startIndex).line + 1}), but ${y.unit.label} takes them in the opposite order (${where(y.inner, y.unit)}): two goroutines can each hold one and wait for the other forever`,
              related: [
                relatedAt(x.outer.site, x.outer.unit, `${first} locked here first`),
                relatedAt(y.inner, y.unit, `${y.unit.label} locks ${first} while holding ${second}`),
                relatedAt(y.outer.site, y.outer.unit, `${second} locked first here`),
                ...(x.via ? [relatedAt(x.via.lock, x.via.unit, `${lockLabel(x.toKey, x.unit)} locked here`)] : []),
              ],
            });
          }
        }
      }
    }
  },
};
