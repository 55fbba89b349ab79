// What the lock rules share: positions and related locations for messages, whether a lock call is
// on a real sync mutex, and which mutexes some goroutine write-locks (a waiting writer blocks readers).
import type { Node } from 'web-tree-sitter';
import type { FuncUnit } from '../../engine/analysis/functions';
import { isAcquire, lockCallOf, type LockKey } from '../../engine/analysis/lock-keys';
import type { CallGraph } from '../../engine/analysis/callgraph';
import type { Held, LockState } from '../../engine/analysis/lock-state';
import type { Package } from '../../engine/package';
import type { RelatedLocation } from '../../engine/rule';
import { packageTypes, typeOfExpr } from '../../engine/types';

/** `file.go:12`, for messages. */
export function where(node: Node, unit: FuncUnit): string {
  return `${unit.file.path.replace(/^.*[\\/]/, '')}:${lineOf(node, unit)}`;
}

export function lineOf(node: Node, unit: FuncUnit): number {
  return unit.file.positionAt(node.startIndex).line + 1;
}

export function relatedAt(node: Node, unit: FuncUnit, message: string): RelatedLocation {
  return { path: unit.file.path, start: node.startIndex, end: node.endIndex, message };
}

/**
 * Whether `x.Lock()` is a sync mutex: a Mutex or RWMutex, a pointer to one, or a struct of the
 * package embedding one. An interface (sync.Locker, an RLocker) or another type with a Lock method
 * may be anything, reentrant included. Unknown types count: their expression text still matches.
 */
export function isSyncMutex(x: Node, unit: FuncUnit, pkg: Package): boolean {
  const t = typeOfExpr(x, unit.file, pkg);
  if (!t) return true;
  const base = t.kind === 'pointer' ? t.elem : t;
  if (!base) return false;
  if (base.kind === 'mutex' || base.kind === 'rwmutex') return true;
  if (base.fields) return [...base.fields.values()].some((f) => f.embedded && (f.type.kind === 'mutex' || f.type.kind === 'rwmutex'));
  const fields = base.name ? packageTypes(pkg).structs.get(base.name) : undefined;
  return !!fields && [...fields.values()].some((f) => f.embedded && (f.type.kind === 'mutex' || f.type.kind === 'rwmutex'));
}

/**
 * Whether some code of the package write-locks `key` where another goroutine could be waiting: a
 * pending writer blocks new readers, so a second RLock then deadlocks. A local mutex counts only
 * when a unit other than `unit` write-locks it (a goroutine can share it).
 */
export function writeLocker(locks: LockState): (key: LockKey, unit: FuncUnit) => boolean {
  let writers: Map<string, Set<FuncUnit>> | undefined;
  return (key, unit) => {
    if (!writers) {
      writers = new Map();
      for (const u of locks.lockingUnits()) {
        locks.walk(u, (op) => {
          const lc = op.kind === 'call' && !op.role ? lockCallOf(op.syntax) : undefined;
          if (!lc || !isAcquire(lc.method) || lc.method !== 'Lock') return;
          const key = locks.keyOfLockCall(op.syntax, u);
          if (key?.readLocker) return; // Lock through an RLocker reads
          const id = key?.shared?.id;
          if (!id) return;
          const set = writers!.get(id);
          if (set) set.add(u); else writers!.set(id, new Set([u]));
        });
      }
    }
    const set = key.shared && writers.get(key.shared.id);
    return !!set && (key.root.kind !== 'local' || [...set].some((u) => u !== unit));
  };
}

/** The lock instance a held lock and an acquired one name: the same mutex in the same frame. */
export function sameInstance(a: LockKey, b: LockKey): boolean {
  return a.id === b.id && !a.inexact && !b.inexact;
}

/** The root variable of a lock key was assigned between two offsets of a unit: maybe another object. */
export function rebound(key: LockKey, unit: FuncUnit, from: number, to: number): boolean {
  if (key.root.kind === 'recv' || key.root.kind === 'pkgvar') return false;
  const name = key.text.split('.')[0].replace(/[$]/g, '\\$');
  const between = unit.file.text.slice(from, to);
  return new RegExp(`(?<![\\w$.])${name}\\s*(?:,[^=;\\n]*)?(?::=|=(?!=))|,\\s*${name}\\s*(?::=|=(?!=))|&${name}(?![\\w$])`).test(between);
}

export { lockCallOf };

/** Units that may defer a call while holding a lock at their exit: those with a `defer` in their own text. */
export function deferringUnits(locks: LockState): FuncUnit[] {
  return locks.fns.all.filter((u) => u.body && /\bdefer\b/.test(u.file.textOf(u.body)));
}

/**
 * The calls `u` defers (lock calls apart), each with the locks held when it runs at the normal exit:
 * those held at the exit, less those a deferred unlock registered after it releases first (deferred
 * calls run last-in, first-out). `mu.Lock(); defer mu.Unlock(); defer s.flush()` runs flush under mu.
 */
export function deferredRuns(locks: LockState, calls: CallGraph, u: FuncUnit): { call: Node; held: Map<string, Held> }[] {
  if (!u.body || !/\bdefer\b/.test(u.file.textOf(u.body))) return [];
  const exit = locks.atExit(u);
  if (!exit?.held.size) return [];
  const deferred: { call: Node; at: number; releases: string[] }[] = [];
  locks.walk(u, (op) => {
    if (op.kind !== 'call' || op.role !== 'defer') return;
    const lc = lockCallOf(op.syntax);
    if (lc) {
      const key = !isAcquire(lc.method) ? locks.keyOfLockCall(op.syntax, u) : undefined;
      deferred.push({ call: op.syntax, at: op.start, releases: key ? [key.id] : [] });
      return;
    }
    const releases: string[] = [];
    for (const e of calls.edgesOf(op.syntax, u)) {
      for (const r of locks.effect(e.callee).releases.values()) {
        const k = locks.keys.toCaller(r.key, e);
        if (k) releases.push(k.id);
      }
    }
    deferred.push({ call: op.syntax, at: op.start, releases });
  });
  return deferred.filter((d) => !lockCallOf(d.call)).map((d) => {
    const held = new Map(exit.held);
    for (const later of deferred) if (later.at > d.at) for (const id of later.releases) held.delete(id);
    return { call: d.call, held };
  }).filter((d) => d.held.size);
}
