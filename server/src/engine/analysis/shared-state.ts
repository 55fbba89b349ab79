// The shared state of a package and who touches it: package-level variables, struct fields of
// types that goroutines, handlers or locking methods share, and locals captured by goroutine
// closures. Each access knows the threads that may run it (Goroutines), the locks held there
// (LockState) and is ordered against goroutines by happens-before. A conflict is two accesses,
// one a write, that may run at the same time with no lock held in common.
//
// Text search finds candidate positions; each is then checked in the tree (an identifier, not
// shadowed, the right struct type). Mutexes, WaitGroups, atomics, channels and funcs are never data.
import type { Node } from 'web-tree-sitter';
import type { Fact } from '../fact';
import type { Package } from '../package';
import { query } from '../parser';
import { findLocalDeclaration } from '../scope';
import type { SourceFile } from '../source-file';
import { escapeRegExp, isDeclaringOccurrence } from '../syntax';
import { cachedType } from '../tree-cache';
import { fieldOf, packageTypes, structNameOf, typeOfIdentifier, typeOfExpr, type GoType } from '../types';
import { CallGraphFact, type CallGraph } from './callgraph';
import { FunctionsFact, isInit, type FuncUnit, type Functions } from './functions';
import { GoroutinesFact, sharedAcrossStarts, type Goroutines, type Root } from './goroutines';
import { HappensBeforeFact, type HappensBefore } from './happens-before';
import type { SharedLock } from './lock-keys';
import { LockStateFact, type Held, type HeldSet, type LockState } from './lock-state';

export interface SharedVar {
  /** `pkgvar:name`, `field:Type.name` or `local:<file>:<decl>:name`. */
  key: string;
  /** How code names it: `cache`, `c.items`'s `items`. */
  name: string;
  kind: 'pkgvar' | 'field' | 'local';
  type?: GoType;
  /** The declaring spec (var_spec, field_declaration, or local declaration). */
  decl?: Node;
  /** For fields: the struct type's name. */
  structName?: string;
  /** For a field reached through another struct's field: the type at the root of the path (its locks guard it). */
  holderType?: string;
  accesses: Access[];
}

export interface Access {
  v: SharedVar;
  /** The identifier or selector expression naming the variable. */
  expr: Node;
  file: SourceFile;
  unit?: FuncUnit;
  write: boolean;
  /** m[k] = v, delete(m, k), m[k]++: the map's contents change, not the variable. */
  element: boolean;
  /** &x: the address escapes, so racelens cannot follow every use. */
  addressTaken: boolean;
  /** A read that only copies the reference (`return m`, `x := m`): no element of a map or slice is touched. */
  reference?: boolean;
  /** For fields: reached through the enclosing method's receiver (the same instance only within that type's methods). */
  viaReceiver?: boolean;
}

/** Where an access runs: in a root's thread, or in code no root reaches (before goroutines, or in their spawner). */
export type Thread = Root | 'main';

/**
 * Why two accesses may run at the same time: the thread of each, for one thread why it overlaps
 * itself, and which side runs in the spawner of the other side's goroutine after starting it.
 */
export interface Overlap { a: Thread; b: Thread; why?: string; afterSpawn?: 'a' | 'b' }

export interface Conflict { write: Access; other: Access; overlap: Overlap }

const DATA_EXCLUDED = new Set(['mutex', 'rwmutex', 'waitgroup', 'once', 'cond', 'atomic', 'syncmap', 'chan', 'func']);

/** Mutexes, WaitGroups, atomics, channels and funcs (or pointers to them) are not data racelens tracks. */
export function isSyncType(t: GoType | undefined): boolean {
  if (!t) return false;
  if (DATA_EXCLUDED.has(t.kind)) return true;
  return t.kind === 'pointer' && !!t.elem && DATA_EXCLUDED.has(t.elem.kind);
}

function isAssignTarget(x: Node): boolean {
  const list = x.parent;
  if (list?.type !== 'expression_list') return false;
  const stmt = list.parent;
  if (stmt?.type !== 'assignment_statement') return false;
  return stmt.childForFieldName('left')?.id === list.id;
}

/**
 * Whether the occurrence of a variable at [at, end) may be one classify() calls a write, read off
 * the text around it: `=` (not `==`), `op=`, `++`, `--`, `,` (an assignment list), `[` (an
 * element), a comment before any of those, or `delete(`/`clear(` before it. False is certain.
 */
export function mayBeWrittenAt(text: string, at: number, end: number): boolean {
  let i = end;
  while (text[i] === ' ' || text[i] === '\t') i++;
  const c = text[i], d = text[i + 1];
  if (c === '=') return d !== '=';
  if (c === '[' || c === ',' || c === '/') return true;
  if ((c === '+' && d === '+') || (c === '-' && d === '-')) return true;
  if ('+-*%&|^'.includes(c) && d === '=') return true;
  if ((c === '<' && d === '<') || (c === '>' && d === '>') || (c === '&' && d === '^')) return text[i + 2] === '=';
  let j = at - 1;
  while (text[j] === ' ' || text[j] === '\t') j--;
  return text[j] === '(' && /(?:delete|clear)\s*$/.test(text.slice(Math.max(0, j - 8), j));
}

/** Read or write, element or whole, for the expression naming a variable. */
export function classify(expr: Node): Pick<Access, 'write' | 'element' | 'addressTaken' | 'reference'> {
  const parent = expr.parent;
  if (parent?.type === 'index_expression' && parent.childForFieldName('operand')?.id === expr.id) {
    const write = isAssignTarget(parent) || parent.parent?.type === 'inc_statement' || parent.parent?.type === 'dec_statement';
    return { write, element: write, addressTaken: false };
  }
  if (parent?.type === 'argument_list' && parent.namedChild(0)?.id === expr.id) {
    const fn = parent.parent?.childForFieldName('function');
    if (fn?.type === 'identifier' && (fn.text === 'delete' || fn.text === 'clear') && !findLocalDeclaration(fn, fn.text)) {
      return { write: true, element: true, addressTaken: false };
    }
  }
  if (isAssignTarget(expr) || parent?.type === 'inc_statement' || parent?.type === 'dec_statement') {
    return { write: true, element: false, addressTaken: false };
  }
  const addressTaken = parent?.type === 'unary_expression' && parent.child(0)?.text === '&';
  // Returned or copied as a whole: the reference is read, the elements are not.
  const list = parent?.type === 'expression_list' ? parent : null;
  const owner = list?.parent;
  // A value in a composite literal (`&T{seen: d.seen}`) is copied the same way.
  const element = parent?.type === 'literal_element' ? parent.parent : null;
  const inLiteral = !!element && (element.type === 'literal_value' || (element.type === 'keyed_element' && element.childForFieldName('value')?.id === parent!.id));
  const reference = inLiteral || (!!list && (owner?.type === 'return_statement'
    || ((owner?.type === 'assignment_statement' || owner?.type === 'short_var_declaration') && owner.childForFieldName('right')?.id === list.id)));
  return { write: false, element: false, addressTaken, ...(reference && { reference }) };
}

interface Occurrence { file: SourceFile; at: number; end: number }

export class SharedState {
  readonly vars: SharedVar[] = [];
  private readonly byKey = new Map<string, SharedVar>();
  private readonly threadCache = new Map<Access, Thread[]>();
  private readonly heldCache = new Map<Access, HeldSet>();
  /** Units some root starts: code that runs on its own. */
  private readonly rootUnits: Set<FuncUnit>;

  constructor(readonly pkg: Package, readonly fns: Functions, readonly calls: CallGraph, readonly goroutines: Goroutines, readonly locks: LockState, readonly hb: HappensBefore) {
    this.rootUnits = new Set(goroutines.roots.filter((r) => r.kind !== 'api').map((r) => r.unit));
    const racy = goroutines.roots.some((r) => r.kind !== 'api');
    const readLocks = pkg.files.some((f) => f.text.includes('.RLock()'));
    if (!racy && !readLocks) return;
    // Without read locks a variable matters only if some access can run concurrently.
    const relevant = readLocks ? undefined : (u: FuncUnit | undefined) => !!u && !isInit(u) && goroutines.mayRunConcurrently(u);
    this.collectPackageVars(relevant);
    this.collectCapturedLocals();
    this.collectFields(this.sharedStructs(), relevant);
    for (const v of this.vars) if (v.accesses.length && v.accesses.some((a) => a.write)) this.byKey.set(v.key, v);
    this.vars.splice(0, this.vars.length, ...this.byKey.values());
  }

  /** The threads that may run an access; 'main' when no root does. */
  threadsOf(a: Access): Thread[] {
    let t = this.threadCache.get(a);
    if (t) return t;
    if (!a.unit || isInit(a.unit) || this.inOnceDo(a.unit)) t = [];
    else {
      const roots = [...(a.viaReceiver ? this.goroutines.reachOnReceiver(a.unit) : this.goroutines.reach(a.unit))]
        // Goroutines that tests start say nothing about how production code runs.
        .filter((r) => a.file.isTest || !(r.spawner ?? r.unit).file.isTest);
      t = roots.length ? roots : ['main'];
    }
    this.threadCache.set(a, t);
    return t;
  }

  /** Locks held at an access (assumed ones included: races are reported only when none can be held). */
  heldAt(a: Access): HeldSet {
    let h = this.heldCache.get(a);
    if (!h) this.heldCache.set(a, (h = a.unit ? this.locks.heldAt(a.unit, a.expr.startIndex) : { locks: new Map() }));
    return h;
  }

  /** Locks held at an access when thread `t` runs it. */
  private heldIn(a: Access, t: Thread): HeldSet {
    if (!a.unit) return this.heldAt(a);
    const tag = t === 'main' ? 'main' : `root${this.goroutines.indexOf(t)}`;
    const ok = t === 'main' ? (c: FuncUnit) => this.goroutines.reach(c).size === 0 : (c: FuncUnit) => this.goroutines.reach(c).has(t);
    const held = this.locks.heldAtWhere(a.unit, a.expr.startIndex, ok, tag);
    const around = t === 'main' ? undefined : this.heldAround(t);
    if (!around?.size) return held;
    const locks = new Map(held.locks);
    for (const [id, h] of around) if (!locks.has(id)) locks.set(id, h);
    return { locks, assumed: held.assumed };
  }

  private readonly around = new Map<Root, Map<string, Held>>();

  /**
   * Locks the spawner holds from the go statement until it has joined the goroutine on every path
   * (`mu.RLock(); defer mu.RUnlock(); ... go work(); ... wg.Wait()`): the goroutine runs entirely
   * inside that critical section, so a writer of the lock cannot run at the same time.
   */
  private heldAround(r: Root): Map<string, Held> {
    let out = this.around.get(r);
    if (out) return out;
    out = new Map();
    this.around.set(r, out);
    if (r.kind !== 'goroutine' || !r.site || !r.spawner) return out;
    const joins = this.hb.joinOffsets(r);
    if (!joins?.length) return out;
    const atSpawn = this.locks.heldAt(r.spawner, r.site.startIndex);
    if (atSpawn.assumed) return out;
    const atJoins = joins.map((j) => this.locks.heldAt(r.spawner!, j));
    for (const [id, h] of atSpawn.locks) if (atJoins.every((x) => x.locks.get(id)?.mode === h.mode)) out.set(id, h);
    return out;
  }

  /** The locks held at an access as shared across functions (`T.mu`), by id, with their modes. */
  sharedLocks(a: Access, thread?: Thread): Map<string, { lock: SharedLock; mode: 'r' | 'w' }> {
    const out = new Map<string, { lock: SharedLock; mode: 'r' | 'w' }>();
    for (const h of (thread ? this.heldIn(a, thread) : this.heldAt(a)).locks.values()) {
      const s = h.key.shared;
      if (s && out.get(s.id)?.mode !== 'w') out.set(s.id, { lock: s, mode: h.mode });
    }
    return out;
  }

  /**
   * Whether two accesses hold a lock in common that excludes them (one holds it for writing). With
   * the threads they run in, a helper's callers count only where that thread calls it.
   */
  excluded(a: Access, b: Access, x?: Thread, y?: Thread): boolean {
    if (this.heldAt(a).assumed || this.heldAt(b).assumed) return true;
    const la = this.sharedLocks(a, x), lb = this.sharedLocks(b, y);
    for (const [id, { mode }] of la) {
      const o = lb.get(id);
      if (o && (mode === 'w' || o.mode === 'w')) return true;
    }
    return false;
  }

  /**
   * Whether two accesses may run at the same time, and in which threads. Exported methods alone
   * never overlap (callers may serialise them): a goroutine or handler is needed. `withApi` false
   * leaves exported methods out altogether.
   */
  overlap(a: Access, b: Access, withApi = true, unless?: (o: Overlap) => boolean): Overlap | undefined {
    const ta = this.threadsOf(a), tb = this.threadsOf(b);
    for (const x of ta) {
      for (const y of tb) {
        const o = this.threadsOverlap(a, x, b, y, withApi);
        if (o && !unless?.(o)) return o;
      }
    }
    return undefined;
  }

  private threadsOverlap(a: Access, x: Thread, b: Access, y: Thread, withApi: boolean): Overlap | undefined {
    if (x === 'main' && y === 'main') return undefined;
    if (x === 'main' || y === 'main') {
      // Code no root runs is ordered before every goroutine, unless it runs in a spawner after the spawn.
      const [m, r] = x === 'main' ? [a, y as Root] : [b, x];
      if (!r.site || !m.unit || this.beforeStartOfOwnCopy(m, r)) return undefined;
      return this.hb.orderAgainst(m.unit, m.expr.startIndex, r, 'main') === 'concurrent' ? { a: x, b: y } : undefined;
    }
    if (!withApi && (x.kind === 'api' || y.kind === 'api')) return undefined;
    if (x === y) return x.self && !this.ownedPerRun(a, b, x) ? { a: x, b: y, why: x.selfWhy } : undefined;
    if (x.kind === 'api' && y.kind === 'api') return undefined;
    // One function started from two places on a receiver: most likely two instances.
    if ((a.viaReceiver || b.viaReceiver) && x.unit === y.unit) return undefined;
    // A field of a struct that two different types hold (`ms.state.n`, `fs.state.n`): two instances.
    const ra = a.unit?.outermost.recvType, rb = b.unit?.outermost.recvType;
    if (a.viaReceiver && b.viaReceiver && ra !== rb && a.v.structName !== ra && a.v.structName !== rb) return undefined;
    if (this.ordered(a, x, y) || this.ordered(b, y, x)) return undefined;
    if (this.hb.rootsOrdered(x, y) || this.hb.startedExclusively(x, y)) return undefined;
    const afterSpawn = y.site && a.unit && this.hb.orderAgainst(a.unit, a.expr.startIndex, y, x) === 'concurrent' ? 'a'
      : x.site && b.unit && this.hb.orderAgainst(b.unit, b.expr.startIndex, x, y) === 'concurrent' ? 'b' : undefined;
    return { a: x, b: y, afterSpawn };
  }

  /**
   * Two runs of one root that each have their own copy of the variable: a local declared once per
   * start (unless an element is reached through a reference it was given), or a field of a receiver
   * made fresh for each start.
   */
  private ownedPerRun(a: Access, b: Access, r: Root): boolean {
    const v = a.v;
    if (v.kind === 'local') {
      if (!v.decl || !r.site || sharedAcrossStarts(v.decl, r.site)) return false;
      return !(a.element || b.element) || madeHere(v.decl);
    }
    return !!r.freshReceiver && !!a.viaReceiver && !!b.viaReceiver;
  }

  /**
   * `conn := accept(); use(conn); go serve(conn)` in a loop: the spawner's use comes before the
   * start, and the next iteration has a new variable, so the loop's back edge orders nothing after it.
   */
  private beforeStartOfOwnCopy(a: Access, y: Root): boolean {
    const decl = a.v.decl;
    if (a.v.kind !== 'local' || !decl || !y.site || a.unit !== y.spawner || sharedAcrossStarts(decl, y.site)) return false;
    return decl.endIndex <= a.expr.startIndex && a.expr.endIndex <= y.site.startIndex;
  }

  /** Access `a`, running in thread `x`, is ordered against every run of goroutine `y` (asked for every pair `a` is in). */
  private ordered(a: Access, x: Root, y: Root, depth = 0): boolean {
    let byThreads = this.orderedCache.get(a);
    if (!byThreads) this.orderedCache.set(a, (byThreads = new Map()));
    const key = `${this.goroutines.indexOf(x)}:${this.goroutines.indexOf(y)}:${depth}`;
    let answer = byThreads.get(key);
    if (answer === undefined) byThreads.set(key, (answer = this.computeOrdered(a, x, y, depth)));
    return answer;
  }

  private readonly orderedCache = new Map<Access, Map<string, boolean>>();

  private computeOrdered(a: Access, x: Root, y: Root, depth: number): boolean {
    if (!a.unit) return false;
    if (this.beforeStartOfOwnCopy(a, y) || this.hb.waitedFor(a.unit, a.expr.startIndex, y)) return true;
    if (y.site) {
      const o = this.hb.orderAgainst(a.unit, a.expr.startIndex, y, x);
      if (o === 'before' || o === 'after') return true;
    }
    if (x.kind === 'api' && this.hb.lifecycleBefore(x.unit, y)) return true;
    // Spawn chains: y is started by threads that all start after `a` (or by `a`'s thread after it).
    if (!y.spawner || depth > 2) return false; // a budget: chains of goroutines starting goroutines, three deep
    const starters = [...this.goroutines.reach(y.spawner)].filter((r) => r !== y && r !== x);
    return starters.length > 0 && !this.goroutines.reach(y.spawner).has(x) && starters.every((r) => r.kind !== 'api' && this.ordered(a, x, r, depth + 1));
  }

  /** Pairs with at least one write that may run at the same time with no lock held in common. */
  conflicts(v: SharedVar, withApi = true): Conflict[] {
    // Several rules ask about the same variable: pair its accesses once per mode.
    const cache = withApi ? this.conflictCache : this.conflictCacheNoApi;
    let found = cache.get(v);
    if (!found) cache.set(v, (found = this.computeConflicts(v, withApi)));
    return found;
  }

  private readonly conflictCache = new Map<SharedVar, Conflict[]>();
  private readonly conflictCacheNoApi = new Map<SharedVar, Conflict[]>();

  private computeConflicts(v: SharedVar, withApi: boolean): Conflict[] {
    // A budget: the pair check is quadratic; past 400 accesses of one variable the rest are not paired.
    const list = v.accesses.slice(0, 400);
    const out: Conflict[] = [];
    for (let i = 0; i < list.length; i++) {
      const a = list[i];
      if (!a.write || !this.threadsOf(a).length) continue;
      for (let j = 0; j < list.length; j++) {
        const b = list[j];
        if (j < i && b.write) continue; // the pair was seen from b's side
        if (!this.threadsOf(b).length) continue;
        if (a.file.isTest !== b.file.isTest) continue; // test code poking at internals says nothing about production races
        if (a.element && b.reference) continue; // writing an element does not race with copying the map or slice reference
        // Threads first (most pairs never overlap, and then no lock state is needed), then a pair of
        // threads that hold no lock in common where they run the accesses.
        const overlap = this.overlap(a, b, withApi, (o) => this.excluded(a, b) || this.excluded(a, b, o.a, o.b));
        if (!overlap) continue;
        if (!b.write && a.unit && b.unit && this.hb.publishedBefore({ unit: a.unit, offset: a.expr.startIndex }, { unit: b.unit, node: a === b ? a.expr : b.expr })) continue;
        out.push({ write: a, other: b, overlap });
      }
    }
    return out;
  }

  /**
   * Mutexes that guard v: held at some access that may run concurrently, and owned by the same
   * object (a field's own struct, or the package for package-level state). Locks held incidentally,
   * say a connection's mutex while a request field is read, are not evidence.
   */
  guards(v: SharedVar): Map<string, SharedLock> {
    const out = new Map<string, SharedLock>();
    for (const a of v.accesses) {
      if (!this.inConcurrentCode(a)) continue;
      for (const [id, { lock }] of this.sharedLocks(a)) if (ownsLock(v, lock)) out.set(id, lock);
    }
    return out;
  }

  /** Whether an access runs in a goroutine, handler or locking method, or in a function that starts goroutines. */
  inConcurrentCode(a: Access): boolean {
    const threads = this.threadsOf(a);
    return threads.some((t) => t !== 'main') || (threads.length > 0 && !!a.unit && this.goroutines.spawnedIn(a.unit).length > 0);
  }

  /** A literal passed to once.Do runs once, and Do orders it before every later Do returns. */
  private inOnceDo(u: FuncUnit): boolean {
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

  // ---------------------------------------------------------------------------------------------
  // Collecting variables and accesses

  private occurrencesByName(names: string[], pattern: (alternatives: string) => string, nameOf: (m: RegExpMatchArray) => string): Map<string, Occurrence[]> {
    const out = new Map<string, Occurrence[]>();
    const patterns: RegExp[] = [];
    for (let i = 0; i < names.length; i += 200) patterns.push(new RegExp(pattern(names.slice(i, i + 200).map(escape).join('|')), 'g'));
    for (const file of this.pkg.files) {
      for (const re of patterns) {
        for (const m of file.text.matchAll(re)) {
          const name = nameOf(m);
          const o = { file, at: m.index!, end: m.index! + m[0].length };
          const list = out.get(name);
          if (list) list.push(o); else out.set(name, [o]);
        }
      }
    }
    return out;
  }

  /**
   * Struct types whose fields can be shared: receivers of the methods that are or start concurrent
   * work, and the types of package variables and captured locals. Other structs' fields are only
   * ever reached through one instance per call.
   */
  private sharedStructs(): Set<string> {
    const out = new Set<string>();
    for (const r of this.goroutines.roots) {
      const t = r.unit.outermost.recvType ?? r.spawner?.outermost.recvType;
      if (t) out.add(t);
    }
    for (const v of this.vars) {
      const name = structNameOf(v.type);
      if (name) out.add(name);
    }
    return out;
  }

  private collectPackageVars(relevant?: (u: FuncUnit | undefined) => boolean): void {
    const byName = new Map<string, SharedVar>();
    for (const [name, decls] of this.pkg.decls) {
      if (decls.length !== 1 || cachedType(decls[0]) !== 'var_spec' || name === '_') continue;
      const spec = decls[0];
      const file = this.pkg.fileOf(spec);
      const nameNode = spec.childrenForFieldName('name').find((n) => n?.text === name);
      const type = file && nameNode ? typeOfIdentifier(nameNode, file, this.pkg) : undefined;
      if (isSyncType(type)) continue;
      byName.set(name, { key: `pkgvar:${name}`, name, kind: 'pkgvar', type, decl: spec, accesses: [] });
    }
    if (!byName.size) return;
    const found = this.occurrencesByName([...byName.keys()], (alts) => `(?<![\\w.$])(?:${alts})(?![\\w$])`, (m) => m[0]);
    for (const [name, list] of found) {
      // Only variables something writes are kept (see the constructor): the text rules most out first.
      if (!list.some((o) => mayBeWrittenAt(o.file.text, o.at, o.end))) continue;
      if (relevant && !list.some((o) => relevant(this.fns.unitAt(o.file, o.at, o.end)))) continue;
      const v = byName.get(name)!;
      for (const { file, at, end } of list) {
        const node = file.root.descendantForIndex(at, end);
        if (node?.type !== 'identifier' || node.text !== name) continue;
        if (node.parent?.type === 'var_spec' && node.parent.id === v.decl?.id) continue;
        const unit = this.fns.enclosing(node);
        const top = unit?.outermost;
        if (top?.declarable.has(name) && findLocalDeclaration(node, name)) continue;
        v.accesses.push({ v, expr: node, file, unit, ...classify(node) });
      }
    }
    this.vars.push(...byName.values());
  }

  private collectFields(shared: Set<string>, relevant?: (u: FuncUnit | undefined) => boolean): void {
    const byKey = new Map<string, SharedVar>();
    const names = new Set<string>();
    for (const [structName, fields] of packageTypes(this.pkg).structs) {
      if (!shared.has(structName)) continue;
      for (const [name, f] of fields) {
        if (isSyncType(f.type) || f.embedded) continue;
        byKey.set(`field:${structName}.${name}`, { key: `field:${structName}.${name}`, name, kind: 'field', type: f.type, decl: f.node, structName, accesses: [] });
        names.add(name);
      }
    }
    if (!names.size) return;
    const found = this.occurrencesByName([...names], (alts) => `\\.\\s*(?:${alts})(?![\\w$])`, (m) => m[0].replace(/^\.\s*/, ''));
    for (const [name, list] of found) {
      // Only variables something writes are kept (see the constructor): the text rules most out first.
      if (!list.some((o) => mayBeWrittenAt(o.file.text, o.at, o.end))) continue;
      if (relevant && !list.some((o) => relevant(this.fns.unitAt(o.file, o.at, o.end)))) continue;
      for (const { file, end } of list) {
        const node = file.root.descendantForIndex(end - name.length, end);
        if (node?.type !== 'field_identifier' || node.parent?.type !== 'selector_expression') continue;
        const sel = node.parent;
        const base = this.sharedBase(sel);
        if (!base) continue;
        const operand = sel.childForFieldName('operand')!;
        const owner = this.fieldOwner(operand, name, file);
        const proto = owner && byKey.get(`field:${owner}.${name}`);
        if (!proto) continue;
        // A field reached through another struct's field (`ms.state.n`) belongs to that holder's
        // instance: a variable of its own, apart from the same field of other holders or locals.
        const holder = this.holderOf(operand, file);
        const key = holder ? `${proto.key}@${holder.path}` : proto.key;
        let v = byKey.get(key);
        if (!v) byKey.set(key, (v = { ...proto, key, holderType: holder?.type, accesses: [] }));
        v.accesses.push({ v, expr: sel, file, unit: this.fns.enclosing(sel), ...classify(sel), viaReceiver: base === 'receiver' });
      }
    }
    this.vars.push(...byKey.values());
  }

  /**
   * For `x.a.b.f`, the path of fields between the root and the field's own struct (`T.a.b`, T the
   * root's type); undefined for `x.f`, or when an index or call is on the way.
   */
  private holderOf(operand: Node, file: SourceFile): { path: string; type: string } | undefined {
    if (operand.type !== 'selector_expression') return undefined;
    const fields: string[] = [];
    let n: Node | null = operand;
    while (n?.type === 'selector_expression') {
      fields.unshift(n.childForFieldName('field')?.text ?? '?');
      n = n.childForFieldName('operand');
    }
    if (n?.type !== 'identifier') return undefined;
    const type = this.calls.typeNameOf(n, file);
    return type ? { path: [type, ...fields].join('.'), type } : undefined;
  }

  /** The struct that declares field `name` of the operand's type (promoted fields included). */
  private fieldOwner(operand: Node, name: string, file: SourceFile): string | undefined {
    const type = this.calls.typeNameOf(operand, file);
    if (!type) return undefined;
    const f = fieldOf({ kind: 'struct', text: type, name: type }, name, this.pkg);
    return f?.owner ?? type;
  }

  /**
   * Whether `x.f` reaches a possibly shared object: through the method's receiver, a package-level
   * variable, or a variable a closure captured. A parameter or a value made in this function is a
   * different instance each time, so its fields are not shared state.
   */
  private sharedBase(sel: Node): 'receiver' | 'pkgvar' | 'captured' | undefined {
    let root: Node | null = sel.childForFieldName('operand');
    while (root && (root.type === 'selector_expression' || root.type === 'index_expression' || root.type === 'parenthesized_expression')) {
      root = root.type === 'parenthesized_expression' ? root.namedChild(0) : root.childForFieldName('operand');
    }
    if (root?.type !== 'identifier') return undefined;
    if (this.fns.isReceiver(root)) return 'receiver';
    const unit = this.fns.enclosing(sel);
    const pkgVar = !!this.pkg.decls.get(root.text)?.some((d) => cachedType(d) === 'var_spec');
    // Outside literals nothing is captured: only a package variable (not shadowed) is shared.
    if (unit && !unit.isLiteral && !pkgVar) return undefined;
    const decl = findLocalDeclaration(root, root.text);
    if (!decl) return pkgVar ? 'pkgvar' : undefined;
    if (unit?.outermost.recvName === root.text) return 'receiver';
    // Captured: declared outside a function literal between here and the declaration that runs
    // on its own (a goroutine, handler or callback). A literal run in place (`m.Range(func...)`) is
    // still its function's own code.
    for (let lit = unit; lit?.parent && (decl.endIndex <= lit.start || decl.startIndex >= lit.end) && decl.id !== lit.node.id; lit = lit.parent) {
      if (this.rootUnits.has(lit)) return 'captured';
    }
    return undefined;
  }

  /** Locals of a function that a goroutine literal started in it also uses. */
  private collectCapturedLocals(): void {
    const seen = new Set<string>();
    for (const root of this.goroutines.roots) {
      const lit = root.unit;
      if (!lit.isLiteral || !lit.body || !root.spawner || root.kind === 'handler') continue;
      const outer = root.spawner.outermost;
      for (const { node: id } of query('(identifier) @id').captures(lit.body)) {
        if (id.text === '_') continue; // the blank identifier holds nothing
        const decl = findLocalDeclaration(id, id.text);
        if (!decl || (decl.startIndex >= lit.node.startIndex && decl.endIndex <= lit.node.endIndex)) continue;
        const key = `local:${lit.file.path}:${decl.startIndex}:${id.text}`;
        if (seen.has(key)) continue;
        seen.add(key);
        const type = typeOfIdentifier(id, lit.file, this.pkg);
        if (isSyncType(type)) continue;
        const v: SharedVar = { key, name: id.text, kind: 'local', decl, type, accesses: [] };
        const re = new RegExp(`(?<![\\w.$])${escapeRegExp(id.text)}(?![\\w$])`, 'g');
        for (const m of lit.file.text.slice(outer.node.startIndex, outer.node.endIndex).matchAll(re)) {
          const at = outer.node.startIndex + m.index!;
          const node = lit.file.root.descendantForIndex(at, at + id.text.length);
          if (node?.type !== 'identifier' || node.text !== id.text) continue;
          const d = findLocalDeclaration(node, id.text);
          if (!d || d.startIndex !== decl.startIndex) continue;
          if (isDeclaringOccurrence(node)) continue;
          v.accesses.push({ v, expr: node, file: lit.file, unit: this.fns.enclosing(node), ...classify(node) });
        }
        this.vars.push(v);
      }
    }
  }
}

/** `var m map[K]V`, `m := make(...)`, `m := T{...}`: the variable starts with a value of its own. */
export function madeHere(decl: Node): boolean {
  if (decl.type === 'var_declaration') return !decl.text.includes('=');
  if (decl.type !== 'short_var_declaration') return false;
  const right = decl.childForFieldName('right')?.namedChild(0);
  const fn = right?.type === 'call_expression' ? right.childForFieldName('function')?.text : undefined;
  return right?.type === 'composite_literal' || fn === 'make' || fn === 'new';
}

function ownsLock(v: SharedVar, lock: SharedLock): boolean {
  if (v.kind === 'field') return lock.scope === 'struct' && (lock.struct === v.structName || lock.struct === v.holderType);
  return lock.scope === 'package' || (v.kind === 'local' && lock.scope === 'local');
}

/** Only read locks held: a write here races with the other readers. */
export function onlyReadLocked(held: HeldSet): boolean {
  if (held.assumed || !held.locks.size) return false;
  for (const h of held.locks.values()) if (h.mode === 'w') return false;
  return true;
}

export const SharedStateFact: Fact<SharedState> = {
  name: 'SharedState',
  build: (facts) => new SharedState(facts.pkg, facts.get(FunctionsFact), facts.get(CallGraphFact), facts.get(GoroutinesFact), facts.get(LockStateFact), facts.get(HappensBeforeFact)),
};
