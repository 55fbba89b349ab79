// Lock regions: which mutexes are held at a point of a function, from x.mu.Lock()/Unlock(),
// RLock/RUnlock, defer, embedded mutexes, and locks held by every caller of a helper.
import type { Node } from 'web-tree-sitter';
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
    return pkg.decls.get(expr.text)?.some((d) => d.type === 'var_spec') ? `pkgvar:${expr.text}` : undefined;
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

/** If `stmt` is `x.Lock()` and friends, the method and the mutex expression. */
export function lockCall(stmt: Node): { method: string; mutex: Node; byFunction?: boolean } | undefined {
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
  private summary(unit: FuncUnit, depth: number): Map<string, 'r' | 'w' | null> {
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
    for (const k of released) if (!held.has(k)) out.set(k, null);
    for (const [k, m] of held) out.set(k, m);
    return out;
  }

  private apply(stmt: Node, held: LockSet, file: SourceFile, depth = 0): void {
    const lc = lockCall(stmt);
    if (!lc) {
      const call = stmt.type === 'expression_statement' ? stmt.namedChild(0) : null;
      const fn = call?.type === 'call_expression' ? call.childForFieldName('function') : null;
      const callee = fn && depth <= 3 ? this.units.resolveFunction(fn, file) : undefined;
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

  /**
   * Locks held when control reaches `node` in `unit`. Only statements that precede the node in
   * its enclosing blocks count; locking inside nested branches that end before the node is
   * ignored, so an early `Unlock(); return` keeps the lock held after the branch.
   */
  locksAt(node: Node, unit: FuncUnit): LockSet {
    const held: LockSet = new Map(this.entry(unit));
    if (!unit.body) return held;
    const path: Node[] = [];
    for (let n: Node | null = node; n && n.id !== unit.body.id; n = n.parent) path.push(n);
    path.push(unit.body);
    for (let i = path.length - 1; i > 0; i--) {
      const container = path[i];
      if (container.type !== 'block' && container.type !== 'statement_list') continue;
      const child = path[i - 1];
      for (const stmt of container.namedChildren) {
        if (!stmt || stmt.startIndex >= child.startIndex) break;
        this.apply(stmt, held, unit.file);
      }
    }
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
