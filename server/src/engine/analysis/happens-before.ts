// Happens-before between code and the goroutines a package starts:
//  - program order before a spawn: what a function does before its `go` statement (or before the
//    server start that runs its handlers) happens before the goroutine, on every path (CFG);
//  - joins: after `wg.Wait()` for a goroutine that calls `wg.Done()` at its end, after
//    `errgroup.Wait()` for one started with `errgroup.Go`, after a receive from (or a range over) a
//    channel that the goroutine sends on or closes at its end, the goroutine has finished;
//  - two goroutines of one function are ordered when the first is joined before the second starts;
//  - lifecycle (a documented, conservative heuristic): an exported method whose name or doc comment
//    puts it before the start of a type's goroutines (Init, Register…, Configure, Setup, Validate;
//    "must be called before Start") runs before the goroutines started by its Start, Connect,
//    Open, Serve, Run or Gather methods;
//  - publication through an atomic flag: a value written once before `flag.Store(...)` and read
//    only under `if flag.Load()`.
import type { Node } from 'web-tree-sitter';
import type { Fact } from '../fact';
import { argumentsOf } from '../syntax';
import { cachedParent, cachedType } from '../tree-cache';
import { CallGraphFact, type CallGraph } from './callgraph';
import { CfgFact, type Cfg, type Cfgs, type FlowNode } from './cfg';
import { FunctionsFact, type FuncUnit, type Functions } from './functions';
import { GoroutinesFact, type Goroutines, type Root } from './goroutines';
import { LockKeys, type LockKey } from './lock-keys';
import { docComment } from './lock-state';

export type Order = 'before' | 'after' | 'concurrent' | 'unknown';

/** The thread an access runs in: a root's, or code no root runs ('main'). */
export type Thread = Root | 'main';

/** Methods that configure an object before it starts: phase 1. */
const CONFIGURE = /^(?:Init|Initialize|Setup|SetUp|Configure|Register\w*|Validate|Prepare|Parse\w*|Load|LoadConfig|ApplyConfig)$/;
/** Methods that start it: phase 2. Everything else runs once it runs: phase 3. */
const START = /^(?:Start|Connect|Open|Listen|Dial|Begin|Launch)$/;
const CALLED_BEFORE = /(?:must|should|has to|needs to)\s+be\s+called\s+before\s+(?:[\w.]*\.)?(\w+)/i;

export class HappensBefore {
  private readonly keys: LockKeys;
  private readonly joins = new Map<Root, Set<number>>();
  private readonly afterSpawn = new Map<Root, { all: Uint8Array; unjoined: Uint8Array }>();

  constructor(readonly fns: Functions, readonly calls: CallGraph, readonly cfgs: Cfgs, readonly goroutines: Goroutines) {
    this.keys = new LockKeys(fns.pkg);
  }

  /**
   * How an access at `offset` in `unit` is ordered against everything goroutine `g` does:
   * 'before' it starts or 'after' it is joined on every path, 'concurrent' when some path runs it
   * while g may run, 'unknown' when the access is not in g's spawner (or a helper only it calls).
   */
  orderAgainst(unit: FuncUnit, offset: number, g: Root, thread?: Thread): Order {
    if (!g.site || !g.spawner) return 'unknown';
    // Race checks ask for every pair of accesses: each access against each root once.
    const key = `${unit.index}:${offset}:${this.goroutines.indexOf(g)}:${thread === undefined ? '-' : thread === 'main' ? 'main' : this.goroutines.indexOf(thread)}`;
    let order = this.orders.get(key);
    if (!order) this.orders.set(key, (order = this.computeOrder(unit, offset, g, thread)));
    return order;
  }

  private readonly orders = new Map<string, Order>();

  private computeOrder(unit: FuncUnit, offset: number, g: Root, thread?: Thread): Order {
    if (!g.site || !g.spawner) return 'unknown';
    const s = g.spawner;
    const cfg = this.cfgs.of(s);
    const spawn = cfg.nodeAt(g.site.startIndex);
    if (!spawn) return 'unknown';
    const after = this.after(g, cfg, spawn);
    const points = this.pointsIn(s, unit, offset, 0, thread);
    if (!points?.length && thread && thread !== 'main' && this.beforeSpawningCalls(unit, offset, g, thread)) return 'before';
    if (!points?.length) {
      // g is joined before its spawner returns: code the same thread runs outside the spawner's
      // calls runs before the spawner starts or after it returns.
      const contained = !after.unjoined[cfg.exit];
      const runsSpawner = thread === undefined ? false : thread === 'main' ? !this.goroutines.reach(s).size : this.goroutines.reach(s).has(thread);
      return contained && runsSpawner && !this.calledFrom(s).has(unit) ? 'before' : 'unknown';
    }
    let before = 0, joined = 0;
    for (const p of points) {
      if (p === spawn.id || !after.all[p]) before++;
      else if (!after.unjoined[p]) joined++;
      else return 'concurrent';
    }
    return before === points.length ? 'before' : joined === points.length ? 'after' : 'before';
  }

  /**
   * `t.cfg = load(); t.startWorkers()`: in root `t`'s own function, the access comes before every
   * call that leads to g's spawner, and no other thread runs that spawner before `t` (lifecycle).
   * When g is joined before its spawner returns, an access after the call is ordered too.
   */
  private beforeSpawningCalls(unit: FuncUnit, offset: number, g: Root, t: Root): boolean {
    const top = t.unit;
    const s = g.spawner!;
    if (s === top || top.isLiteral) return false;
    for (const r of this.goroutines.reach(s)) {
      if (r !== t && !(t.kind === 'api' && r.kind === 'api' && this.lifecycleBefore(top, r))) return false;
    }
    const cfg = this.cfgs.of(top);
    const points = unit === top ? [cfg.nodeAt(offset)?.id].filter((x): x is number => x !== undefined) : this.pointsIn(top, unit, offset, 1, t);
    if (!points?.length) return false;
    const calls = new Set<number>();
    for (const e of this.calls.callsIn(top)) {
      if (e.role === 'go' || !this.calledFrom(e.callee).has(s)) continue;
      const n = cfg.nodeAt(e.call.startIndex);
      if (!n) return false;
      calls.add(n.id);
    }
    for (const lit of top.literals) if (this.calledFrom(lit).has(s)) return false; // run from a literal: racelens does not place it
    if (!calls.size) return false;
    const spawnCfg = this.cfgs.of(s);
    const spawn = spawnCfg.nodeAt(g.site!.startIndex);
    const contained = !!spawn && !this.after(g, spawnCfg, spawn).unjoined[spawnCfg.exit];
    const afterCalls = cfg.reachableFrom([...calls].flatMap((id) => cfg.nodes[id].succ));
    return points.every((p) => !calls.has(p) && (contained || !afterCalls[p]));
  }

  /**
   * Two goroutines started in different branches of one if or switch (`if udp { go a() } else {
   * go b() }`), directly or through the goroutines that start them: one run of that function starts
   * only one of them. racelens assumes the condition does not change between runs.
   */
  startedExclusively(x: Root, y: Root): boolean {
    const cx = this.startChain(x), cy = this.startChain(y);
    for (const a of cx) {
      for (const b of cy) if (a.unit === b.unit && a.site.id !== b.site.id && otherBranches(a.site, b.site, a.unit)) return true;
    }
    return false;
  }

  /** Where r starts, then where the one goroutine running its spawner starts, and so on (four deep: a budget). */
  private startChain(r: Root): { unit: FuncUnit; site: Node }[] {
    const out: { unit: FuncUnit; site: Node }[] = [];
    for (let cur: Root | undefined = r; cur?.site && cur.spawner && out.length < 4; ) {
      out.push({ unit: cur.spawner, site: cur.site });
      const up: Root[] = [...this.goroutines.reach(cur.spawner)];
      cur = up.length === 1 && up[0] !== cur && !up[0].self ? up[0] : undefined;
    }
    return out;
  }

  /**
   * `g.wg.Wait()` on every path to the access, where goroutine `r` ends with `g.wg.Done()` on the
   * same WaitGroup field: the access comes after r (racelens assumes r was added before the Wait,
   * as WaitGroup requires).
   */
  waitedFor(unit: FuncUnit, offset: number, r: Root): boolean {
    if (!r.site || !r.spawner) return false;
    const groups = this.doneGroups(r);
    if (!groups.size) return false;
    const waits = this.waitsIn(unit);
    if (!waits.size) return false;
    const cfg = this.cfgs.of(unit);
    const at = cfg.nodeAt(offset);
    if (!at) return false;
    for (const id of groups) {
      const w = waits.get(id);
      if (!w || w.nodes.has(at.id)) continue;
      w.unwaited ??= cfg.reachableFrom([cfg.entry], (n) => w.nodes.has(n.id));
      if (!w.unwaited[at.id]) return true;
    }
    return false;
  }

  private readonly waits = new Map<FuncUnit, Map<string, { nodes: Set<number>; unwaited?: Uint8Array }>>();

  /** The `x.wg.Wait()` calls of a unit by WaitGroup field (`T.wg`), with what is reachable without passing one. */
  private waitsIn(unit: FuncUnit): Map<string, { nodes: Set<number>; unwaited?: Uint8Array }> {
    let out = this.waits.get(unit);
    if (out) return out;
    out = new Map();
    this.waits.set(unit, out);
    for (const { node, key } of this.waitCalls(unit)) {
      const shared = key.shared;
      if (shared?.scope !== 'struct') continue;
      const w = out.get(shared.id);
      if (w) w.nodes.add(node); else out.set(shared.id, { nodes: new Set([node]) });
    }
    return out;
  }

  private readonly doneGroupsOf = new Map<Root, Set<string>>();

  /** The WaitGroup fields (`T.wg`) whose Done() ends goroutine r. */
  private doneGroups(r: Root): Set<string> {
    let out = this.doneGroupsOf.get(r);
    if (!out) {
      out = new Set();
      for (const { key, kind } of this.endSignals(r.unit)) if (kind === 'done' && key.shared?.scope === 'struct') out.add(key.shared.id);
      this.doneGroupsOf.set(r, out);
    }
    return out;
  }

  /**
   * Where the spawner joins g, when it does so on every path before it returns: the offsets of
   * those joins. Undefined when g may outlive its spawner.
   */
  joinOffsets(g: Root): number[] | undefined {
    if (!g.site || !g.spawner) return undefined;
    const cfg = this.cfgs.of(g.spawner);
    const spawn = cfg.nodeAt(g.site.startIndex);
    const after = spawn && this.after(g, cfg, spawn);
    if (!after || after.unjoined[cfg.exit]) return undefined;
    return [...this.joinsOf(g, cfg)].filter((id) => after.all[id]).map((id) => cfg.nodes[id].start);
  }

  /**
   * Whether two goroutines may synchronise in ways the edges above do not model: both operate on a
   * channel, WaitGroup, Cond, event, context or atomic of the same name (a send and a receive, a
   * close and a select, a Store and a Load, a cancel and `<-ctx.Done()`). Matched by name, not
   * object: a rule that needs proof of no ordering stays silent when this says yes.
   */
  mayCommunicate(a: Root, b: Root): boolean {
    const na = this.syncNames(a);
    if (!na.size) return false;
    for (const n of this.syncNames(b)) if (na.has(n)) return true;
    return false;
  }

  private readonly syncNamesCache = new Map<Root, Set<string>>();

  private syncNames(r: Root): Set<string> {
    let out = this.syncNamesCache.get(r);
    if (out) return out;
    out = new Set();
    for (const u of [r.unit, ...this.goroutines.unitsOf(r)]) {
      for (const m of u.node.text.matchAll(SYNC_OPS)) {
        const name = syncName(m[1] ?? m[2] ?? m[3] ?? m[4] ?? m[5] ?? m[6]);
        if (name) out.add(name);
        if (m[7]) out.add('context'); // cancel() and ctx.Done(): one context, as far as names go
      }
    }
    this.syncNamesCache.set(r, out);
    return out;
  }

  /** Whether everything one goroutine does happens before everything the other does, or after. */
  rootsOrdered(a: Root, b: Root): boolean {
    if (!a.site || !b.site || !a.spawner || a.spawner !== b.spawner) return false;
    const cfg = this.cfgs.of(a.spawner);
    const na = cfg.nodeAt(a.site.startIndex), nb = cfg.nodeAt(b.site.startIndex);
    if (!na || !nb || na === nb) return false;
    return !this.after(a, cfg, na).unjoined[nb.id] && !this.after(b, cfg, nb).unjoined[na.id];
  }

  /**
   * Lifecycle: an access in exported method `m` (an api root) of a type happens before goroutine
   * `g` when `m` belongs to an earlier phase than any code that starts `g` can run in.
   */
  lifecycleBefore(m: FuncUnit, g: Root): boolean {
    const top = m.outermost;
    const type = top.recvType;
    if (!type || !top.name) return false;
    const mine = this.phase(top);
    if (mine >= 3) return false;
    // m itself runs in no goroutine or handler: only as an API call.
    if ([...this.goroutines.reach(top)].some((r) => r.kind !== 'api')) return false;
    return this.startPhase(g, type, new Set()) > mine;
  }

  /**
   * The earliest lifecycle phase in which root `r` can start, on a receiver of `type`: an exported
   * method's own phase; for a goroutine, the earliest phase of the code that runs its go statement.
   * Anything that is not a method of `type` counts as phase 0 (it may run at any time).
   */
  private startPhase(r: Root, type: string, seen: Set<Root>): number {
    if (seen.has(r)) return 3;
    seen.add(r);
    if (r.kind === 'api' || (r.kind === 'handler' && !r.spawner)) return r.unit.outermost.recvType === type ? this.phase(r.unit.outermost) : 0;
    if (!r.spawner) return 0;
    const reaching = [...this.goroutines.reach(r.spawner)];
    if (!reaching.length) {
      const top = r.spawner.outermost;
      return top.recvType === type && top.name && /^[A-Z]/.test(top.name) ? this.phase(top) : 0;
    }
    return Math.min(...reaching.map((x) => this.startPhase(x, type, seen)));
  }

  private phase(u: FuncUnit): number {
    const name = u.name ?? '';
    const doc = docComment(u);
    const before = doc ? CALLED_BEFORE.exec(doc) : null;
    if (before) return Math.min(this.phaseOfName(before[1]), 3) - 0.5;
    return this.phaseOfName(name);
  }

  private phaseOfName(name: string): number {
    return CONFIGURE.test(name) ? 1 : START.test(name) ? 2 : 3;
  }

  /**
   * Publication through an atomic flag: `w` writes before its goroutine stores the flag (and never
   * again after), and `r` runs only when `flag.Load()` is true.
   */
  publishedBefore(w: { unit: FuncUnit; offset: number }, r: { unit: FuncUnit; node: Node }): boolean {
    const flag = this.loadGuard(r.node, r.unit);
    if (!flag) return false;
    const cfg = this.cfgs.of(w.unit);
    const wn = cfg.nodeAt(w.offset);
    if (!wn) return false;
    const stores = cfg.nodes.filter((n) => cfg.ops(n).some((op) => op.kind === 'call' && this.isFlagStore(op.syntax, flag, w.unit)));
    if (!stores.length) return false;
    const fromW = cfg.reachableFrom(wn.succ);
    const fromStores = cfg.reachableFrom(stores.flatMap((s) => s.succ));
    return stores.some((s) => fromW[s.id]) && !fromStores[wn.id];
  }

  /** The flag key when `node` runs only inside `if flag.Load() {...}` (or `&&` with it) in its function. */
  private loadGuard(node: Node, unit: FuncUnit): LockKey | undefined {
    let child = node;
    for (let n = cachedParent(node); n && n.id !== unit.node.id; child = n, n = cachedParent(n)) {
      if (cachedType(n) !== 'if_statement' || n.childForFieldName('consequence')?.id !== child.id) continue;
      const cond = n.childForFieldName('condition');
      const m = cond && /^(?:[^|]*&&\s*)?\(?\s*([\w.]+)\.Load\(\)\s*\)?(?:\s*&&[^|]*)?$/.exec(cond.text);
      if (!m) continue;
      const call = cond.descendantsOfType('call_expression').find((c) => c?.text === `${m[1]}.Load()`);
      const operand = call?.childForFieldName('function')?.childForFieldName('operand');
      const key = operand ? this.keys.ofExpr(operand, unit) : undefined;
      if (key) return key;
    }
    return undefined;
  }

  private isFlagStore(call: Node, flag: LockKey, unit: FuncUnit): boolean {
    const fn = call.childForFieldName('function');
    if (fn?.type !== 'selector_expression' || !/^(?:Store|CompareAndSwap|Swap)$/.test(fn.childForFieldName('field')?.text ?? '')) return false;
    const operand = fn.childForFieldName('operand');
    const key = operand ? this.keys.ofExpr(operand, unit) : undefined;
    return !!key && (key.id === flag.id || (!!key.shared && key.shared === flag.shared));
  }

  private readonly callees = new Map<FuncUnit, Set<FuncUnit>>();

  /** Every unit `s` may run synchronously (itself, its literals and callees, transitively). */
  private calledFrom(s: FuncUnit): Set<FuncUnit> {
    let out = this.callees.get(s);
    if (out) return out;
    out = new Set();
    const work = [s];
    while (work.length) {
      const u = work.pop()!;
      if (out.has(u)) continue;
      out.add(u);
      for (const e of this.calls.callsIn(u)) if (e.role !== 'go') work.push(e.callee);
      for (const lit of u.literals) work.push(lit);
    }
    this.callees.set(s, out);
    return out;
  }

  /**
   * Where in `s` an access in `unit` runs: its own position, or where `s` runs the literal or helper
   * holding it. With a thread, only the calls that thread makes count.
   */
  private pointsIn(s: FuncUnit, unit: FuncUnit, offset: number, depth: number, thread?: Thread): number[] | undefined {
    const cfg = this.cfgs.of(s);
    if (unit === s) {
      const n = cfg.nodeAt(offset);
      return n ? [n.id] : undefined;
    }
    if (depth > 3) return undefined; // a budget: helpers of helpers of helpers only
    // Points come only from call chains that start in `s`; beyond its own code they do not depend on the offset.
    if (!this.calledFrom(s).has(unit)) return undefined;
    const key = `${s.index}:${unit.index}:${depth}:${thread === undefined ? '-' : thread === 'main' ? 'main' : this.goroutines.indexOf(thread)}`;
    if (this.points.has(key)) return this.points.get(key);
    const out = this.computePointsIn(s, unit, depth, thread);
    this.points.set(key, out);
    return out;
  }

  private readonly points = new Map<string, number[] | undefined>();

  private computePointsIn(s: FuncUnit, unit: FuncUnit, depth: number, thread?: Thread): number[] | undefined {
    const cfg = this.cfgs.of(s);
    if (unit.isLiteral && unit.parent) {
      // A literal that runs where it stands: called, deferred, or run by a synchronous callee.
      const lit = unit.node;
      const up = cachedParent(lit);
      const call = up?.type === 'call_expression' && up.childForFieldName('function')?.id === lit.id ? up
        : up?.type === 'argument_list' ? cachedParent(up) : null;
      if (!call || call.type !== 'call_expression') return undefined;
      const stmt = cachedParent(call);
      if (stmt?.type === 'go_statement') return undefined;
      const edges = this.calls.edgesOf(call, unit.parent).filter((e) => e.callee === unit);
      if (up?.type === 'argument_list' && !edges.some((e) => e.how === 'callback' && e.certain) && !this.calls.edgesOf(call, unit.parent).some((e) => e.how === 'static')) return undefined;
      if (stmt?.type === 'defer_statement' && unit.parent === s) return [cfg.exit];
      return this.pointsIn(s, unit.parent, call.startIndex, depth + 1, thread);
    }
    // A helper: every synchronous call of it (that the thread makes) is in `s`, or in helpers that are.
    const inThread = (u: FuncUnit) => thread === undefined || (thread === 'main' ? !this.goroutines.reach(u).size : this.goroutines.reach(u).has(thread));
    const sites = this.calls.callersOf(unit).filter((e) => inThread(e.caller));
    if (!sites.length || sites.some((e) => e.role === 'go')) return undefined;
    const out: number[] = [];
    for (const e of sites) {
      const p = this.pointsIn(s, e.caller, e.call.startIndex, depth + 1, thread);
      if (!p) return undefined;
      out.push(...p);
    }
    return out;
  }

  /** Nodes of the spawner reachable after g's spawn: at all, and without passing a join of g. */
  private after(g: Root, cfg: Cfg, spawn: FlowNode): { all: Uint8Array; unjoined: Uint8Array } {
    let a = this.afterSpawn.get(g);
    if (!a) {
      const joins = this.joinsOf(g, cfg);
      a = { all: cfg.reachableFrom(spawn.succ), unjoined: cfg.reachableFrom(spawn.succ, (n) => joins.has(n.id)) };
      this.afterSpawn.set(g, a);
    }
    return a;
  }

  /** Nodes of g's spawner after which g has finished. */
  private joinsOf(g: Root, cfg: Cfg): Set<number> {
    let out = this.joins.get(g);
    if (out) return out;
    out = new Set();
    this.joins.set(g, out);
    const s = g.spawner!;
    const signals = this.signalsAtEnd(g);
    const group = g.site && cachedType(g.site) === 'call_expression' ? this.groupOf(g.site, s) : undefined;
    if (!signals.size && !group) return out;
    for (const n of cfg.nodes) {
      // A range over a channel ends when the channel is closed.
      if (n.kind === 'cond' && n.syntax && cachedType(n.syntax) === 'range_clause') {
        const right = n.syntax.childForFieldName('right');
        const k = right && this.keys.ofExpr(right, s);
        if (k && signals.get(k.id) === 'close') out.add(n.id);
      }
      for (const op of cfg.ops(n)) {
        if (op.kind === 'recv') {
          const ch = op.syntax.childForFieldName('operand');
          const k = ch && this.keys.ofExpr(ch, s);
          if (k && signals.has(k.id)) out.add(n.id);
        }
      }
    }
    for (const w of this.waitCalls(s)) if (signals.get(w.key.id) === 'done' || w.key.id === group?.id) out.add(w.node);
    return out;
  }

  private readonly waitCallsOf = new Map<FuncUnit, { node: number; key: LockKey }[]>();

  /** The `x.Wait()` calls (no arguments: WaitGroup, errgroup) of a unit, with the key of x in its frame. */
  private waitCalls(u: FuncUnit): { node: number; key: LockKey }[] {
    let out = this.waitCallsOf.get(u);
    if (out) return out;
    out = [];
    this.waitCallsOf.set(u, out);
    if (!/\.\s*Wait\s*\(\s*\)/.test(u.file.text.slice(u.start, u.end))) return out;
    const cfg = this.cfgs.of(u);
    for (const n of cfg.nodes) {
      for (const op of cfg.ops(n)) {
        if (op.kind !== 'call' || op.role) continue;
        const fn = op.syntax.childForFieldName('function');
        if (fn?.type !== 'selector_expression' || fn.childForFieldName('field')?.text !== 'Wait' || argumentsOf(op.syntax).length) continue;
        const key = this.keys.ofExpr(fn.childForFieldName('operand')!, u);
        if (key) out.push({ node: n.id, key });
      }
    }
    return out;
  }

  /** `eg.Go(f)`: the group whose Wait joins f. */
  private groupOf(site: Node, s: FuncUnit): LockKey | undefined {
    const fn = site.childForFieldName('function');
    if (fn?.type !== 'selector_expression' || fn.childForFieldName('field')?.text !== 'Go') return undefined;
    const operand = fn.childForFieldName('operand');
    return operand ? this.keys.ofExpr(operand, s) : undefined;
  }

  /**
   * What g does on every path to its end, in its spawner's frame: `wg.Done()` (deferred or last),
   * a send on or close of a channel. Keyed by the spawner-frame key id.
   */
  private signalsAtEnd(g: Root): Map<string, 'done' | 'send' | 'close'> {
    const out = new Map<string, 'done' | 'send' | 'close'>();
    const u = g.unit;
    if (!g.site) return out;
    const signals = this.endSignals(u);
    if (!signals.length) return out;
    const spawnEdge = this.calls.edgesOf(cachedType(g.site) === 'go_statement' ? g.site.namedChild(0)! : g.site, g.spawner!).find((e) => e.callee === u);
    for (const c of signals) {
      const key = u.isLiteral && u.outermost === g.spawner!.outermost ? c.key : spawnEdge ? this.keys.toCaller(c.key, spawnEdge) : undefined;
      if (key) out.set(key.id, c.kind);
    }
    return out;
  }

  private readonly endSignalsOf = new Map<FuncUnit, { key: LockKey; kind: 'done' | 'send' | 'close' }[]>();

  /**
   * What a function does on every path to its end, in its own frame: `wg.Done()` (deferred, last on
   * every path, or last on every path that has it), a send on or close of a channel.
   */
  private endSignals(u: FuncUnit): { key: LockKey; kind: 'done' | 'send' | 'close' }[] {
    let out = this.endSignalsOf.get(u);
    if (out) return out;
    out = [];
    this.endSignalsOf.set(u, out);
    if (!u.body) return out;
    const cfg = this.cfgs.of(u);
    const candidates = new Map<string, { key: LockKey; kind: 'done' | 'send' | 'close'; nodes: number[] }>();
    const note = (key: LockKey | undefined, kind: 'done' | 'send' | 'close', n: FlowNode) => {
      if (!key) return;
      const c = candidates.get(key.id);
      if (c) c.nodes.push(n.id); else candidates.set(key.id, { key, kind, nodes: [n.id] });
    };
    for (const n of cfg.nodes) {
      for (const op of cfg.ops(n)) {
        if (op.kind === 'send') {
          const ch = op.syntax.childForFieldName('channel');
          note(ch ? this.keys.ofExpr(ch, u) : undefined, 'send', n);
        } else if (op.kind === 'call' && op.role !== 'go') {
          const fn = op.syntax.childForFieldName('function');
          if (fn?.type === 'identifier' && fn.text === 'close') {
            const arg = argumentsOf(op.syntax)[0];
            note(arg ? this.keys.ofExpr(arg, u) : undefined, 'close', n);
          } else if (fn?.type === 'selector_expression' && fn.childForFieldName('field')?.text === 'Done' && !argumentsOf(op.syntax).length) {
            note(this.keys.ofExpr(fn.childForFieldName('operand')!, u), 'done', n);
          }
        }
      }
    }
    for (const c of candidates.values()) {
      const stops = new Set(c.nodes);
      // On every path from the start to the end (a defer registered on every path counts), or, for
      // wg.Done(), last on every path that has it: Wait returns only once Done ran, and nothing follows it.
      const everyPath = !cfg.reachableFrom([cfg.entry], (n) => stops.has(n.id))[cfg.exit];
      if (everyPath || (c.kind === 'done' && c.nodes.every((id) => nothingAfter(cfg, id)))) out.push({ key: c.key, kind: c.kind });
    }
    return out;
  }

}

/** `a` and `b` sit in different branches of one if/else chain, switch or select of `unit`'s own code. */
function otherBranches(a: Node, b: Node, unit: FuncUnit): boolean {
  const branchOf = (n: Node) => {
    const out = new Map<number, number>();
    let child = n;
    for (let p = cachedParent(n); p && p.id !== unit.node.id; child = p, p = cachedParent(p)) {
      const t = cachedType(p);
      if (t === 'func_literal') break;
      if (t === 'if_statement') {
        if (p.childForFieldName('consequence')?.id === child.id) out.set(p.id, 1);
        else if (p.childForFieldName('alternative')?.id === child.id) out.set(p.id, 2);
      } else if (t === 'expression_switch_statement' || t === 'type_switch_statement' || t === 'select_statement') {
        if (/case|default/.test(cachedType(child))) out.set(p.id, child.startIndex);
      }
    }
    return out;
  };
  const ba = branchOf(a), bb = branchOf(b);
  for (const [id, branch] of ba) {
    const other = bb.get(id);
    if (other !== undefined && other !== branch) return true;
  }
  return false;
}

/** From node `id`, the function only returns: no later statement calls, sends or receives. */
function nothingAfter(cfg: Cfg, id: number): boolean {
  const later = cfg.reachableFrom(cfg.nodes[id].succ);
  return cfg.nodes.every((n) => !later[n.id] || !n.syntax || (JUMPS.has(cachedType(n.syntax)) && !cfg.ops(n).length));
}

const JUMPS = new Set(['return_statement', 'break_statement', 'continue_statement', 'goto_statement', 'empty_statement']);

/**
 * Operations that synchronise goroutines, with the operand's name: a send (`ch <- v`), a receive
 * (`<-ch`), `close(ch)`, `range ch`, a method of a WaitGroup, Cond, event or atomic value, an
 * `atomic.AddInt32(&x, …)` call, and a context's cancel (a context's `Done()` counts as its cancel).
 */
const SYNC_OPS = /(?<![\w.])(?!case\b|return\b)([\w.]+)\s*<-|<-\s*([\w.]+)|\bclose\(\s*([\w.]+)\s*\)|\brange\s+([\w.]+)|([\w.]+)\.(?:Done|Wait|Add|Signal|Broadcast|Fire|HasFired|Load|Store|CompareAndSwap|Swap|Lock|Unlock|RLock|RUnlock|TryLock)\(|atomic\.\w+\(\s*&\s*([\w.]+)|(\b\w*[cC]ancel\w*\(\))/g;

/** `s.done` → `done`, `<-x.ready.Done()` → `ready`, `ctx.Done()` → `context`; timers are no one's signal. */
function syncName(path: string | undefined): string | undefined {
  if (!path || /^time\.|\.C$/.test(path)) return undefined;
  const parts = path.split('.');
  if (parts.length > 1 && parts[parts.length - 1] === 'Done') parts.pop();
  const name = parts[parts.length - 1];
  return /^(?:ctx|\w*Ctx|context)$/.test(name) ? 'context' : name || undefined;
}

export const HappensBeforeFact: Fact<HappensBefore> = {
  name: 'HappensBefore',
  build: (facts) => new HappensBefore(facts.get(FunctionsFact), facts.get(CallGraphFact), facts.get(CfgFact), facts.get(GoroutinesFact)),
};
