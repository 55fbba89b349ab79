// Lock regions: which mutexes are held at a point of a function, from x.mu.Lock()/Unlock(),
// RLock/RUnlock, defer, embedded mutexes, and locks held by every caller of a helper.
import type { Node, Tree } from 'web-tree-sitter';
import { cachedNamedChildren, cachedParent, cachedType, PerTree } from '../tree-cache';
import type { Package } from '../package';
import { findLocalDeclaration } from '../scope';
import type { SourceFile } from '../source-file';
import { packageTypes, typeOfExpr, type GoType } from '../types';
import type { FuncUnit, Units } from './units';

/** Lock key → mode held. The key '*' stands for "whatever the callers hold" (…Locked helpers). */
export type LockSet = Map<string, 'r' | 'w'>;
export const ANY_LOCK = '*';

export const LOCK_METHODS = new Set(['Lock', 'Unlock', 'RLock', 'RUnlock']);

function structName(t: GoType | undefined): string | undefined {
  return t?.kind === 'pointer' ? t.elem?.name : t?.name;
}

/**
 * A stable identity for a variable or field expression, shared by locks and accesses:
 * `pkgvar:name`, `field:Type.name` or `local:<decl>:name`. Undefined when unknown.
 */
export function storageKey(expr: Node, file: SourceFile, pkg: Package, units: Units): string | undefined {
  if (expr.type === 'identifier') {
    const decl = findLocalDeclaration(expr, expr.text);
    if (decl) {
      // A method receiver names an instance of its type, not a storage location of its own.
      return `local:${file.path}:${decl.startIndex}:${expr.text}`;
    }
    return pkg.decls.get(expr.text)?.some((d) => cachedType(d) === 'var_spec') ? `pkgvar:${expr.text}` : undefined;
  }
  if (expr.type === 'selector_expression') {
    const operand = expr.childForFieldName('operand');
    const field = expr.childForFieldName('field')?.text;
    if (!operand || !field) return undefined;
    const type = units.typeNameOf(operand, file);
    return type ? `field:${type}.${field}` : undefined;
  }
  if (expr.type === 'parenthesized_expression' || (expr.type === 'unary_expression' && expr.child(0)?.text === '*')) {
    const inner = expr.type === 'parenthesized_expression' ? expr.namedChild(0) : expr.childForFieldName('operand');
    return inner ? storageKey(inner, file, pkg, units) : undefined;
  }
  return undefined;
}

/** The key of the mutex that `x.Lock()` locks: x itself, or x's embedded Mutex/RWMutex. */
export function mutexKey(x: Node, file: SourceFile, pkg: Package, units: Units): string | undefined {
  const t = typeOfExpr(x, file, pkg) ?? (x.type === 'identifier' ? receiverType(x, units) : undefined);
  const name = structName(t);
  if (name && t?.kind !== 'mutex' && t?.kind !== 'rwmutex') {
    return `field:${name}.${embeddedMutex(name, pkg) ?? 'Mutex'}`;
  }
  return storageKey(x, file, pkg, units);
}

function receiverType(x: Node, units: Units): GoType | undefined {
  const name = units.typeNameOf(x, units.enclosing(x)!.file);
  return name ? { kind: 'struct', text: name, name } : undefined;
}

function embeddedMutex(typeName: string, pkg: Package): string | undefined {
  const fields = packageTypes(pkg).structs.get(typeName);
  if (!fields) return undefined;
  for (const [n, f] of fields) if (f.embedded && (f.type.kind === 'mutex' || f.type.kind === 'rwmutex')) return n;
  return undefined;
}

export interface LockCall { method: string; mutex: Node; byFunction?: boolean }

/** lockCall's answers by tree and node: lock regions ask about the same statements over and over. */
const lockCallsByTree = new PerTree<LockCall | null>();

/** If `stmt` is `x.Lock()` and friends, the method and the mutex expression. */
export function lockCall(stmt: Node): LockCall | undefined {
  const byId = lockCallsByTree.of(stmt.tree);
  let found = byId.get(stmt.id);
  if (found === undefined) byId.set(stmt.id, (found = findLockCall(stmt) ?? null));
  return found ?? undefined;
}

function findLockCall(stmt: Node): LockCall | undefined {
  const call = stmt.type === 'expression_statement' ? stmt.namedChild(0) : stmt;
  if (call?.type !== 'call_expression') return undefined;
  const fn = call.childForFieldName('function');
  if (fn?.type === 'identifier' && (fn.text === 'lock' || fn.text === 'unlock')) {
    // lock(&m) / unlock(&m): a package's own lock functions (the Go runtime's style).
    const args = call.childForFieldName('arguments');
    const arg = args?.namedChildCount === 1 ? args.namedChild(0) : null;
    const target = arg?.type === 'unary_expression' && arg.child(0)?.text === '&' ? arg.childForFieldName('operand') : null;
    return target ? { method: fn.text === 'lock' ? 'Lock' : 'Unlock', mutex: target, byFunction: true } : undefined;
  }
  if (fn?.type !== 'selector_expression') return undefined;
  const method = fn.childForFieldName('field')?.text;
  const mutex = fn.childForFieldName('operand');
  if (!method || !LOCK_METHODS.has(method) || !mutex) return undefined;
  if ((call.childForFieldName('arguments')?.namedChildCount ?? 0) !== 0) return undefined;
  return { method, mutex };
}

export class LockAnalysis {
  private readonly entries = new Map<string, LockSet>();
  private readonly inProgress = new Set<string>();

  constructor(private readonly pkg: Package, private readonly units: Units) {}

  /** The lock key of a lock call: the mutex's key, or the storage key for lock(&m). */
  keyOf(lc: { mutex: Node; byFunction?: boolean }, file: SourceFile): string | undefined {
    return lc.byFunction ? storageKey(lc.mutex, file, this.pkg, this.units) : mutexKey(lc.mutex, file, this.pkg, this.units);
  }


  /**
   * What calling `unit` does to the locks: `func (c *conn) lock() { c.mu.Lock() }` leaves c.mu
   * held ('w'/'r'); an unlock helper releases it (null value in the map means released).
   */
  private readonly summaries = new Map<string, Map<string, 'r' | 'w' | null>>();

  private summary(unit: FuncUnit, depth: number): Map<string, 'r' | 'w' | null> {
    const key = `${unit.id}@${depth}`;
    let out = this.summaries.get(key);
    if (!out) this.summaries.set(key, (out = this.computeSummary(unit, depth)));
    return out;
  }

  private computeSummary(unit: FuncUnit, depth: number): Map<string, 'r' | 'w' | null> {
    const out = new Map<string, 'r' | 'w' | null>();
    if (!unit.body || depth > 3 || unit.node.type === 'func_literal') return out;
    const list = unit.body.namedChild(0)?.type === 'statement_list' ? unit.body.namedChild(0)! : unit.body;
    const held: LockSet = new Map();
    const released = new Set<string>();
    for (const stmt of list.namedChildren) {
      if (!stmt) continue;
      const before = new Set(held.keys());
      this.apply(stmt, held, unit.file, depth + 1);
      for (const k of before) if (!held.has(k)) released.add(k);
      const lc = lockCall(stmt);
      if (lc && (lc.method === 'Unlock' || lc.method === 'RUnlock')) {
        const key = this.keyOf(lc, unit.file);
        if (key && !before.has(key)) released.add(key);
      }
    }
    // `mu.Lock(); defer mu.Unlock()` releases on return: the caller is left unlocked.
    for (const stmt of list.namedChildren) {
      const deferred = stmt?.type === 'defer_statement' ? stmt.namedChild(0) : null;
      const lc = deferred && lockCall(deferred);
      const key = lc && (lc.method === 'Unlock' || lc.method === 'RUnlock') ? this.keyOf(lc, unit.file) : undefined;
      if (key) held.delete(key);
    }
    for (const k of released) if (!held.has(k)) out.set(k, null);
    for (const [k, m] of held) out.set(k, m);
    return out;
  }

  private apply(stmt: Node, held: LockSet, file: SourceFile, depth = 0): void {
    const lc = lockCall(stmt);
    if (!lc) {
      const callee = depth <= 3 ? this.calleeOf(stmt, file) : undefined;
      if (!callee) return;
      for (const [k, m] of this.summary(callee, depth)) {
        if (m === null) held.delete(k); else held.set(k, m);
      }
      return;
    }
    const key = this.keyOf(lc, file);
    if (!key) return;
    if (lc.method === 'Lock') held.set(key, 'w');
    else if (lc.method === 'RLock') { if (held.get(key) !== 'w') held.set(key, 'r'); }
    else held.delete(key);
  }

  private readonly callees = new Map<Tree, Map<number, FuncUnit | null>>();

  /** The package function an expression statement calls, if any. */
  private calleeOf(stmt: Node, file: SourceFile): FuncUnit | undefined {
    let byId = this.callees.get(stmt.tree);
    if (!byId) this.callees.set(stmt.tree, (byId = new Map()));
    let callee = byId.get(stmt.id);
    if (callee === undefined) {
      const call = stmt.type === 'expression_statement' ? stmt.namedChild(0) : null;
      const fn = call?.type === 'call_expression' ? call.childForFieldName('function') : null;
      byId.set(stmt.id, (callee = (fn && this.units.resolveFunction(fn, file)) || null));
    }
    return callee ?? undefined;
  }

  /**
   * Locks held when control reaches `node` in `unit`. Only statements that precede the node in
   * its enclosing blocks count; locking inside nested branches that end before the node is
   * ignored, so an early `Unlock(); return` keeps the lock held after the branch.
   */
  locksAt(node: Node, unit: FuncUnit): LockSet {
    const held: LockSet = new Map(this.entry(unit));
    this.walkPreceding(node, unit, (stmt) => this.apply(stmt, held, unit.file));
    return held;
  }

  /** Locks held on entry: a literal's at its position; a helper's, those every caller holds. */
  entry(unit: FuncUnit): LockSet {
    const cached = this.entries.get(unit.id);
    if (cached) return cached;
    if (this.inProgress.has(unit.id)) return new Map();
    this.inProgress.add(unit.id);
    let result: LockSet = new Map();
    const spawned = this.units.roots.some((r) => r.unit.id === unit.id && r.kind !== 'api');
    if (unit.parent && !spawned) {
      result = this.locksAt(unit.node, unit.parent);
      const passed = this.lockPassedAlong(unit);
      if (passed) result.set(passed.key, passed.mode);
    } else if (!spawned && unit.name && (/locked$/i.test(unit.name) || !/^[A-Z]/.test(unit.name))) {
      const sites = this.callSites(unit);
      if (sites.length) {
        // Callers that are themselves …Locked helpers hold "whatever is needed": they agree with all.
        // A recursive call (its caller's entry is being computed) agrees with the other callers.
        const all = sites.filter((s) => !this.inProgress.has(s.caller.id)).map((s) => this.locksAt(s.call, s.caller));
        const sets = all.filter((s) => !s.has(ANY_LOCK));
        if (!sets.length) result = all.length || /locked$/i.test(unit.name) ? new Map([[ANY_LOCK, 'w']]) : new Map();
        else for (const [k] of sets[0]) {
          if (sets.every((s) => s.has(k))) result.set(k, sets.every((s) => s.get(k) === 'w') ? 'w' : 'r');
        }
      } else if (/locked$/i.test(unit.name)) {
        result = new Map([[ANY_LOCK, 'w']]);
      }
    }
    this.inProgress.delete(unit.id);
    this.entries.set(unit.id, result);
    return result;
  }

  /**
   * `withLock(mu, func() {...})`, `withLock(rs.closemu.RLocker(), func() {...})`: a literal passed
   * with a mutex (or its RLocker) runs under it — the helper locks around the callback.
   */
  private lockPassedAlong(lit: FuncUnit): { key: string; mode: 'r' | 'w' } | undefined {
    const args = lit.node.parent;
    if (args?.type !== 'argument_list') return undefined;
    for (const arg of args.namedChildren) {
      if (!arg || arg.id === lit.node.id) continue;
      const fn = arg.type === 'call_expression' ? arg.childForFieldName('function') : null;
      if (fn?.type === 'selector_expression' && fn.childForFieldName('field')?.text === 'RLocker') {
        const key = mutexKey(fn.childForFieldName('operand')!, lit.file, this.pkg, this.units);
        if (key) return { key, mode: 'r' };
      }
      const t = typeOfExpr(arg, lit.file, this.pkg);
      const lockable = t && (t.kind === 'mutex' || t.kind === 'rwmutex' || (t.kind === 'pointer' && (t.elem?.kind === 'mutex' || t.elem?.kind === 'rwmutex'))
        || (structName(t) && embeddedMutex(structName(t)!, this.pkg)));
      const key = lockable ? mutexKey(arg, lit.file, this.pkg, this.units) : undefined;
      if (key) return { key, mode: 'w' };
    }
    return undefined;
  }

  /** Lock calls (`x.mu.Lock()`, `RLock`, ...) in a unit's own text, with their mutex keys. */
  lockCalls(unit: FuncUnit): { call: Node; method: string; key: string }[] {
    const out: { call: Node; method: string; key: string }[] = [];
    const text = unit.file.text;
    const re = /\.(R?Lock|R?Unlock)\(\)|(?<![\w$.])(lock|unlock)\(&/g;
    re.lastIndex = unit.start;
    for (let m = re.exec(text); m && m.index < unit.end; m = re.exec(text)) {
      const name = m[1] ?? m[2];
      const at = m[1] ? m.index + 1 : m.index;
      const id = unit.file.root.descendantForIndex(at, at + name.length);
      // `x.mu.Lock()`: field → selector → call; `lock(&m)`: identifier → call.
      const call = m[1] ? id?.parent?.parent : id?.parent;
      const lc = call && lockCall(call);
      const key = lc && this.keyOf(lc, unit.file);
      if (call && lc && key) out.push({ call, method: lc.method, key });
    }
    return out;
  }

  /** Whether `unit`, or what it calls a few levels deep, takes mutex `key` (a deadlock risk under it). */
  takes(unit: FuncUnit, key: string, depth = 0, seen = new Set<string>()): boolean {
    if (depth > 4 || seen.has(unit.id) || !unit.body) return false;
    seen.add(unit.id);
    if (this.lockCalls(unit).some((c) => c.key === key && (c.method === 'Lock' || c.method === 'RLock'))) return true;
    return this.units.callsOf(unit).some((c) => this.takes(c.callee, key, depth + 1, seen));
  }

  /** Positions of `name(` in each file, built in one pass on first use. */
  private callIndex?: Map<string, { file: SourceFile; at: number }[]>;

  /** Calls of `unit` in the package, found by name in the text and resolved in the tree. */
  private callSites(unit: FuncUnit): { caller: FuncUnit; call: Node }[] {
    if (!unit.name) return [];
    if (!this.callIndex) {
      this.callIndex = new Map();
      for (const file of this.pkg.files) {
        for (const m of file.text.matchAll(/(?<![\w$])([A-Za-z_][\w$]*)\s*\(/g)) {
          const list = this.callIndex.get(m[1]);
          const hit = { file, at: m.index! };
          if (list) list.push(hit); else this.callIndex.set(m[1], [hit]);
        }
      }
    }
    const out: { caller: FuncUnit; call: Node }[] = [];
    for (const { file, at } of this.callIndex.get(unit.name) ?? []) {
      // Tests call internals single-threaded, without the locks production callers take.
      if (file.isTest && !unit.file.isTest) continue;
      const name = file.root.descendantForIndex(at, at + unit.name.length);
      const fn = name?.parent?.type === 'selector_expression' ? name.parent : name;
      const call = fn?.parent;
      if (!fn || call?.type !== 'call_expression' || call.childForFieldName('function')?.id !== fn.id) continue;
      if (this.units.resolveFunction(fn, file)?.id !== unit.id) continue;
      const caller = this.units.enclosing(call);
      // init runs before any goroutine: its calls say nothing about the locks callers take.
      let top = caller;
      while (top?.parent) top = top.parent;
      if (caller && !(top?.name === 'init' && !top.recvType)) out.push({ caller, call });
    }
    return out;
  }

  // Lock instances and conservative releases, for double-lock, lock-order-inversion and
  // blocking-under-lock. Nothing above depends on these.

  private readonly ownOps = new Map<string, OwnLockOp[]>();
  private readonly releaseCache = new Map<string, ReleaseEvent[]>();
  private readonly releasedCache = new Map<string, Set<string>>();

  /** Lock calls in `unit`'s own code (nested function literals excluded), in source order. */
  ownLockOps(unit: FuncUnit): OwnLockOp[] {
    let ops = this.ownOps.get(unit.id);
    if (ops) return ops;
    ops = [];
    for (const c of this.lockCalls(unit)) {
      if (this.units.enclosing(c.call)?.id !== unit.id) continue;
      const lc = lockCall(c.call)!;
      const parent = c.call.parent;
      ops.push({ ...c, mutex: lc.mutex, text: mutexText(lc.mutex), deferred: parent?.type === 'defer_statement', statement: parent?.type === 'expression_statement' });
    }
    this.ownOps.set(unit.id, ops);
    return ops;
  }

  /**
   * Mutexes locked by `unit`'s own statements and still held at `node`, as instances: the mutex
   * expression's text (`a.mu` and `b.mu` differ) with its key, mode and the call that took it.
   * The path rules are locksAt's (statements preceding the node in its enclosing blocks; a
   * deferred Unlock keeps the lock), made conservative: an Unlock, or a call of a helper that
   * unlocks, nested in an earlier statement releases the key unless its branch then returns,
   * panics or breaks out past the node. Locks taken by callers are not included.
   */
  heldLocksAt(node: Node, unit: FuncUnit): HeldLock[] {
    const held: HeldLock[] = [];
    const drop = (key: string | undefined, text: string | undefined) => {
      for (let i = held.length - 1; i >= 0; i--) {
        if ((key && held[i].key === key) || (text && held[i].text === text)) held.splice(i, 1);
      }
    };
    this.walkPreceding(node, unit, (stmt) => {
      const lc = lockCall(stmt);
      if (lc) {
        const key = mutexKey(lc.mutex, unit.file, this.pkg, this.units);
        const text = mutexText(lc.mutex);
        if (lc.method === 'Unlock' || lc.method === 'RUnlock') { drop(key, text); return; }
        if (!key) return;
        const mode = lc.method === 'Lock' ? 'w' : 'r';
        const same = held.find((h) => h.text === text);
        if (same) { if (mode === 'w') same.mode = 'w'; } else held.push({ key, text, mode, call: stmt.namedChild(0)!, mutex: lc.mutex });
        return;
      }
      for (const e of this.releasesIn(stmt, unit)) drop(e.key, e.text);
    });
    return held;
  }

  /** locksAt (callers' locks and helper summaries included), with nested releases as in heldLocksAt. */
  heldKeysAt(node: Node, unit: FuncUnit): LockSet {
    const held: LockSet = new Map(this.entry(unit));
    this.walkPreceding(node, unit, (stmt) => {
      this.apply(stmt, held, unit.file);
      if (lockCall(stmt)) return;
      // apply's helper summaries keep `mu.Lock(); defer mu.Unlock()` held after the call: it is not.
      const callee = this.calleeOf(stmt, unit.file);
      if (callee) for (const k of this.deferredUnlocks(callee)) held.delete(k);
      for (const e of this.releasesIn(stmt, unit)) if (e.key) held.delete(e.key);
    });
    return held;
  }

  private readonly deferredCache = new Map<string, Set<string>>();

  /** Keys a function unlocks in a deferred call or deferred closure: released when it returns. */
  private deferredUnlocks(unit: FuncUnit): Set<string> {
    let keys = this.deferredCache.get(unit.id);
    if (keys) return keys;
    keys = new Set();
    for (const c of this.lockCalls(unit)) {
      if (c.method !== 'Unlock' && c.method !== 'RUnlock') continue;
      for (let n = c.call.parent; n && n.id !== unit.node.id; n = n.parent) {
        if (n.type === 'defer_statement') { keys.add(c.key); break; }
      }
    }
    this.deferredCache.set(unit.id, keys);
    return keys;
  }

  /** Visits, outermost block first, the statements that precede `node` in its enclosing blocks. */
  private walkPreceding(node: Node, unit: FuncUnit, visit: (stmt: Node) => void): void {
    if (!unit.body) return;
    const path: Node[] = [];
    for (let n: Node | null = node; n && n.id !== unit.body.id; n = cachedParent(n)) path.push(n);
    path.push(unit.body);
    for (let i = path.length - 1; i > 0; i--) {
      const container = path[i];
      const type = cachedType(container);
      if (type !== 'block' && type !== 'statement_list') continue;
      const child = path[i - 1];
      for (const stmt of cachedNamedChildren(container)) {
        if (!stmt || stmt.startIndex >= child.startIndex) break;
        visit(stmt);
      }
    }
  }

  /** Releases inside `stmt` whose effect can reach the statement after it. */
  private releasesIn(stmt: Node, unit: FuncUnit): ReleaseEvent[] {
    const out: ReleaseEvent[] = [];
    for (const e of this.releaseEvents(unit)) {
      if (e.node.startIndex >= stmt.endIndex) break;
      if (e.node.startIndex >= stmt.startIndex && this.flowsOut(e, stmt)) out.push(e);
    }
    return out;
  }

  /** Unlock calls in a unit's text, and calls of package functions that leave a mutex released. */
  private releaseEvents(unit: FuncUnit): ReleaseEvent[] {
    let events = this.releaseCache.get(unit.id);
    if (events) return events;
    events = [];
    const text = unit.file.text;
    // `mu.Unlock()`, and the method value `mu.Unlock` (`unlock := mu.Unlock`, `t.Cleanup(mu.Unlock)`):
    // whoever calls it may release the mutex, so it counts where it appears.
    const re = /\.R?Unlock(?:\(\)|(?![\w$(]))/g;
    re.lastIndex = unit.start;
    for (let m = re.exec(text); m && m.index < unit.end; m = re.exec(text)) {
      const name = m[0].replace(/[.()]/g, '');
      const sel = unit.file.root.descendantForIndex(m.index + 1, m.index + 1 + name.length)?.parent;
      if (sel?.type !== 'selector_expression') continue;
      const call = sel.parent?.type === 'call_expression' && sel.parent.childForFieldName('function')?.id === sel.id ? sel.parent : null;
      const lc = call ? lockCall(call) : undefined;
      const mutex = call ? lc?.mutex : sel.childForFieldName('operand');
      if (!mutex || (call && !lc)) continue;
      events.push({ node: call ?? sel, key: mutexKey(mutex, unit.file, this.pkg, this.units), text: mutexText(mutex) });
    }
    for (const c of this.units.callsOf(unit)) {
      for (const key of this.releasedBy(c.callee)) events.push({ node: c.call, key });
    }
    events.sort((a, b) => a.node.startIndex - b.node.startIndex);
    this.releaseCache.set(unit.id, events);
    return events;
  }

  /** Keys a call of `unit` may leave released: its first operation on the key is an Unlock (or, with none, a callee's is). */
  private releasedBy(unit: FuncUnit, depth = 0, seen = new Set<string>()): Set<string> {
    const cached = depth === 0 ? this.releasedCache.get(unit.id) : undefined;
    if (cached) return cached;
    const out = new Set<string>();
    if (depth > 2 || seen.has(unit.id) || !unit.body) return out;
    seen.add(unit.id);
    const first = new Map<string, string>();
    for (const op of this.ownLockOps(unit)) if (!first.has(op.key)) first.set(op.key, op.method);
    for (const [k, m] of first) if (m === 'Unlock' || m === 'RUnlock') out.add(k);
    for (const c of this.units.callsOf(unit)) {
      if (this.units.enclosing(c.call)?.id !== unit.id) continue;
      for (const k of this.releasedBy(c.callee, depth + 1, seen)) if (!first.has(k)) out.add(k);
    }
    if (depth === 0) this.releasedCache.set(unit.id, out);
    return out;
  }

  /**
   * Whether a release nested in `top` reaches the end of `top`: not deferred, and no enclosing
   * block inside `top` returns, panics, breaks out past `top` or locks the key again after it.
   * A release inside a function literal (other than a deferred one) counts: it may run, say in a
   * goroutine that unlocks a mutex used as a semaphore.
   */
  private flowsOut(e: ReleaseEvent, top: Node): boolean {
    let child = e.node;
    for (let n = e.node.parent; n; child = n, n = n.parent) {
      if (n.type === 'defer_statement') return false;
      if (n.type === 'func_literal') {
        const call = n.parent;
        return !(call?.type === 'call_expression' && call.parent?.type === 'defer_statement');
      }
      if (n.type === 'block' || n.type === 'statement_list') {
        let after = false;
        for (const s of n.namedChildren) {
          if (!s) continue;
          if (s.id === child.id) { after = true; continue; }
          if (!after) continue;
          if (this.terminates(s, top)) return false;
          const lc = lockCall(s);
          if (e.key && lc && (lc.method === 'Lock' || lc.method === 'RLock') && mutexKey(lc.mutex, this.pkg.fileOf(s)!, this.pkg, this.units) === e.key) return false;
        }
      }
      if (n.id === top.id) return true;
    }
    return true;
  }

  /** `s` leaves the enclosing statements for good: return, panic, log.Fatal, or break/continue of a loop around `top`. */
  private terminates(s: Node, top: Node): boolean {
    switch (s.type) {
      case 'return_statement':
        return true;
      case 'expression_statement': {
        const call = s.namedChild(0);
        const fn = call?.type === 'call_expression' ? call.childForFieldName('function') : null;
        if (fn?.type === 'identifier') return fn.text === 'panic';
        if (fn?.type !== 'selector_expression') return false;
        const name = fn.childForFieldName('field')?.text ?? '';
        return /^(?:Fatal|Fatalf|Fatalln|Panic|Panicf|Panicln|FailNow|SkipNow|Skip|Skipf|Goexit)$/.test(name)
          || (name === 'Exit' && fn.childForFieldName('operand')?.text === 'os');
      }
      case 'break_statement':
      case 'continue_statement': {
        const label = s.namedChild(0)?.text;
        let target: Node | null = null;
        for (let n = s.parent; n && !target; n = n.parent) {
          if (n.type === 'func_literal' || n.type === 'function_declaration' || n.type === 'method_declaration') break;
          if (label) {
            if (n.type === 'labeled_statement' && n.childForFieldName('label')?.text === label) target = n;
          } else if (n.type === 'for_statement' || (s.type === 'break_statement'
            && (n.type === 'expression_switch_statement' || n.type === 'type_switch_statement' || n.type === 'select_statement'))) {
            target = n;
          }
        }
        return !!target && target.id !== top.id && target.startIndex <= top.startIndex && top.endIndex <= target.endIndex;
      }
      default:
        return false;
    }
  }
}

/** Two accesses exclude each other when both hold one mutex and at least one holds it for writing. */
export function excludes(a: LockSet, b: LockSet): boolean {
  if (a.has(ANY_LOCK) || b.has(ANY_LOCK)) return true;
  for (const [k, m] of a) {
    const other = b.get(k);
    if (other && (m === 'w' || other === 'w')) return true;
  }
  return false;
}

/** A mutex held at a point, as the instance the code names (LockAnalysis.heldLocksAt). */
export interface HeldLock {
  key: string;
  /** The mutex expression without whitespace: `a.mu`, `mu`, `s` (an embedded mutex). */
  text: string;
  mode: 'r' | 'w';
  /** The Lock/RLock call that took it. */
  call: Node;
  mutex: Node;
}

/** A lock call in a unit's own code (LockAnalysis.ownLockOps). */
export interface OwnLockOp {
  call: Node;
  method: string;
  key: string;
  mutex: Node;
  text: string;
  /** `defer mu.Unlock()`. */
  deferred: boolean;
  /** A statement of its own (`mu.Lock()` on a line), not a deferred or nested call. */
  statement: boolean;
}

interface ReleaseEvent { node: Node; key?: string; text?: string }

/** A mutex expression's text without whitespace: how instances are compared within a function. */
export function mutexText(mutex: Node): string {
  return mutex.text.replace(/\s+/g, '');
}
