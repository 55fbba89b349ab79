// lock-order-inversion: two mutexes taken in opposite orders in two places of a package. Two
// goroutines running them can each hold one mutex and wait for the other (ABBA deadlock).
import type { Node } from 'web-tree-sitter';
import { lockName } from '../engine/concurrency/describe';
import { ANY_LOCK, storageKey, type HeldLock, type LockAnalysis } from '../engine/concurrency/locks';
import type { FuncUnit, Units } from '../engine/concurrency/units';
import type { Package } from '../engine/package';
import type { Rule } from '../engine/rule';
import { lockModel, relatedAt, spawnedOrDeferred, unitName, where, writeLockedKeys } from '../engine/concurrency/lock-model';

/** `inner` is locked (directly, or by the callee of `inner`) while `outer` is held. */
interface Edge {
  from: string;
  to: string;
  /** mutexKey of from/to: `field:halfConn.Mutex` for both `c.in` and `c.out`. */
  coarse: [string, string];
  outer: HeldLock;
  /** The Lock call, or the call of a function that locks `to`. */
  inner: Node;
  innerMode: 'r' | 'w';
  /** For a call: the Lock in the callee and the callee's unit. */
  via?: { lock: Node; unit: FuncUnit };
  unit: FuncUnit;
  /** Every lock key held at `inner`, callers' included: a common one serialises the two sites. */
  gate: Set<string>;
}

/**
 * The key edges use: mutexKey, except that a struct embedding its mutex is told apart by the field
 * holding it (`c.in.Lock()` → `field:Conn.in`, `c.out.Lock()` → `field:Conn.out`), where mutexKey
 * names the type's mutex for every instance (`field:halfConn.Mutex`).
 */
function orderKey(mutex: Node, key: string, unit: FuncUnit, pkg: Package, units: Units): string {
  if (mutex.type !== 'selector_expression' || key.endsWith(`.${mutex.childForFieldName('field')?.text}`)) return key;
  return storageKey(mutex, unit.file, pkg, units) ?? key;
}

interface Taken { lock: Node; mode: 'r' | 'w'; unit: FuncUnit; key: string }

/** First Lock/RLock of each key a function takes (callees one level down included). */
function takenBy(unit: FuncUnit, pkg: Package, units: Units, locks: LockAnalysis, depth: number, seen: Set<string>): Map<string, Taken> {
  const out = new Map<string, Taken>();
  if (depth > 1 || seen.has(unit.id) || !unit.body || unit.node.type === 'func_literal') return out;
  seen.add(unit.id);
  const first = new Map<string, string>();
  for (const op of locks.ownLockOps(unit)) {
    if (!first.has(op.key)) first.set(op.key, op.method);
    // A function whose first operation on a mutex is Unlock expects its caller to hold it.
    const m = first.get(op.key);
    if (op.deferred || (m !== 'Lock' && m !== 'RLock') || (op.method !== 'Lock' && op.method !== 'RLock') || out.has(op.key)) continue;
    out.set(op.key, { lock: op.call, mode: op.method === 'Lock' ? 'w' : 'r', unit, key: orderKey(op.mutex, op.key, unit, pkg, units) });
  }
  for (const c of units.callsOf(unit)) {
    if (units.enclosing(c.call)?.id !== unit.id || spawnedOrDeferred(c.call)) continue;
    for (const [k, v] of takenBy(c.callee, pkg, units, locks, depth + 1, seen)) if (!first.has(k) && !out.has(k)) out.set(k, v);
  }
  return out;
}

export const lockOrderInversion: Rule = {
  id: 'lock-order-inversion',
  title: 'Two mutexes locked in opposite orders',
  doc: 'One function locks mutex A and then B while another locks B and then A. Two goroutines running them can each hold one mutex and wait for the other forever. Pick one order for every place that takes both.',
  severity: 'warning',
  scope: 'package',
  run(pass) {
    const pkg = pass.pkg;
    const model = lockModel(pkg);
    if (!model) return;
    const { units, locks } = model;
    const writeLocked = writeLockedKeys(model);
    const edges = new Map<string, Edge[]>();
    const add = (e: Edge) => {
      const k = `${e.from}\u0000${e.to}`;
      const list = edges.get(k);
      if (list) list.push(e); else edges.set(k, [e]);
    };
    const gateAt = (node: Node, u: FuncUnit, held: HeldLock[]) => new Set([...locks.heldKeysAt(node, u).keys(), ...held.flatMap((h) => [h.key, orderKey(h.mutex, h.key, u, pkg, units)])]);

    for (const u of units.all) {
      const ops = locks.ownLockOps(u);
      if (!ops.some((o) => (o.method === 'Lock' || o.method === 'RLock') && o.statement)) continue;
      for (const op of ops) {
        if (!op.statement || (op.method !== 'Lock' && op.method !== 'RLock')) continue;
        const held = locks.heldLocksAt(op.call, u).filter((h) => h.key !== op.key);
        if (!held.length) continue;
        const gate = gateAt(op.call, u, held);
        const to = orderKey(op.mutex, op.key, u, pkg, units);
        for (const h of held) {
          add({ from: orderKey(h.mutex, h.key, u, pkg, units), to, coarse: [h.key, op.key], outer: h, inner: op.call, innerMode: op.method === 'Lock' ? 'w' : 'r', unit: u, gate });
        }
      }
      for (const c of units.callsOf(u)) {
        if (units.enclosing(c.call)?.id !== u.id || spawnedOrDeferred(c.call) || c.callee.node.type === 'func_literal') continue;
        const held = locks.heldLocksAt(c.call, u);
        if (!held.length) continue;
        const taken = takenBy(c.callee, pkg, units, locks, 0, new Set());
        if (!taken.size) continue;
        let gate: Set<string> | undefined;
        for (const h of held) {
          for (const [k, t] of taken) {
            if (k === h.key || held.some((x) => x.key === k)) continue;
            gate ??= gateAt(c.call, u, held);
            add({ from: orderKey(h.mutex, h.key, u, pkg, units), to: t.key, coarse: [h.key, k], outer: h, inner: c.call, innerMode: t.mode, via: { lock: t.lock, unit: t.unit }, unit: u, gate });
          }
        }
      }
    }

    const reported = new Set<number>();
    const describe = (e: Edge) => e.via
      ? `${e.inner.childForFieldName('function')?.text.replace(/\s+/g, '')}() locks ${lockName(e.to)} (in ${unitName(e.via.unit)} at ${where(e.via.lock, e.via.unit)})`
      : `${lockName(e.to)} is locked`;
    for (const [k, list] of edges) {
      const [a, b] = k.split('\u0000');
      if (a === ANY_LOCK || b === ANY_LOCK || a > b) continue;
      const back = edges.get(`${b}\u0000${a}`);
      if (!back) continue;
      for (const e of list) {
        for (const f of back) {
          if (e.inner.id === f.inner.id) continue;
          // A third mutex held at both sites serialises them: they cannot interleave.
          if ([...e.gate].some((g) => g !== a && g !== b && !e.coarse.includes(g) && f.gate.has(g))) continue;
          // Readers do not exclude readers: both sides must block on each mutex.
          if (e.outer.mode === 'r' && f.innerMode === 'r' && !writeLocked(a, e.unit)) continue;
          if (e.innerMode === 'r' && f.outer.mode === 'r' && !writeLocked(b, f.unit)) continue;
          for (const [x, y] of [[e, f], [f, e]] as const) {
            if (reported.has(x.inner.id)) continue;
            reported.add(x.inner.id);
            const [first, second] = [lockName(x.from), lockName(x.to)];
            pass.report({
              file: x.unit.file,
              node: x.inner,
              message: `${describe(x)} while ${first} is held (line ${x.unit.file.positionAt(x.outer.call.startIndex).line + 1}), but ${unitName(y.unit)} takes them in the opposite order (${where(y.inner, y.unit)}): two goroutines can each hold one and wait for the other forever`,
              related: [
                relatedAt(x.outer.call, x.unit, `${first} locked here first`),
                relatedAt(y.inner, y.unit, `${unitName(y.unit)} locks ${first} while holding ${second}`),
                relatedAt(y.outer.call, y.unit, `${second} locked first here`),
                ...(x.via ? [relatedAt(x.via.lock, x.via.unit, `${lockName(x.to)} locked here`)] : []),
              ],
            });
          }
        }
      }
    }
  },
};
