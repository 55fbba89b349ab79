// Where code runs concurrently: the goroutines a package starts (go statements, errgroup.Go,
// time.AfterFunc), HTTP handlers (registered, or by signature), and the exported methods of types
// that lock (RacerD's assumption: a type with a mutex means to be used from several goroutines).
// Each root knows its spawn site and whether it runs concurrently with itself (a handler, a `go`
// in a loop, a goroutine started by code that is itself concurrent). `reach` says which roots'
// threads may run a function, following synchronous calls only.
import type { Node } from 'web-tree-sitter';
import type { Fact } from '../fact';
import type { Package } from '../package';
import type { SourceFile } from '../source-file';
import { findLocalDeclaration } from '../scope';
import { argumentsOf, parameterNames } from '../syntax';
import { cachedParent, cachedType } from '../tree-cache';
import { CallGraphFact, type CallGraph } from './callgraph';
import { FunctionsFact, isHandlerSignature, type FuncUnit, type Functions } from './functions';

export type RootKind = 'goroutine' | 'handler' | 'callback' | 'api';

/** A place where code starts running concurrently with the rest. */
export interface Root {
  unit: FuncUnit;
  kind: RootKind;
  /** Runs concurrently with other runs of itself. */
  self: boolean;
  /** Why it runs concurrently with itself, for messages. */
  selfWhy?: string;
  /** The go statement, registration or server start that starts it. */
  site?: Node;
  /** The unit containing the site. */
  spawner?: FuncUnit;
  /** `c := newConn(); go c.serve()`: each start has a receiver of its own, so runs share no receiver fields. */
  freshReceiver?: boolean;
}

/** Registrations that start concurrent work, found by text and then checked in the tree. */
const SPAWN_CALLS = /\.(HandleFunc|Handle|Go|AfterFunc)\s*\(/g;
/** Calls that start serving registered handlers. */
const SERVE_CALLS = /\.(?:ListenAndServe|ListenAndServeTLS|Serve|ServeTLS)\s*\(/g;
const GO_KEYWORD = /(?<![\w$.])go(?=\s+[\w(])/g;

export class Goroutines {
  readonly roots: Root[] = [];
  private reachAll?: Map<FuncUnit, Set<Root>>;
  private reachRecv?: Map<FuncUnit, Set<Root>>;
  private spawned?: Map<FuncUnit, Root[]>;

  constructor(readonly pkg: Package, readonly fns: Functions, readonly calls: CallGraph) {
    if (isGoRuntime(pkg) || !pkg.files.some((f) => CONCURRENCY_HINT.test(f.text))) return;
    const handlers: FuncUnit[] = [];
    for (const file of pkg.files) this.findRoots(file, handlers);
    this.addSignatureHandlers(handlers);
    this.addApiRoots();
    this.markSelfConcurrentSpawns();
  }

  /** Roots whose thread may run `u` (synchronous calls from the root's function). */
  reach(u: FuncUnit): ReadonlySet<Root> {
    this.reachAll ??= this.propagate(false);
    return this.reachAll.get(u) ?? EMPTY;
  }

  /**
   * Roots that may run `u` on the same receiver: reached through calls on the receiver only, and
   * running on `u`'s receiver type (its methods, or goroutines they start).
   */
  reachOnReceiver(u: FuncUnit): ReadonlySet<Root> {
    this.reachRecv ??= this.propagate(true);
    const roots = this.reachRecv.get(u);
    if (!roots?.size) return EMPTY;
    const type = u.outermost.recvType;
    return new Set([...roots].filter((r) => r.unit.outermost.recvType === type || r.spawner?.outermost.recvType === type));
  }

  /** The functions a root's thread may run (the inverse of `reach`). */
  unitsOf(r: Root): readonly FuncUnit[] {
    if (!this.unitsByRoot) {
      this.reachAll ??= this.propagate(false);
      this.unitsByRoot = new Map();
      for (const [u, roots] of this.reachAll) {
        for (const x of roots) {
          const list = this.unitsByRoot.get(x);
          if (list) list.push(u); else this.unitsByRoot.set(x, [u]);
        }
      }
    }
    return this.unitsByRoot.get(r) ?? [];
  }

  private unitsByRoot?: Map<Root, FuncUnit[]>;

  /** Goroutines and callbacks started in `u` (not api roots), in source order. */
  spawnedIn(u: FuncUnit): readonly Root[] {
    if (!this.spawned) {
      this.spawned = new Map();
      for (const r of this.roots) {
        if (!r.spawner || !r.site || r.kind === 'api') continue;
        const list = this.spawned.get(r.spawner);
        if (list) list.push(r); else this.spawned.set(r.spawner, [r]);
      }
    }
    return this.spawned.get(u) ?? [];
  }

  /** Whether `u` runs in a concurrent root's thread, or starts goroutines itself. */
  mayRunConcurrently(u: FuncUnit): boolean {
    return this.reach(u).size > 0 || this.spawnedIn(u).length > 0;
  }

  /** A root's place in `roots`: a number for cache keys (facts ask for every pair of accesses). */
  indexOf(r: Root): number {
    if (!this.indexes) this.indexes = new Map(this.roots.map((x, i) => [x, i]));
    return this.indexes.get(r) ?? -1;
  }

  private indexes?: Map<Root, number>;

  private add(root: Root): void {
    if (this.roots.some((r) => r.unit === root.unit && r.site?.id === root.site?.id && r.kind === root.kind)) return;
    this.roots.push(root);
    this.reachAll = this.reachRecv = this.spawned = this.indexes = this.unitsByRoot = undefined;
  }

  private findRoots(file: SourceFile, handlers: FuncUnit[]): void {
    // Handlers by signature: only functions whose text mentions ResponseWriter need a look.
    const checked = new Set<FuncUnit>();
    for (const m of file.text.matchAll(/ResponseWriter/g)) {
      const u = this.fns.unitAt(file, m.index!);
      if (!u || checked.has(u)) continue;
      checked.add(u);
      if (isHandlerSignature(u.node, file)) handlers.push(u);
    }
    for (const m of file.text.matchAll(GO_KEYWORD)) {
      const stmt = file.root.descendantForIndex(m.index!, m.index! + 2)?.parent;
      if (stmt?.type !== 'go_statement') continue;
      const call = stmt.namedChild(0);
      const spawner = this.fns.enclosing(stmt);
      if (call?.type !== 'call_expression' || !spawner) continue;
      const loop = loopAround(stmt, spawner) && !freshPerIteration(call, stmt);
      const fresh = !loop && freshReceiver(call, stmt);
      for (const e of this.calls.edgesOf(call, spawner)) {
        if (e.how === 'callback' || e.how === 'stringer') continue;
        this.add({ unit: e.callee, kind: 'goroutine', self: loop, selfWhy: loop ? `it is started in a loop (${where(stmt, spawner)})` : undefined, site: stmt, spawner, ...(fresh && { freshReceiver: true }) });
      }
    }
    for (const m of file.text.matchAll(SPAWN_CALLS)) {
      const method = m[1];
      const field = file.root.descendantForIndex(m.index! + 1, m.index! + 1 + method.length);
      const sel = field?.parent;
      const call = sel?.parent;
      if (field?.type !== 'field_identifier' || sel?.type !== 'selector_expression' || call?.type !== 'call_expression') continue;
      const spawner = this.fns.enclosing(call);
      if (!spawner) continue;
      const args = argumentsOf(call);
      const operand = sel.childForFieldName('operand');
      let fnArg: Node | undefined;
      let kind: RootKind = 'goroutine';
      if ((method === 'HandleFunc' || method === 'Handle') && args.length === 2) { fnArg = unwrapHandler(args[1]); kind = 'handler'; }
      else if (method === 'Go' && args.length === 1) fnArg = args[0];
      else if (method === 'AfterFunc' && args.length === 2 && operand?.type === 'identifier' && (file.refersToImport(operand, 'time') || file.refersToImport(operand, 'context'))) { fnArg = args[1]; kind = 'callback'; }
      if (!fnArg) continue;
      let targets = this.calls.resolve(fnArg, file);
      if (!targets.length && kind === 'handler') {
        // An object with a ServeHTTP method.
        const type = this.calls.typeNameOf(fnArg, file);
        const serve = type ? this.fns.method(type, 'ServeHTTP') : undefined;
        if (serve) targets = [serve];
      }
      const loop = loopAround(call, spawner);
      const site = kind === 'handler' ? serveAfter(call, spawner) ?? call : call;
      for (const unit of targets) {
        const self = kind === 'handler' || loop;
        this.add({ unit, kind, self, selfWhy: kind === 'handler' ? 'an HTTP handler runs once per request, concurrently' : loop ? `it is started in a loop (${where(call, spawner)})` : undefined, site, spawner });
      }
    }
  }

  /**
   * Handlers known by their signature alone (a ServeHTTP method, a handler literal a method returns)
   * run once their type's server serves: from the Serve or ListenAndServe calls in the methods of
   * the same type, or, when that call is in a goroutine, from the go statement that starts it.
   */
  private addSignatureHandlers(handlers: FuncUnit[]): void {
    const why = 'an HTTP handler runs once per request, concurrently';
    let starts: { site: Node; spawner: FuncUnit; type?: string }[] | undefined;
    for (const u of handlers) {
      if (this.roots.some((r) => r.unit === u && r.kind === 'handler')) continue; // registered: its site is known
      starts ??= this.serverStarts();
      const type = u.outermost.recvType;
      const mine = type ? starts.filter((s) => s.type === type) : [];
      if (!mine.length) { this.add({ unit: u, kind: 'handler', self: true, selfWhy: why }); continue; }
      for (const s of mine) this.add({ unit: u, kind: 'handler', self: true, selfWhy: why, site: s.site, spawner: s.spawner });
    }
  }

  /** Calls that start an HTTP server, lifted to the go statement when one starts them in a goroutine. */
  private serverStarts(): { site: Node; spawner: FuncUnit; type?: string }[] {
    const out: { site: Node; spawner: FuncUnit; type?: string }[] = [];
    for (const file of this.pkg.files) {
      for (const m of file.text.matchAll(SERVE_CALLS)) {
        const call = file.root.descendantForIndex(m.index! + 1, m.index! + 2)?.parent?.parent;
        let spawner = call?.type === 'call_expression' ? this.fns.enclosing(call) : undefined;
        let site: Node | undefined = call ?? undefined;
        for (let depth = 0; spawner?.isLiteral && depth < 4; depth++) {
          const root = this.roots.find((r) => r.unit === spawner && r.site && r.spawner && r.kind === 'goroutine');
          if (!root) break;
          site = root.site!;
          spawner = root.spawner!;
        }
        if (site && spawner) out.push({ site, spawner, type: spawner.outermost.recvType });
      }
    }
    return out;
  }

  /** Exported methods of a struct that locks may be called concurrently (RacerD's assumption). */
  private addApiRoots(): void {
    const locking = new Set<string>();
    for (const file of this.pkg.files) {
      for (const m of file.text.matchAll(/\.R?Lock\(\)/g)) {
        const u = this.fns.unitAt(file, m.index!)?.outermost;
        if (u?.recvType) locking.add(u.recvType);
      }
    }
    for (const u of this.fns.all) {
      // Different exported methods may run at once; one method is not assumed to race with itself.
      if (u.recvType && locking.has(u.recvType) && u.name && /^[A-Z]/.test(u.name) && !u.isLiteral) this.add({ unit: u, kind: 'api', self: false });
    }
  }

  /** A goroutine started by code that runs concurrently with itself runs concurrently with itself. */
  private markSelfConcurrentSpawns(): void {
    // Without a root that runs concurrently with itself there is nothing to pass on (and no reach to compute).
    if (!this.roots.some((r) => r.self)) return;
    // Reach depends on the roots and the calls, not on `self`: one propagation serves every round.
    for (let changed = true, round = 0; changed && round < 4; round++) { // a budget: spawn chains are short
      changed = false;
      for (const r of this.roots) {
        if (r.self || !r.spawner || r.kind === 'api') continue;
        const outers = [...this.reach(r.spawner)].filter((x) => x.self && x !== r);
        if (outers.length) {
          r.self = true;
          r.selfWhy = `it is started by ${outers[0].unit.label}, which runs concurrently with itself`;
          // `go func(g *Group) { g.run() }(g)` in a loop: each run has its own receiver.
          if (outers.every((o) => this.receiverPerRun(o, r.spawner!))) r.freshReceiver = true;
          changed = true;
        }
      }
    }
  }

  /**
   * The runs of `outer` reach method `spawner` only on a receiver of their own: outer is a literal
   * that calls it on one of its parameters (each start passes its own value), or a root with a
   * fresh receiver whose own method it is.
   */
  private receiverPerRun(outer: Root, spawner: FuncUnit): boolean {
    const method = spawner.outermost;
    if (!method.recvType) return false;
    if (outer.freshReceiver && outer.unit.outermost.recvType === method.recvType) return true;
    if (!outer.unit.isLiteral) return false;
    const params = parameterNames(outer.unit.node);
    const calls = this.calls.callsIn(outer.unit).filter((e) => e.callee === method);
    return calls.length > 0 && calls.every((e) => e.receiver?.type === 'identifier' && params.includes(e.receiver.text) && findLocalDeclaration(e.receiver, e.receiver.text)?.id === outer.unit.node.id);
  }

  /** Per unit, the units its thread runs next (synchronous callees, literals not started apart), per mode. */
  private readonly successors = [new Map<FuncUnit, FuncUnit[]>(), new Map<FuncUnit, FuncUnit[]>()];

  private successorsOf(u: FuncUnit, onReceiver: boolean, spawnedUnits: ReadonlySet<FuncUnit>): FuncUnit[] {
    const cache = this.successors[onReceiver ? 1 : 0];
    let next = cache.get(u);
    if (next) return next;
    next = [];
    for (const e of this.calls.callsIn(u)) {
      if (e.role === 'go') continue;
      if (onReceiver && !(e.receiver?.type === 'identifier' && this.fns.isReceiver(e.receiver)) && !e.callee.isLiteral) continue;
      next.push(e.callee);
    }
    // Literals inside run in the same thread (stored callbacks, deferred code) unless started apart.
    for (const lit of u.literals) if (!spawnedUnits.has(lit)) next.push(lit);
    cache.set(u, next);
    return next;
  }

  private propagate(onReceiver: boolean): Map<FuncUnit, Set<Root>> {
    const out = new Map<FuncUnit, Set<Root>>();
    const spawnedUnits = new Set(this.roots.filter((r) => r.kind !== 'api').map((r) => r.unit));
    this.successors[onReceiver ? 1 : 0].clear(); // literals started apart depend on the roots
    // Depth first from each root, in the same order as always: callsIn resolves lazily, in visit order.
    const seen = new Int32Array(this.fns.all.length).fill(-1);
    this.roots.forEach((root, stamp) => {
      const work = [root.unit];
      while (work.length) {
        const u = work.pop()!;
        if (seen[u.index] === stamp) continue;
        seen[u.index] = stamp;
        let set = out.get(u);
        if (!set) out.set(u, (set = new Set()));
        set.add(root);
        for (const next of this.successorsOf(u, onReceiver, spawnedUnits)) work.push(next);
      }
    });
    return out;
  }
}

const EMPTY: ReadonlySet<Root> = new Set();

/**
 * Text without any of these cannot start concurrent work or take a read lock: no roots. (Exported
 * methods alone never race with each other; a read lock says readers run concurrently.)
 */
const CONCURRENCY_HINT = /\bgo\s+[\w(]|ResponseWriter|\.(?:HandleFunc|Handle|Go|AfterFunc)\s*\(|\.RLock\(\)/;

/**
 * The Go runtime implements goroutines and locks: it synchronises by stopping the world, running
 * on the system stack and disabling preemption, none of which this analysis can see.
 */
function isGoRuntime(pkg: Package): boolean {
  return pkg.name === 'runtime' && /[\\/]runtime$/.test(pkg.dir);
}

function where(node: Node, unit: FuncUnit): string {
  return `${unit.file.path.replace(/^.*[\\/]/, '')}:${unit.file.positionAt(node.startIndex).line + 1}`;
}

/** A `for` between `node` and its function's body. */
function loopAround(node: Node, unit: FuncUnit): boolean {
  for (let n = cachedParent(node); n && n.id !== unit.node.id; n = cachedParent(n)) {
    if (cachedType(n) === 'for_statement') return true;
  }
  return false;
}

/** `go c.serve()` where c is declared inside the loop: each goroutine has its own receiver. */
function freshPerIteration(call: Node, goStmt: Node): boolean {
  const decl = receiverDecl(call);
  if (!decl || !madeFresh(decl)) return false;
  for (let n = goStmt.parent; n; n = n.parent) {
    if (n.type === 'for_statement') return decl.startIndex > n.startIndex && decl.endIndex <= n.endIndex;
  }
  return false;
}

/** The local declaration of `c` in `c.serve()`, if c is a local. */
function receiverDecl(call: Node): Node | null {
  const fn = call.childForFieldName('function');
  const operand = fn?.type === 'selector_expression' ? fn.childForFieldName('operand') : null;
  return operand?.type === 'identifier' ? findLocalDeclaration(operand, operand.text) : null;
}

/**
 * `c := newConn(...); go c.serve()` with no loop in between: every start has a receiver of its own,
 * made by a call or a composite literal (an object racelens assumes is new, as RacerD's ownership does).
 */
function freshReceiver(call: Node, goStmt: Node): boolean {
  const decl = receiverDecl(call);
  return !!decl && madeFresh(decl) && !sharedAcrossStarts(decl, goStmt);
}

/** `c := newConn(...)`, `c := &conn{...}`: a call or a composite literal makes the value. */
function madeFresh(decl: Node): boolean {
  if (decl.type !== 'short_var_declaration') return false;
  const right = decl.childForFieldName('right')?.namedChild(0);
  const value = right?.type === 'unary_expression' ? right.namedChild(0) : right;
  return value?.type === 'call_expression' || value?.type === 'composite_literal';
}

/**
 * Whether one local variable (declared by `decl`) is shared by several goroutines started at
 * `site`: a loop runs the start more than once per declaration. A variable declared inside the
 * loop body, or in a function run once per start, is a new variable each time. Loop header
 * variables count as shared (before Go 1.22 they were; loop-var-capture says more).
 */
export function sharedAcrossStarts(decl: Node, site: Node): boolean {
  for (let n = cachedParent(site); n; n = cachedParent(n)) {
    if (n.id === decl.id) return cachedType(n) === 'for_statement';
    if (n.startIndex <= decl.startIndex && decl.endIndex <= n.endIndex) return false;
    if (cachedType(n) === 'for_statement') return true;
  }
  return false;
}

/** `http.HandlerFunc(f)` → f. */
function unwrapHandler(arg: Node): Node {
  if (arg.type === 'call_expression' && /(?:^|\.)HandlerFunc$/.test(arg.childForFieldName('function')?.text ?? '')) {
    const inner = argumentsOf(arg)[0];
    if (inner) return inner;
  }
  return arg;
}

/** A handler runs once the server serves: the first Serve/ListenAndServe call after the registration, if the same function makes it. */
function serveAfter(registration: Node, spawner: FuncUnit): Node | undefined {
  const from = registration.endIndex;
  for (const m of spawner.file.text.slice(from, spawner.end).matchAll(SERVE_CALLS)) {
    const at = from + m.index!;
    const call = spawner.file.root.descendantForIndex(at + 1, at + 2)?.parent?.parent;
    if (call?.type === 'call_expression' && spawner.owns(call.startIndex)) return call;
  }
  return undefined;
}

export const GoroutinesFact: Fact<Goroutines> = {
  name: 'Goroutines',
  build: (facts) => new Goroutines(facts.pkg, facts.get(FunctionsFact), facts.get(CallGraphFact)),
};
