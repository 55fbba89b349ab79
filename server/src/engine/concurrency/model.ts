// The shared-state model of a package (syntactic lockset analysis): every access to shared state,
// with the locks held and the concurrent contexts it runs in. Built once per package and shared
// by all rules of the family.
import type { Package } from '../package';
import { typeOfExpr } from '../types';
import { collectSharedVars, type RawAccess, type SharedVar } from './accesses';
import { ANY_LOCK, excludes, LockAnalysis, type LockSet } from './locks';
import { Units, type ConcurrentRoot, type FuncUnit } from './units';

export type AccessContext =
  | { kind: 'concurrent'; roots: ReadonlySet<ConcurrentRoot> }
  /** In the function that started goroutines, after the `go` and before any Wait/receive. */
  | { kind: 'post'; spawned: ConcurrentRoot[] }
  /** Before any goroutine starts, in init, or in code no concurrent context reaches. */
  | { kind: 'seq' };

export interface Access extends RawAccess {
  v: SharedVar;
  locks: LockSet;
  ctx: AccessContext;
}

export interface Conflict { write: Access; other: Access }

/** Text without any of these cannot start concurrent work or take a read lock: skip the model. */
const CONCURRENCY_HINT = /\bgo\s+[\w(]|ResponseWriter|\.(?:HandleFunc|Handle|Go|AfterFunc)\s*\(|\.RLock\(\)/;

/**
 * The Go runtime implements goroutines and locks: it synchronises by stopping the world, running
 * on the system stack and disabling preemption, none of which a lockset model can see.
 */
function isGoRuntime(pkg: Package): boolean {
  return pkg.name === 'runtime' && /[\\/]runtime$/.test(pkg.dir);
}

/** A barrier after which the spawner has waited for its goroutines (text between two offsets). */
const BARRIER = /\.Wait\(\)|(?:^|[=(,:]|\bcase|\breturn)[ \t]*<-|\brange\s+\w+\s*\{/m;

export class SharedStateModel {
  readonly units: Units;
  readonly locks: LockAnalysis;
  readonly vars: SharedVar[] = [];
  readonly accesses = new Map<string, Access[]>();

  constructor(readonly pkg: Package) {
    this.units = new Units(pkg, isGoRuntime(pkg) || !pkg.files.some((f) => CONCURRENCY_HINT.test(f.text)));
    this.units.addApiRoots(this.units.typesThatLock());
    this.locks = new LockAnalysis(pkg, this.units);
    // Exported methods alone never race with each other (see mayRunConcurrently); a read lock,
    // though, says readers run concurrently, so writes under it matter without any goroutine.
    const racy = this.units.roots.some((r) => r.kind !== 'api');
    const readLocks = pkg.files.some((f) => f.text.includes('.RLock()'));
    if (!racy && !readLocks) return;
    // Without read locks a variable matters only if some access can run concurrently.
    for (const v of collectSharedVars(pkg, this.units, readLocks ? undefined : (u) => this.mayRunInConcurrentContext(u))) {
      if (!v.accesses.some((a) => a.write)) continue;
      const contexts = v.accesses.map((a) => this.context(a));
      const concurrent = racy && contexts.some((c) => c.kind !== 'seq');
      if (!concurrent && !readLocks) continue;
      const list = v.accesses.map((a, i) => ({ ...a, v, ctx: contexts[i], locks: a.unit ? this.locks.locksAt(a.expr, a.unit) : new Map() }));
      if (!concurrent && !list.some((a) => a.write && isReadLocked(a.locks))) continue;
      this.vars.push(v);
      this.accesses.set(v.key, list);
    }
  }

  private context(a: RawAccess): AccessContext {
    if (!a.unit) return { kind: 'seq' };
    if (isInit(a.unit) || this.inOnceDo(a.unit)) return { kind: 'seq' };
    const roots = a.viaReceiver ? this.sameInstanceRoots(a.unit) : this.units.reach.get(a.unit.id);
    if (roots?.size) return { kind: 'concurrent', roots };
    const spawned = (this.spawnedIn().get(a.unit.id) ?? []).filter((r) => r.site!.endIndex <= a.expr.startIndex
      && !BARRIER.test(a.file.text.slice(r.site!.endIndex, a.expr.startIndex)));
    return spawned.length ? { kind: 'post', spawned } : { kind: 'seq' };
  }

  private readonly sameInstance = new Map<string, Set<ConcurrentRoot> | undefined>();

  /**
   * Roots reaching `unit` through calls on one receiver. A receiver is the same instance only for
   * roots that run on that type (its methods, or goroutines they start).
   */
  private sameInstanceRoots(unit: FuncUnit): Set<ConcurrentRoot> | undefined {
    if (this.sameInstance.has(unit.id)) return this.sameInstance.get(unit.id);
    let roots = this.units.reachSameReceiver.get(unit.id);
    if (roots?.size) {
      const type = outermost(unit).recvType;
      roots = new Set([...roots].filter((r) => outermost(r.unit).recvType === type || (r.spawner && outermost(r.spawner).recvType === type)));
    }
    this.sameInstance.set(unit.id, roots);
    return roots;
  }

  private spawnedByUnit?: Map<string, ConcurrentRoot[]>;

  /** Goroutines and callbacks (not api roots) by the id of the unit that starts them, in root order. */
  private spawnedIn(): Map<string, ConcurrentRoot[]> {
    if (this.spawnedByUnit) return this.spawnedByUnit;
    const out = new Map<string, ConcurrentRoot[]>();
    for (const r of this.units.roots) {
      if (!r.spawner || !r.site || r.kind === 'api') continue;
      const list = out.get(r.spawner.id);
      if (list) list.push(r); else out.set(r.spawner.id, [r]);
    }
    return (this.spawnedByUnit = out);
  }

  /** False when no access in `unit` can have a context other than 'seq' (see context()). */
  private mayRunInConcurrentContext(unit: FuncUnit | undefined): boolean {
    if (!unit || isInit(unit)) return false;
    // reachSameReceiver is a subset of reach: the same walk along fewer calls.
    if (this.units.reach.get(unit.id)?.size) return true;
    return this.spawnedIn().has(unit.id);
  }

  private readonly onceDo = new Map<string, boolean>();

  /** A literal passed to once.Do runs once, and Do orders it before every later Do returns. */
  private inOnceDo(u: FuncUnit): boolean {
    let found = this.onceDo.get(u.id);
    if (found === undefined) this.onceDo.set(u.id, (found = this.computeInOnceDo(u)));
    return found;
  }

  private computeInOnceDo(u: FuncUnit): boolean {
    for (let lit: FuncUnit | undefined = u; lit?.parent; lit = lit.parent) {
      const args = lit.node.parent;
      const call = args?.type === 'argument_list' ? args.parent : null;
      const fn = call?.childForFieldName('function');
      if (fn?.type !== 'selector_expression' || fn.childForFieldName('field')?.text !== 'Do') continue;
      const operand = fn.childForFieldName('operand');
      const t = operand ? typeOfExpr(operand, lit.file, this.pkg) : undefined;
      if (!t || t.kind === 'once' || (t.kind === 'pointer' && t.elem?.kind === 'once')) return true;
    }
    return false;
  }

  /**
   * Whether two accesses may run at the same time. `api` contexts (exported methods of a type
   * with a mutex) count only when `withApi`: that assumption needs evidence of locking intent.
   */
  mayRunConcurrently(a: Access, b: Access, withApi = true): boolean {
    if (a.ctx.kind === 'seq' || b.ctx.kind === 'seq') return false;
    if (a.ctx.kind === 'post' && b.ctx.kind === 'post') return false;
    if (a.ctx.kind === 'concurrent' && b.ctx.kind === 'concurrent') {
      const sameInstanceOnly = a.viaReceiver || b.viaReceiver;
      for (const ra of a.ctx.roots) {
        if (!withApi && ra.kind === 'api') continue;
        for (const rb of b.ctx.roots) {
          if (!withApi && rb.kind === 'api') continue;
          if (ra === rb) { if (ra.self) return true; continue; }
          // Two exported methods: callers may serialise them; racelens needs a real goroutine or handler.
          if (ra.kind === 'api' && rb.kind === 'api') continue;
          // One function started from two places on a receiver: most likely two instances.
          if (sameInstanceOnly && ra.unit.id === rb.unit.id) continue;
          return true;
        }
      }
      return false;
    }
    const [c, p] = a.ctx.kind === 'concurrent' ? [a, b] : [b, a];
    const roots = (c.ctx as { roots: ReadonlySet<ConcurrentRoot> }).roots;
    return (p.ctx as { spawned: ConcurrentRoot[] }).spawned.some((r) => roots.has(r));
  }

  /** Pairs with at least one write, possibly concurrent, with no mutex held in common. */
  conflicts(v: SharedVar, withApi = true): Conflict[] {
    // A budget: the pair check is quadratic; past 400 accesses of one variable the rest are not paired.
    const list = (this.accesses.get(v.key) ?? []).slice(0, 400);
    const out: Conflict[] = [];
    for (let i = 0; i < list.length; i++) {
      const a = list[i];
      if (!a.write) continue;
      for (let j = 0; j < list.length; j++) {
        const b = list[j];
        if (j < i && b.write) continue; // the pair was seen from b's side
        if (!this.mayRunConcurrently(a, b, withApi) || excludes(a.locks, b.locks)) continue;
        out.push({ write: a, other: b });
      }
    }
    return out;
  }

  /**
   * Mutexes that guard v: held at some non-sequential access, and owned by the same object (a
   * field's own struct, or the package for package-level state). Locks held incidentally, say a
   * connection's mutex while a request field is read, are not evidence.
   */
  guards(v: SharedVar): Set<string> {
    const out = new Set<string>();
    for (const a of this.accesses.get(v.key) ?? []) {
      if (a.ctx.kind === 'seq') continue;
      for (const k of a.locks.keys()) if (ownsLock(v, k)) out.add(k);
    }
    return out;
  }
}

/** Only read locks held: a write here races with the other readers. */
export function isReadLocked(locks: LockSet): boolean {
  let read = false;
  for (const [k, m] of locks) {
    if (m === 'w' || k === ANY_LOCK) return false;
    read = true;
  }
  return read;
}

export function isInit(u: FuncUnit): boolean {
  return outermost(u).name === 'init' && !outermost(u).recvType;
}

function outermost(u: FuncUnit): FuncUnit {
  while (u.parent) u = u.parent;
  return u;
}

function ownsLock(v: SharedVar, lock: string): boolean {
  if (v.kind === 'field') return lock.startsWith(`field:${v.structName}.`);
  if (v.kind === 'pkgvar') return lock.startsWith('pkgvar:');
  return lock.startsWith('local:') || lock.startsWith('pkgvar:');
}

const models = new WeakMap<Package, SharedStateModel>();

/** The package's model, built on first use and shared by every rule in the run. */
export function sharedState(pkg: Package): SharedStateModel {
  let m = models.get(pkg);
  if (!m) models.set(pkg, (m = new SharedStateModel(pkg)));
  return m;
}
