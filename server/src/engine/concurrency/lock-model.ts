// What the lock rules (double-lock, lock-order-inversion, blocking-under-lock) share: the package's
// units and lock analysis, and small helpers for their messages.
import type { Node } from 'web-tree-sitter';
import type { Package } from '../package';
import type { RelatedLocation } from '../rule';
import { LockAnalysis } from './locks';
import { sharedState } from './model';
import { Units, type FuncUnit } from './units';

export interface LockModel { units: Units; locks: LockAnalysis }

const ownModels = new WeakMap<Package, LockModel>();

/**
 * The package's function units and lock analysis, shared with the shared-state rules. The model
 * skips packages with no goroutine, handler or RLock; locks still deadlock there, so build one.
 * Undefined when the package takes no lock at all.
 */
export function lockModel(pkg: Package): LockModel | undefined {
  if (!pkg.files.some((f) => /\.R?Lock\(\)/.test(f.text))) return undefined; // nothing locks here
  const m = sharedState(pkg);
  if (m.units.all.length) return m;
  let own = ownModels.get(pkg);
  if (!own) {
    const units = new Units(pkg);
    units.addApiRoots(units.typesThatLock());
    ownModels.set(pkg, (own = { units, locks: new LockAnalysis(pkg, units) }));
  }
  return own;
}

/** `go f()`, `defer f()`: the call runs in another goroutine or at the function's exit. */
export function spawnedOrDeferred(call: Node): boolean {
  const p = call.parent;
  return p?.type === 'go_statement' || p?.type === 'defer_statement';
}

/** `file.go:12`, for messages. */
export function where(node: Node, unit: FuncUnit): string {
  return `${unit.file.path.replace(/^.*[\\/]/, '')}:${unit.file.positionAt(node.startIndex).line + 1}`;
}

export function lineOf(node: Node, unit: FuncUnit): number {
  return unit.file.positionAt(node.startIndex).line + 1;
}

export function unitName(u: FuncUnit): string {
  let top = u;
  while (top.parent) top = top.parent;
  const name = top.name ? (top.recvType ? `${top.recvType}.${top.name}` : top.name) : 'a function';
  return u.parent ? `a function literal in ${name}` : name;
}

export function relatedAt(node: Node, unit: FuncUnit, message: string): RelatedLocation {
  return { path: unit.file.path, start: node.startIndex, end: node.endIndex, message };
}

/**
 * Whether some code of the package write-locks `key` where another goroutine could be waiting: a
 * pending writer blocks new readers, so a second RLock then deadlocks. A local mutex counts only
 * when a function literal other than `unit` write-locks it (a goroutine can share it).
 */
export function writeLockedKeys({ units, locks }: LockModel): (key: string, unit: FuncUnit) => boolean {
  let check = writeLockedByModel.get(units);
  if (check) return check;
  let writers: Map<string, Set<string>> | undefined;
  check = (key, unit) => {
    if (!writers) {
      writers = new Map();
      for (const u of units.all) {
        if (u.parent) continue;
        for (const c of locks.lockCalls(u)) {
          if (c.method !== 'Lock') continue;
          const id = units.enclosing(c.call)?.id ?? u.id;
          const set = writers.get(c.key);
          if (set) set.add(id); else writers.set(c.key, new Set([id]));
        }
      }
    }
    const set = writers.get(key);
    return !!set && (!key.startsWith('local:') || [...set].some((id) => id !== unit.id));
  };
  writeLockedByModel.set(units, check);
  return check;
}

/** One write-lock index per package model, shared by the lock rules that ask. */
const writeLockedByModel = new WeakMap<Units, (key: string, unit: FuncUnit) => boolean>();
