// Lock state: which mutexes must be held (and may be held) at every point of a function, in read or
// write mode, as a forward dataflow over its CFG. Calls apply the callee's summary, computed bottom-up
// (recursion is cut where a summary is still being built): the locks it leaves held, the locks it
// releases without taking them (an unlock helper, or `…AndUnlock`), and, for deadlock rules, every
// lock it takes itself or through its callees. Deferred unlocks run at the exit.
//
// What is held when a function starts ("requires") comes from its callers: the locks held at every
// in-package call site (for unexported functions and `…Locked` helpers), the `…Locked` naming
// convention and doc comments that say the caller holds a lock, and a first operation that unlocks.
// A function literal starts with what is held where it runs: at the call that runs it, in the
// helper that calls it while holding a lock (`withLock(mu, func() {...})`), or nothing in a goroutine.
import type { Node } from 'web-tree-sitter';
import type { Fact } from '../fact';
import type { Package } from '../package';
import { findLocalDeclaration } from '../scope';
import { argumentsOf, isDeclaringOccurrence, parameterIndex, parameterNames } from '../syntax';
import { cachedParent, cachedType } from '../tree-cache';
import { packageTypes, typeOfExpr } from '../types';
import { CallGraphFact, type CallEdge, type CallGraph } from './callgraph';
import { CfgFact, solveForward, type Cfg, type Cfgs, type FlowNode, type FlowOp } from './cfg';
import { FunctionsFact, isInit, type FuncUnit, type Functions } from './functions';
import { isAcquire, lockCallOf, LockKeys, modeOf, type LockKey, type LockMode } from './lock-keys';

/**
 * A lock held at a point: which mutex, in which mode, and the call that took it. `relock`: taken
 * again after this function released its caller's hold on it (unlock, work, relock).
 */
export interface Held { key: LockKey; mode: LockMode; site: Node; unit: FuncUnit; relock?: boolean }

/**
 * The locks held at a point. `assumed` says why the function is taken to run under its caller's
 * locks when racelens cannot name them (a `…Locked` name, a doc comment): then it excludes all.
 */
export interface HeldSet { locks: ReadonlyMap<string, Held>; assumed?: string }

export const NOTHING_HELD: HeldSet = { locks: new Map() };

/**
 * A lock a function takes, itself or through the calls in `via` (outermost first). `releasedBefore`
 * holds the caller's locks (by key id, in the function's frame) released on every path before it:
 * the chain unlocks them first, so taking this one while they are held is no re-entry or inversion.
 */
export interface Acquire {
  key: LockKey;
  mode: LockMode;
  site: Node;
  unit: FuncUnit;
  via: Node[];
  releasedBefore: Map<string, LockKey>;
  /**
   * Taken only when a bool parameter (of the function whose node starts at `fn`) has this value:
   * `if needLock { mu.Lock() }`, `if !hasLock { ... }`.
   */
  when?: { fn: number; index: number; value: boolean };
}

/** What calling a function does to its caller's locks. */
export interface LockEffect {
  /** Held at the function's normal exit, deferred unlocks applied. */
  leaves: Map<string, Held>;
  /** Released without being taken first: the caller's locks. */
  releases: Map<string, { key: LockKey; mode: LockMode }>;
  /** Locks held when the function calls its i-th parameter (a func): `withLock(mu, f)`. */
  paramCalls: Map<number, Map<string, Held>>;
}

/** The lock state of a function at a point, relative to its entry. */
export interface State {
  must: Map<string, Held>;
  may: Map<string, Held>;
  /** Keys released here without being taken here first (the caller's), on some path. */
  released: Map<string, { key: LockKey; mode: LockMode }>;
  /** Unlocks registered with defer on every path: they run at the exit. */
  deferred: Map<string, LockKey>;
}

const EMPTY_STATE: State = { must: new Map(), may: new Map(), released: new Map(), deferred: new Map() };
const EMPTY_EFFECT: LockEffect = { leaves: new Map(), releases: new Map(), paramCalls: new Map() };

/** fmt, log and testing functions that call String() or Error() on their operands. */
const PRINTER_NAMES = ['Sprint', 'Sprintf', 'Sprintln', 'Print', 'Printf', 'Println', 'Fprint', 'Fprintf', 'Fprintln', 'Errorf', 'Fatal', 'Fatalf', 'Fatalln', 'Panic', 'Panicf', 'Panicln', 'Log', 'Logf', 'Error', 'Skip', 'Skipf'];

/** Text that contains a lock or unlock call. */
const LOCK_TEXT = /\.\s*R?(?:Lock|Unlock)\s*\(\s*\)|(?<![\w$.])(?:lock|unlock)\s*\(\s*&/;

/** Function names that say the caller holds the lock. `isLocked`-style predicates do not. */
const LOCKED_NAME = /^(?!is[A-Z_]|has[A-Z_]|was[A-Z_])\w*(?:[a-z0-9_]Locked|LockHeld|NeedsLocks?|UnderLock)$/;

/** Doc comment sentences that say the caller must hold a lock. */
const REQUIRES_DOC = /(?:\block\b[^.]*\b(?:held|locked)\b|\b(?:must|should)\s+(?:be\s+)?(?:held|locked)\b|requires\s+(?:a\s+|the\s+)?(?:read\s+|write\s+)?lock|caller\s+(?:must|should)\s+hold|called\s+with\s+[\w.]*\s*(?:held|locked)|while\s+holding|with\s+[\w.]+\s+(?:held|locked)|\bholding\s+[\w.]*(?:mu|lock|mutex)\w*)/i;
const NEGATED = /\bnot\b|\bwithout\b|n't\b|\bnever\b|\bunlocked\b/i;

export class LockState {
  readonly keys: LockKeys;
  private readonly flows = new Map<FuncUnit, { cfg: Cfg; before: (State | undefined)[] }>();
  private readonly literalArgsCache = new Map<FuncUnit, Map<string, Map<boolean, CallEdge[]>>>();
  /** For functions split on a lock-guarding bool parameter: the flow and the callers' locks per value. */
  private readonly variantFlows = new Map<string, { cfg: Cfg; before: (State | undefined)[] }>();
  private readonly variantEntries = new Map<string, HeldSet>();
  private readonly threadEntries = new Map<string, HeldSet | undefined>();
  private readonly effects = new Map<FuncUnit, LockEffect>();
  private readonly acquiring = new Map<FuncUnit, Map<string, Acquire>>();
  private readonly entries = new Map<string, HeldSet>();
  private readonly inProgress = new Set<unknown>();
  private readonly lockKeyCache = new Map<number, LockKey | null>();
  private relevantNames?: Set<string>;

  constructor(readonly pkg: Package, readonly fns: Functions, readonly calls: CallGraph, readonly cfgs: Cfgs) {
    this.keys = new LockKeys(pkg);
  }

  /** The key a lock call locks or unlocks. */
  keyOfLockCall(call: Node, unit: FuncUnit): LockKey | undefined {
    let k = this.lockKeyCache.get(call.id);
    if (k === undefined) {
      const lc = lockCallOf(call);
      this.lockKeyCache.set(call.id, (k = (lc && this.keys.ofMutex(lc.mutex, unit)) ?? null));
    }
    return k ?? undefined;
  }

  /**
   * Whether a unit's lock state can change inside it: it locks or unlocks, or calls a function
   * that may (by name, transitively: a cheap text test before any tree is read).
   */
  private lockRelevant(u: FuncUnit): boolean {
    let r = this.relevance.get(u);
    if (r === undefined) this.relevance.set(u, (r = this.computeLockRelevant(u)));
    return r;
  }

  private readonly relevance = new Map<FuncUnit, boolean>();

  private computeLockRelevant(u: FuncUnit): boolean {
    const text = u.file.text.slice(u.start, u.end);
    if (LOCK_TEXT.test(text)) return true;
    if (!this.relevantNames) this.relevantNames = this.computeRelevantNames();
    if (!this.relevantNames.size) return false;
    for (const name of this.calledNames(u)) if (this.relevantNames.has(name)) return true;
    return false;
  }

  private readonly calledNamesOf = new Map<FuncUnit, string[]>();

  /** The distinct names a unit's text calls (`name(`), its literals' included: read once per unit. */
  private calledNames(u: FuncUnit): string[] {
    let names = this.calledNamesOf.get(u);
    if (!names) {
      const set = new Set<string>();
      for (const m of u.file.text.slice(u.start, u.end).matchAll(/([A-Za-z_][\w$]*)\s*\(/g)) set.add(m[1]);
      this.calledNamesOf.set(u, (names = [...set]));
    }
    return names;
  }

  /** Whether a call may change the lock state: by its name, one of the functions that lock or call such (text only). */
  private mayAffectLocks(call: Node): boolean {
    let may = this.affecting.get(call.id);
    if (may === undefined) {
      if (!this.relevantNames) this.relevantNames = this.computeRelevantNames();
      this.affecting.set(call.id, (may = this.mayCall(call, this.relevantNames)));
    }
    return may;
  }

  /** mayAffectLocks by call node id: the dataflow asks on every visit of a node. */
  private readonly affecting = new Map<number, boolean>();

  /** Whether a call may take a lock, at any depth: by its name, a function that locks or calls one (text only). */
  private mayAcquire(call: Node): boolean {
    if (!this.lockingNames) {
      this.lockingNames = this.namesReaching((text) => LOCK_TEXT.test(text));
      // fmt calls String() and Error(): when one of those locks, so may any print.
      if (this.lockingNames.has('String') || this.lockingNames.has('Error')) this.lockingNames = this.namesReaching((text) => LOCK_TEXT.test(text), PRINTER_NAMES);
    }
    return this.mayCall(call, this.lockingNames);
  }

  private lockingNames?: Set<string>;

  /** Literals called in place and calls of function values are looked up; named calls only when the name is in `names`. */
  private mayCall(call: Node, names: ReadonlySet<string>): boolean {
    const fn = call.childForFieldName('function');
    const type = fn && cachedType(fn);
    const name = type === 'identifier' ? fn!.text : type === 'selector_expression' ? fn!.childForFieldName('field')?.text : undefined;
    return !name || type === 'func_literal' || names.has(name) || (type === 'identifier' && !this.fns.func(name) && !this.fns.methodNames.has(name));
  }

  /**
   * Names of functions whose call may leave the caller's locks changed, found in the text: those
   * whose locks and unlocks do not pair up (lock and unlock helpers, early-return unlocks), and, to a
   * fixpoint, the functions that call them by name. A function that locks and defers the unlock
   * changes nothing for its callers, so calls of it need no resolving.
   */
  private computeRelevantNames(): Set<string> {
    return this.namesReaching((text) => {
      if (!LOCK_TEXT.test(text)) return false;
      const locks = text.match(/\.\s*R?Lock\s*\(\s*\)|(?<![\w$.])lock\s*\(\s*&/g)?.length ?? 0;
      const unlocks = text.match(/\.\s*R?Unlock\s*\(\s*\)|(?<![\w$.])unlock\s*\(\s*&/g)?.length ?? 0;
      return locks !== unlocks || /\.\s*R?Unlock\b(?!\s*\()/.test(text);
    });
  }

  /** Names of the functions whose text passes `seed`, and, to a fixpoint, of the functions that call them by name. */
  private namesReaching(seed: (text: string) => boolean, extra: readonly string[] = []): Set<string> {
    const names = new Set<string>(extra);
    const named = this.fns.all.filter((u) => u.name && !u.isLiteral);
    for (const u of named) if (seed(u.file.text.slice(u.start, u.end))) names.add(u.name!);
    // Callers of those, by name, to a fixpoint: few rounds in practice.
    for (let changed = names.size > 0, round = 0; changed && round < 8; round++) { // a budget: deeper chains of lock helpers are rare
      changed = false;
      for (const u of named) {
        if (names.has(u.name!)) continue;
        if (this.calledNames(u).some((n) => names.has(n))) { names.add(u.name!); changed = true; }
      }
    }
    return names;
  }

  /** The dataflow of a unit relative to its entry (built on first use). */
  private flow(u: FuncUnit): { cfg: Cfg; before: (State | undefined)[] } {
    let f = this.flows.get(u);
    if (!f) this.flows.set(u, (f = this.solve(u, this.constantParams(u))));
    return f;
  }

  /** The dataflow with the branches of bool parameters fixed to `values` cut off. */
  private solve(u: FuncUnit, values: Map<string, boolean>): { cfg: Cfg; before: (State | undefined)[] } {
    const cfg = this.cfgs.of(u);
    const init: State = { must: new Map(), may: new Map(), released: new Map(), deferred: new Map() };
    const dead = values.size ? (from: FlowNode, to: FlowNode) => deadBranch(from, to, u, values) : undefined;
    this.inProgress.add(u);
    try {
      return { cfg, before: solveForward(cfg, init, (n, s) => this.transfer(u, cfg, n, s), join, equal, dead) };
    } finally {
      this.inProgress.delete(u);
    }
  }

  /**
   * For each bool parameter of an unexported function that every call in the package passes as a
   * literal (`hasInterest(subj, true)`), the values passed, and the calls passing each. Exported
   * functions and functions used as values may get other arguments, so they have none.
   */
  private literalArgs(u: FuncUnit): Map<string, Map<boolean, CallEdge[]>> {
    let out = this.literalArgsCache.get(u);
    if (out) return out;
    out = new Map();
    this.literalArgsCache.set(u, out);
    if (u.isLiteral || !u.name || /^[A-Z]/.test(u.name) || !/\bbool\b/.test(u.node.childForFieldName('parameters')?.text ?? '')) return out;
    // Only parameters the body tests (`if doLock {`, `if !doLock {`) matter.
    const body = u.file.text.slice(u.body?.startIndex ?? u.end, u.end);
    const names = parameterNames(u.node);
    const tested = names.filter((n) => n && new RegExp(`\\bif\\s+!?\\s*${n}\\s*\\{`).test(body));
    if (!tested.length) return out;
    const sites = this.calls.callersOf(u);
    if (!sites.length || sites.some((e) => e.how !== 'static' || e.role === 'go') || this.usedAsValue(u)) return out;
    for (let i = 0; i < names.length; i++) {
      const name = names[i];
      if (!name || !tested.includes(name)) continue;
      const byValue = new Map<boolean, CallEdge[]>();
      for (const e of sites) {
        const arg = argumentsOf(e.call)[i]?.text;
        const v = arg === 'true' ? true : arg === 'false' ? false : undefined;
        if (v === undefined) { byValue.clear(); break; }
        byValue.set(v, [...byValue.get(v) ?? [], e]);
      }
      if (byValue.size) out.set(name, byValue);
    }
    return out;
  }

  /** The CFG edge never runs: it leaves `if doLock` the way the literal every caller passes rules out. */
  deadEdge(u: FuncUnit, from: FlowNode, to: FlowNode): boolean {
    const constants = this.constantParams(u);
    return constants.size > 0 && deadBranch(from, to, u, constants);
  }

  /** The bool parameters every call passes as the same literal: `if doLock { mu.Lock() }` then always locks. */
  private constantParams(u: FuncUnit): Map<string, boolean> {
    const out = new Map<string, boolean>();
    for (const [name, byValue] of this.literalArgs(u)) if (byValue.size === 1) out.set(name, [...byValue.keys()][0]);
    return out;
  }

  /**
   * `removeMsg(seq, needLock bool)` called with true by some and false by others: a parameter that
   * guards one of u's lock calls and gets both values. Held at a point is then what both kinds of
   * call agree on: u's own lock for `true`, the callers' for `false`.
   */
  private lockGuardParam(u: FuncUnit): { name: string; byValue: Map<boolean, CallEdge[]> } | undefined {
    const args = this.literalArgs(u);
    if (![...args.values()].some((b) => b.size === 2) || this.effect(u).releases.size || this.docRequires(u) || LOCKED_NAME.test(u.name ?? '')) return undefined;
    for (const lc of this.lockCallsIn(u)) {
      const when = paramGuard(lc, u);
      const name = when && when.fn === u.start ? parameterNames(u.node)[when.index] : undefined;
      const byValue = name ? args.get(name) : undefined;
      if (name && byValue?.size === 2) return { name, byValue };
    }
    return undefined;
  }

  /** The Lock and RLock calls in u's own code. */
  private lockCallsIn(u: FuncUnit): Node[] {
    const cfg = this.cfgs.of(u);
    return cfg.nodes.flatMap((n) => cfg.ops(n)).filter((op) => {
      const lc = op.kind === 'call' && !op.role ? lockCallOf(op.syntax) : undefined;
      return !!lc && isAcquire(lc.method);
    }).map((op) => op.syntax);
  }

  /** The function's name appears other than as a call (`f := s.hasInterest`, `register(hasInterest)`). */
  private usedAsValue(u: FuncUnit): boolean {
    const re = new RegExp(`\\b${u.name}\\b(?!\\s*\\()`, 'g');
    for (const f of this.pkg.files) {
      for (const m of f.text.matchAll(re)) {
        const at = f.root.descendantForIndex(m.index!, m.index! + u.name!.length);
        // A method value is `x.name`; a function value is the bare name, unless a local shadows it.
        if (at?.type === 'field_identifier' || (!u.recvType && at?.type === 'identifier' && !findLocalDeclaration(at, at.text) && !isDeclaringOccurrence(at))) return true;
      }
    }
    return false;
  }

  private transfer(u: FuncUnit, cfg: Cfg, n: FlowNode, s: State, until = Infinity): State {
    let out = s;
    for (const op of this.lockOps(u, cfg, n)) {
      if (op.end > until) break;
      out = this.apply(u, op, out);
    }
    return out;
  }

  private readonly opsByNode = new Map<FuncUnit, Map<number, FlowOp[]>>();

  /** The operations of a node that can change the lock state (lock calls, calls that may lock or unlock, unlock values). */
  private lockOps(u: FuncUnit, cfg: Cfg, n: FlowNode): readonly FlowOp[] {
    let byNode = this.opsByNode.get(u);
    if (!byNode) this.opsByNode.set(u, (byNode = new Map()));
    let ops = byNode.get(n.id);
    if (!ops) {
      ops = cfg.ops(n).filter((op) => op.kind === 'unlock-value' || (op.kind === 'call' && (!!lockCallOf(op.syntax) || this.mayAffectLocks(op.syntax))));
      byNode.set(n.id, ops);
    }
    return ops;
  }

  private apply(u: FuncUnit, op: FlowOp, s: State): State {
    if (op.kind === 'unlock-value') {
      const mutex = op.syntax.childForFieldName('operand');
      const key = mutex && this.keys.ofMutex(mutex, u);
      if (!key || !s.must.has(key.id)) return s;
      const out = copy(s);
      out.must.delete(key.id); // may be released from here on, by whoever calls it
      return out;
    }
    if (op.kind !== 'call') return s;
    const lc = lockCallOf(op.syntax);
    if (lc) {
      const key = this.keyOfLockCall(op.syntax, u);
      if (!key || op.role === 'go') return s;
      if (op.role === 'defer') {
        if (isAcquire(lc.method)) return s;
        const out = copy(s);
        out.deferred.set(key.id, key);
        return out;
      }
      const out = copy(s);
      if (isAcquire(lc.method)) {
        const relock = out.released.has(key.id) || undefined;
        const held: Held = { key, mode: modeOf(lc.method, key), site: op.syntax, unit: u, relock };
        out.must.set(key.id, held);
        out.may.set(key.id, held);
        out.released.delete(key.id); // unlock, work, relock: held again, as it was on entry
      } else release(out, key, modeOf(lc.method, key));
      return out;
    }
    if (!this.mayAffectLocks(op.syntax)) return s;
    const edges = this.calls.edgesOf(op.syntax, u).filter((e) => e.how !== 'callback' && e.how !== 'stringer');
    if (!edges.length) return s;
    let out = s;
    if (op.role === 'go') {
      // Lock hand-off: a goroutine that releases a lock its spawner holds takes it over.
      for (const e of edges) {
        for (const r of this.effect(e.callee).releases.values()) {
          const k = this.keys.toCaller(r.key, e);
          if (k && out.may.has(k.id)) { out = out === s ? copy(s) : out; out.must.delete(k.id); out.may.delete(k.id); }
        }
      }
      return out;
    }
    for (const e of edges) {
      const eff = this.effect(e.callee);
      if (!eff.releases.size && !eff.leaves.size) continue;
      if (out === s) out = copy(s);
      for (const r of eff.releases.values()) {
        const k = this.keys.toCaller(r.key, e);
        if (!k) continue;
        if (op.role === 'defer') out.deferred.set(k.id, k);
        else release(out, k, r.mode);
      }
      // Locks left held count only when every possible callee leaves them (one for most calls).
      if (op.role === 'defer' || edges.length > 1) continue;
      for (const h of eff.leaves.values()) {
        const k = this.keys.toCaller(h.key, e);
        if (!k) continue;
        const held = { ...h, key: k };
        out.must.set(k.id, held);
        out.may.set(k.id, held);
        out.released.delete(k.id);
      }
    }
    return out;
  }

  /** What calling `u` does to its caller's locks (empty for functions that touch no lock). */
  effect(u: FuncUnit): LockEffect {
    const cached = this.effects.get(u);
    if (cached) return cached;
    if (this.inProgress.has(u) || !u.body || !this.lockRelevant(u)) return EMPTY_EFFECT;
    const { cfg, before } = this.flow(u);
    const exit = before[cfg.exit];
    const eff: LockEffect = { leaves: new Map(), releases: new Map(), paramCalls: new Map() };
    if (exit) {
      for (const [id, h] of exit.must) if (!exit.deferred.has(id) && visible(h.key, u)) eff.leaves.set(id, h);
      for (const [id, r] of exit.released) if (visible(r.key, u)) eff.releases.set(id, r);
      for (const [id, k] of exit.deferred) if (!exit.may.has(id) && visible(k, u)) eff.releases.set(id, { key: k, mode: 'w' });
    }
    // Calls of a func parameter while holding locks: the callback runs under them.
    for (const n of cfg.nodes) {
      const s = before[n.id];
      if (!s || !s.must.size) continue;
      for (const op of cfg.ops(n)) {
        if (op.kind !== 'call' || op.role) continue;
        const fn = op.syntax.childForFieldName('function');
        if (fn?.type !== 'identifier') continue;
        const index = paramIndexOf(fn, u);
        if (index < 0) continue;
        const held = this.transfer(u, cfg, n, s, op.start).must;
        if (held.size) eff.paramCalls.set(index, new Map(held));
      }
    }
    this.effects.set(u, eff);
    return eff;
  }

  /**
   * Every lock `u` takes while it runs, itself or through the functions it calls (at any depth, in
   * the same goroutine), in `u`'s frame. A lock it first releases (its caller's) is not counted
   * when it takes it again: that is the unlock-work-relock pattern, not re-entry.
   */
  acquires(u: FuncUnit): ReadonlyMap<string, Acquire> {
    const cached = this.acquiring.get(u);
    if (cached) return cached;
    const out = new Map<string, Acquire>();
    if (this.inProgress.has(`acq:${u.id}`) || !u.body) return out;
    this.inProgress.add(`acq:${u.id}`);
    // Each key once, with the caller's locks released before it on every path that takes it.
    const note = (a: Acquire) => {
      const had = out.get(a.key.id);
      if (!had) { out.set(a.key.id, a); return; }
      for (const id of [...had.releasedBefore.keys()]) if (!a.releasedBefore.has(id)) had.releasedBefore.delete(id);
      if (!a.when || (had.when && (had.when.fn !== a.when.fn || had.when.index !== a.when.index || had.when.value !== a.when.value))) had.when = undefined;
    };
    try {
      const cfg = this.cfgs.of(u);
      const relevant = this.lockRelevant(u);
      const before = relevant ? this.flow(u).before : undefined;
      for (const n of cfg.nodes) {
        const s0 = before?.[n.id];
        if (before && !s0) continue; // unreachable
        let s = s0;
        const changing = s0 ? this.lockOps(u, cfg, n) : [];
        for (const op of cfg.ops(n)) {
          if (op.kind === 'call' && op.role !== 'go' && op.role !== 'defer' && (lockCallOf(op.syntax) || this.mayAcquire(op.syntax))) {
            const released = new Map<string, LockKey>([...(s?.released ?? [])].map(([id, r]) => [id, r.key]));
            const lc = lockCallOf(op.syntax);
            if (lc) {
              const key = this.keyOfLockCall(op.syntax, u);
              if (key && isAcquire(lc.method) && !released.has(key.id)) note({ key, mode: modeOf(lc.method, key), site: op.syntax, unit: u, via: [], releasedBefore: released, when: paramGuard(op.syntax, u) });
            } else {
              for (const e of this.calls.edgesOf(op.syntax, u)) {
                if (e.how === 'callback' && !e.certain) continue;
                for (const a of this.acquiresThrough(e)) {
                  if (released.has(a.key.id)) continue;
                  note({ ...a, releasedBefore: new Map([...released, ...a.releasedBefore]) });
                }
              }
            }
          }
          if (s && changing.includes(op)) s = this.apply(u, op, s);
        }
      }
    } finally {
      this.inProgress.delete(`acq:${u.id}`);
    }
    this.acquiring.set(u, out);
    return out;
  }

  /**
   * The locks a call takes, in the caller's frame: the callee's acquires mapped through the call,
   * those a bool argument rules out dropped (`f(true)` where f locks only `if !hasLock`), and the
   * caller's locks the chain releases first noted.
   */
  acquiresThrough(e: CallEdge): Acquire[] {
    const out: Acquire[] = [];
    const u = e.caller;
    for (const a of this.acquires(e.callee).values()) {
      const mapped = this.keys.toCaller(a.key, e);
      // A local the caller built around one of its objects (`w := &view{src: p}`) names that object's mutex.
      const k = (mapped?.root.kind === 'local' ? this.keys.builtFrom(mapped, u) : undefined) ?? mapped;
      if (!k) continue;
      // A lock taken only for some value of a bool parameter: the call's argument decides.
      let when: Acquire['when'];
      if (a.when && a.when.fn !== e.callee.start) {
        // A parameter of an enclosing function: the same variable where a literal is called in it.
        if (!(e.callee.isLiteral && e.callee.outermost === u.outermost)) continue;
        when = a.when;
      } else if (a.when) {
        const arg = e.how === 'static' || e.how === 'interface' ? argumentsOf(e.call)[a.when.index] : undefined;
        if (arg?.text === 'true' || arg?.text === 'false') {
          if ((arg.text === 'true') !== a.when.value) continue;
        } else {
          const decl = arg?.type === 'identifier' ? findLocalDeclaration(arg, arg.text) : null;
          const index = decl && (decl.type === 'function_declaration' || decl.type === 'method_declaration' || decl.type === 'func_literal') ? parameterIndex(decl, arg!.text) : -1;
          if (index < 0) continue; // not known here: say nothing rather than guess
          when = { fn: decl!.startIndex, index, value: a.when.value };
        }
      }
      const releasedBefore = new Map<string, LockKey>();
      for (const r of a.releasedBefore.values()) {
        const rk = this.keys.toCaller(r, e);
        if (rk) releasedBefore.set(rk.id, rk);
      }
      out.push({ ...a, key: k, via: [e.call, ...a.via], releasedBefore, when });
    }
    return out;
  }

  /**
   * Locks held just before `offset` in `u`: what `u` took itself on every path, plus what was held
   * when it started (minus what it may have released since). `proven` leaves out what is only
   * assumed: callbacks of external functions that may run them later, `…Locked` names, doc comments.
   */
  heldAt(u: FuncUnit, offset: number, proven = false): HeldSet {
    const guard = this.lockRelevant(u) ? this.lockGuardParam(u) : undefined;
    if (guard) {
      // One answer per value of the guarding parameter, then what both agree on.
      const sets = [...guard.byValue].map(([value, sites]) => {
        const key = `${u.id}:${value}:${proven}`;
        let entry = this.variantEntries.get(key);
        if (!entry) {
          if (this.inProgress.has(key)) return NOTHING_HELD;
          this.inProgress.add(key);
          try { entry = this.callersEntry(u, sites, proven); } finally { this.inProgress.delete(key); }
          this.variantEntries.set(key, entry);
        }
        let flow = this.variantFlows.get(`${u.id}:${value}`);
        if (!flow) this.variantFlows.set(`${u.id}:${value}`, (flow = this.solve(u, new Map([...this.constantParams(u), [guard.name, value]]))));
        const n = flow.cfg.nodeAt(offset);
        if (n && !flow.before[n.id]) return undefined; // the point is not reached with this value
        return this.heldFrom(u, offset, entry, flow);
      }).filter((x): x is HeldSet => !!x);
      if (sets.length) return intersect(sets);
    }
    return this.heldFrom(u, offset, this.entry(u, proven), this.lockRelevant(u) ? this.flow(u) : undefined);
  }

  private heldFrom(u: FuncUnit, offset: number, entry: HeldSet, flow: { cfg: Cfg; before: (State | undefined)[] } | undefined): HeldSet {
    if (!flow) return entry;
    const { cfg, before } = flow;
    const n = cfg.nodeAt(offset);
    const s0 = n ? before[n.id] : undefined;
    if (!n || !s0) return entry;
    const s = this.transfer(u, cfg, n, s0, offset);
    if (!s.must.size && !s.released.size) return entry;
    const locks = new Map(entry.locks);
    for (const id of s.released.keys()) locks.delete(id);
    for (const [id, h] of s.must) locks.set(id, h);
    return { locks, assumed: entry.assumed };
  }

  /**
   * Locks that may be held just before `offset` in `u` (on some path), those it started with included.
   * The entry counts assumed locks too: more locks held is the safe side for a fix, and it is the
   * entry the race checks have already computed.
   */
  mayHeldAt(u: FuncUnit, offset: number): Map<string, Held> {
    const entry = this.entry(u);
    const locks = new Map(entry.locks);
    if (!this.lockRelevant(u)) return locks;
    const { cfg, before } = this.flow(u);
    const n = cfg.nodeAt(offset);
    const s0 = n ? before[n.id] : undefined;
    if (!n || !s0) return locks;
    const s = this.transfer(u, cfg, n, s0, offset);
    for (const [id, h] of s.may) locks.set(id, h);
    return locks;
  }

  /**
   * Whether some caller may hold a lock (by shared identity) when it calls `u`, through a few levels
   * of callers: a lock taken in `u` would then deadlock on that path.
   */
  mayBeHeldByCallers(u: FuncUnit, sharedId: string, depth = 0, seen = new Set<FuncUnit>()): boolean {
    if (depth > 3 || seen.has(u)) return false; // a budget: callers of callers of callers
    seen.add(u);
    if (u.isLiteral && u.parent) {
      return [...this.mayHeldAt(u.parent, u.start).values()].some((h) => h.key.shared?.id === sharedId) || this.mayBeHeldByCallers(u.parent, sharedId, depth + 1, seen);
    }
    for (const e of this.calls.callersOf(u)) {
      if (e.role === 'go') continue;
      if ([...this.mayHeldAt(e.caller, e.call.startIndex).values()].some((h) => h.key.shared?.id === sharedId)) return true;
      if (this.mayBeHeldByCallers(e.caller, sharedId, depth + 1, seen)) return true;
    }
    return false;
  }

  /** Locks held at the normal exit of `u` before deferred calls run, and the deferred unlocks. */
  atExit(u: FuncUnit): { held: Map<string, Held>; deferred: Map<string, LockKey> } | undefined {
    if (!this.lockRelevant(u)) return undefined;
    const { cfg, before } = this.flow(u);
    const s = before[cfg.exit];
    return s && { held: s.must, deferred: s.deferred };
  }

  /** Units whose own code locks or unlocks (literals apart), in package order. */
  lockingUnits(): FuncUnit[] {
    return this.fns.all.filter((u) => {
      const text = u.file.text.slice(u.start, u.end);
      return LOCK_TEXT.test(text) && [...text.matchAll(new RegExp(LOCK_TEXT.source, 'g'))].some((m) => u.owns(u.start + m.index!));
    });
  }

  /** Visits each operation of `u` in flow order with the state just before it (reachable code only). */
  walk(u: FuncUnit, visit: (op: FlowOp, node: FlowNode, before: State) => void): void {
    const { cfg, before } = this.lockRelevant(u) ? this.flow(u) : { cfg: this.cfgs.of(u), before: undefined };
    for (const n of cfg.nodes) {
      let s = before ? before[n.id] : EMPTY_STATE;
      if (!s) continue;
      const changing = before ? this.lockOps(u, cfg, n) : [];
      for (const op of cfg.ops(n)) {
        visit(op, n, s);
        if (changing.includes(op)) s = this.apply(u, op, s);
      }
    }
  }

  /** The state right after a node's operations (a return's operands included). */
  after(u: FuncUnit, n: FlowNode): State | undefined {
    if (!this.lockRelevant(u)) return EMPTY_STATE;
    const { cfg, before } = this.flow(u);
    const s = before[n.id];
    return s && this.transfer(u, cfg, n, s);
  }

  /** The CFG of a unit, and the state before each node (undefined where unreachable). */
  states(u: FuncUnit): { cfg: Cfg; before: readonly (State | undefined)[] } {
    return this.lockRelevant(u) ? this.flow(u) : { cfg: this.cfgs.of(u), before: this.cfgs.of(u).nodes.map(() => EMPTY_STATE) };
  }

  /** The state of `u` before a flow node (relative to its entry), for rules that walk paths. */
  stateBefore(u: FuncUnit, n: FlowNode): { must: ReadonlyMap<string, Held>; may: ReadonlyMap<string, Held> } | undefined {
    if (!this.lockRelevant(u)) return { must: new Map(), may: new Map() };
    return this.flow(u).before[n.id];
  }

  /** What is held when `u` starts running. */
  entry(u: FuncUnit, proven = false): HeldSet {
    const cacheKey = `${u.id}:${proven}`;
    const cached = this.entries.get(cacheKey);
    if (cached) return cached;
    if (this.inProgress.has(cacheKey)) return NOTHING_HELD;
    this.inProgress.add(cacheKey);
    let result: HeldSet;
    try {
      result = u.isLiteral ? this.literalEntry(u, proven) : this.functionEntry(u, proven);
    } finally {
      this.inProgress.delete(cacheKey);
    }
    this.entries.set(cacheKey, result);
    return result;
  }

  private literalEntry(u: FuncUnit, proven: boolean): HeldSet {
    const parent = u.parent;
    if (!parent) return NOTHING_HELD;
    const uses = this.usesOf(u, parent);
    // Stored or returned: it runs later, where racelens cannot follow. Races stay silent about it.
    if (!uses) return proven ? NOTHING_HELD : { locks: new Map(), assumed: 'it is stored and runs where racelens cannot follow it' };
    let common: Map<string, Held> | undefined;
    let assumed: string | undefined;
    let allAssumed = true;
    for (const { node, unit } of uses) {
      const at = this.entryAtUse(u, unit, node, proven);
      if (!at) return proven ? NOTHING_HELD : { locks: new Map(), assumed: 'it is stored and runs where racelens cannot follow it' };
      assumed ??= at.assumed;
      allAssumed &&= !!at.assumed;
      const held = at.locks;
      if (!common) common = new Map(held);
      else for (const [id, h] of common) {
        const o = held.get(id);
        if (!o) common.delete(id);
        else if (o.mode === 'r') common.set(id, { ...h, mode: 'r' });
      }
    }
    return common ? { locks: common, ...(allAssumed && assumed ? { assumed } : {}) } : NOTHING_HELD;
  }

  /**
   * Where a literal runs from: itself, called or passed where it stands, or the mentions of the
   * local variable it is stored in (`check := func() bool {...}; mu.executeAndPut(check, it)`).
   * Undefined when it goes anywhere else (a field, a return value, another variable).
   */
  private usesOf(u: FuncUnit, parent: FuncUnit): { node: Node; unit: FuncUnit }[] | undefined {
    const lit = u.node;
    const up = cachedParent(lit);
    if (up?.type === 'call_expression' || up?.type === 'argument_list') return [{ node: lit, unit: parent }];
    const stmt = up?.type === 'expression_list' ? cachedParent(up) : null;
    if (stmt?.type !== 'short_var_declaration' && !(stmt?.type === 'assignment_statement' && stmt.childForFieldName('operator')?.text === '=')) return undefined;
    if (stmt.childForFieldName('right')?.id !== up!.id || up!.namedChildCount !== 1) return undefined;
    const name = stmt.childForFieldName('left')?.namedChildren;
    const target = name?.length === 1 ? name[0] : null;
    if (target?.type !== 'identifier') return undefined;
    const decl = stmt.type === 'short_var_declaration' ? stmt : findLocalDeclaration(target, target.text);
    const top = parent.outermost;
    if (!decl) return undefined;
    const out: { node: Node; unit: FuncUnit }[] = [];
    const re = new RegExp(`(?<![\\w$.])${target.text.replace(/[$]/g, '\\$')}(?![\\w$])`, 'g');
    for (const m of u.file.text.slice(top.start, top.end).matchAll(re)) {
      const at = top.start + m.index!;
      if (at === target.startIndex) continue;
      const id = u.file.root.descendantForIndex(at, at + target.text.length);
      if (id?.type !== 'identifier' || findLocalDeclaration(id, id.text)?.id !== decl.id) continue;
      const p = cachedParent(id);
      const called = p?.type === 'call_expression' && p.childForFieldName('function')?.id === id.id;
      if (!called && p?.type !== 'argument_list') return undefined;
      const unit = this.fns.enclosing(id);
      if (!unit) return undefined;
      out.push({ node: id, unit });
    }
    return out.length ? out : undefined;
  }

  /**
   * What is held where a literal (or the variable holding it, `value`) is called or passed, in `at`;
   * undefined when it is only stored there (`append(fs, f)`).
   */
  private entryAtUse(u: FuncUnit, at: FuncUnit, value: Node, proven: boolean): HeldSet | undefined {
    const up = cachedParent(value);
    // Called where it stands: `func() {...}()`, deferred, or started as a goroutine.
    if (up?.type === 'call_expression' && up.childForFieldName('function')?.id === value.id) {
      const stmt = cachedParent(up);
      if (stmt?.type === 'go_statement') return NOTHING_HELD;
      if (stmt?.type === 'defer_statement') return this.exitHeld(at, proven);
      return this.heldAt(at, up.startIndex, proven);
    }
    // Passed to a call: it runs under what the caller holds there if the callee runs it before it
    // returns, and under what a package helper holds when it calls it.
    const call = up?.type === 'argument_list' ? cachedParent(up) : null;
    if (call?.type !== 'call_expression') return NOTHING_HELD;
    const fn = call.childForFieldName('function');
    if (fn?.type === 'identifier' && (fn.text === 'append' || fn.text === 'copy') && !findLocalDeclaration(fn, fn.text)) return undefined;
    const edges = this.calls.edgesOf(call, at);
    const own = edges.filter((e) => e.callee === u);
    if (cachedParent(call)?.type === 'go_statement' && own.length) return NOTHING_HELD;
    const helper = edges.filter((e) => e.callee !== u && e.how !== 'callback' && e.how !== 'stringer');
    if (helper.length) {
      const index = argIndex(call, value);
      const locks = new Map(this.heldAt(at, call.startIndex, proven).locks);
      for (const e of helper) {
        for (const h of this.effect(e.callee).paramCalls.get(index)?.values() ?? []) {
          const k = this.keys.toCaller(h.key, e);
          if (k) locks.set(k.id, { ...h, key: k, mode: paramMode(call, h) });
        }
      }
      return { locks };
    }
    // An external function that keeps the callback (AfterFunc, HandleFunc, errgroup.Go): nothing held.
    if (!own.length) return NOTHING_HELD;
    if (own.some((e) => e.certain) || !proven) return this.heldAt(at, call.startIndex, proven);
    return NOTHING_HELD;
  }

  private exitHeld(u: FuncUnit, proven: boolean): HeldSet {
    const entry = this.entry(u, proven);
    const exit = this.atExit(u);
    if (!exit) return entry;
    const locks = new Map(entry.locks);
    for (const [id, h] of exit.held) locks.set(id, h);
    return { locks, assumed: entry.assumed };
  }

  private functionEntry(u: FuncUnit, proven: boolean): HeldSet {
    const name = u.name ?? '';
    const locks = new Map<string, Held>();
    // A first operation that unlocks: the caller holds it (`…AndUnlock`, unlock helpers).
    for (const r of this.effect(u).releases.values()) locks.set(r.key.id, { key: r.key, mode: r.mode, site: u.node, unit: u });
    if (name === 'init' && !u.recvType) return { locks };
    const spawned = this.calls.callersOf(u).some((e) => e.role === 'go');
    if (!proven && !spawned) {
      const doc = this.docRequires(u);
      if (doc) return this.merge(locks, doc);
      if (LOCKED_NAME.test(name)) return this.merge(locks, this.receiverLocks(u, 'w', `its name, ${name}, says its caller holds the lock`));
    }
    if (spawned || (/^[A-Z]/.test(name) && !LOCKED_NAME.test(name))) return { locks };
    // Unexported (or …Locked): the locks every in-package caller holds at the call.
    return this.merge(locks, this.callersEntry(u, this.entrySites(u), proven));
  }

  /** The calls whose held locks a function starts with: direct or interface calls, not from init, tests only for tests. */
  private entrySites(u: FuncUnit): CallEdge[] {
    return this.calls.callersOf(u).filter((e) => (e.how === 'static' || e.how === 'interface') && !isInit(e.caller) && !e.role && !(e.caller.file.isTest && !u.file.isTest));
  }

  /**
   * Like heldAt, with a function's callers counted only where `callerOk` accepts them: the calls
   * one thread makes (`tag` names the filter for the cache). A helper called under the lock by a
   * goroutine and without it by setup code holds the lock in that goroutine.
   */
  heldAtWhere(u: FuncUnit, offset: number, callerOk: (caller: FuncUnit) => boolean, tag: string): HeldSet {
    const entry = this.entryWhere(u, callerOk, tag);
    if (!entry) return this.heldAt(u, offset);
    return this.heldFrom(u, offset, entry, this.lockRelevant(u) ? this.flow(u) : undefined);
  }

  private entryWhere(u: FuncUnit, callerOk: (caller: FuncUnit) => boolean, tag: string): HeldSet | undefined {
    const name = u.name ?? '';
    if (u.isLiteral || !name || name === 'init' || /^[A-Z]/.test(name) || LOCKED_NAME.test(name)) return undefined;
    const key = `${u.id}:${tag}`;
    if (this.threadEntries.has(key)) return this.threadEntries.get(key);
    if (this.inProgress.has(key)) return NOTHING_HELD;
    if (this.calls.callersOf(u).some((e) => e.role === 'go') || this.effect(u).releases.size || this.docRequires(u) || this.lockGuardParam(u)) return undefined;
    const mine = this.entrySites(u).filter((e) => callerOk(e.caller));
    if (!mine.length) return undefined;
    this.inProgress.add(key);
    let entry: HeldSet;
    try {
      entry = this.callersEntry(u, mine, false, (e) => this.heldAtWhere(e.caller, e.call.startIndex, callerOk, tag));
    } finally {
      this.inProgress.delete(key);
    }
    this.threadEntries.set(key, entry);
    return entry;
  }

  /** The locks every one of these call sites holds, as `u` names them. */
  private callersEntry(u: FuncUnit, sites: CallEdge[], proven: boolean, heldOf = (e: CallEdge) => this.heldAt(e.caller, e.call.startIndex, proven)): HeldSet {
    const locks = new Map<string, Held>();
    if (!sites.length) return { locks };
    let common: Map<string, Held> | undefined;
    let allAssumed = true;
    for (const e of sites) {
      if (this.inProgress.has(`${e.caller.id}:${proven}`)) continue; // recursion: agrees with the other callers
      const held = heldOf(e);
      if (held.assumed && !held.locks.size) continue; // a …Locked caller holds whatever is needed
      allAssumed &&= !!held.assumed;
      const mine = new Map<string, Held>();
      for (const h of held.locks.values()) {
        const k = this.keys.toCallee(h.key, e);
        if (k) mine.set(k.id, { ...h, key: k });
      }
      if (!common) common = mine;
      else for (const [id, h] of common) {
        const other = mine.get(id);
        if (!other) common.delete(id);
        else if (other.mode === 'r' && h.mode === 'w') common.set(id, { ...h, mode: 'r' });
      }
      if (!common.size) break; // a caller that holds nothing: nothing is held in common
    }
    for (const [id, h] of common ?? []) locks.set(id, h);
    return { locks, ...(common === undefined && allAssumed && !proven ? { assumed: 'every caller holds a lock it assumes' } : {}) };
  }

  private merge(locks: Map<string, Held>, extra: HeldSet): HeldSet {
    const out = new Map(locks);
    for (const [id, h] of extra.locks) out.set(id, h);
    return { locks: out, assumed: extra.locks.size ? undefined : extra.assumed };
  }

  /** The receiver's one mutex (a field or embedded), else "whatever guards the data" (assumed). */
  private receiverLocks(u: FuncUnit, mode: LockMode, why: string, named?: string[]): HeldSet {
    const recv = u.outermost.recvType;
    const fields = recv ? packageTypes(this.pkg).structs.get(recv) : undefined;
    const mutexes = [...fields ?? []].filter(([, f]) => {
      const t = f.type.kind === 'pointer' ? f.type.elem : f.type;
      return t?.kind === 'mutex' || t?.kind === 'rwmutex';
    });
    const byName = named ? mutexes.filter(([n]) => named.includes(n)) : [];
    // Unnamed, "the lock" of a type that embeds a mutex is the one its own Lock() takes.
    const embedded = mutexes.filter(([, f]) => f.embedded);
    const pick = byName.length ? byName : embedded.length === 1 ? embedded : mutexes;
    if (pick.length === 1 && u.outermost.recvName) {
      const [fname] = pick[0];
      const key = this.keys.extend(this.recvKey(u), [fname], u);
      return { locks: new Map([[key.id, { key, mode, site: u.node, unit: u }]]) };
    }
    return { locks: new Map(), assumed: why };
  }

  private recvKey(u: FuncUnit): LockKey {
    const name = u.outermost.recvName ?? 'recv';
    return { root: { kind: 'recv' }, path: [], id: 'recv', text: name };
  }

  /** "Lock should be held", "requires a lock on ac.mu", "ac.mu must be held by the caller". */
  private docRequires(u: FuncUnit): HeldSet | undefined {
    const doc = docComment(u);
    if (!doc) return undefined;
    for (const sentence of requiringSentences(doc)) {
      const mode: LockMode = /\bread\s*lock|\bRLock/i.test(sentence) ? 'r' : 'w';
      const names = [...sentence.matchAll(/[\w]+(?:\.[\w]+)*/g)].map((m) => m[0].split('.').pop()!);
      // A package-level mutex named in the sentence.
      for (const n of names) {
        const spec = this.pkg.decls.get(n)?.find((d) => cachedType(d) === 'var_spec');
        const file = spec && this.pkg.fileOf(spec);
        const nameNode = spec?.childrenForFieldName('name').find((x) => x?.text === n);
        const t = file && nameNode ? typeOfExpr(nameNode, file, this.pkg) : undefined;
        if (t?.kind === 'mutex' || t?.kind === 'rwmutex') {
          const key: LockKey = { root: { kind: 'pkgvar', name: n }, path: [], id: `pkgvar:${n}`, shared: { id: `pkgvar:${n}`, scope: 'package', name: n }, text: n };
          return { locks: new Map([[key.id, { key, mode, site: u.node, unit: u }]]) };
        }
      }
      return this.receiverLocks(u, mode, `its doc comment says the caller holds the lock`, names);
    }
    return undefined;
  }
}

/** Keys a caller can see: not the callee's own locals (a literal shares its function's). */
function visible(k: LockKey, u: FuncUnit): boolean {
  if (k.root.kind !== 'local') return true;
  return u.isLiteral && (k.root.at < u.start || k.root.at >= u.end);
}

function copy(s: State): State {
  return { must: new Map(s.must), may: new Map(s.may), released: new Map(s.released), deferred: new Map(s.deferred) };
}

/**
 * An unlock: of its caller's lock when this function has not taken it on any path, or has taken it
 * only again after releasing the caller's (a relock in a loop).
 */
function release(s: State, key: LockKey, mode: LockMode): void {
  const mine = s.may.get(key.id);
  // Not taken here, or taken again after releasing the caller's hold (unlock, RLock, RUnlock, Lock):
  // the caller's hold is released again.
  if (!mine || mine.relock) s.released.set(key.id, { key, mode: mine?.relock ? 'w' : mode });
  s.must.delete(key.id);
  s.may.delete(key.id);
}

function isEmpty(s: State): boolean {
  return !s.must.size && !s.may.size && !s.released.size && !s.deferred.size;
}

function join(a: State, b: State): State {
  // Branches that touch no lock hand on the same state: joining it with itself changes nothing.
  if (a === b || (isEmpty(a) && isEmpty(b))) return a;
  const must = new Map<string, Held>();
  for (const [id, h] of a.must) {
    const o = b.must.get(id);
    if (o) must.set(id, h.mode === 'w' && o.mode === 'w' ? h : { ...h, mode: 'r' });
  }
  const may = new Map(a.may);
  for (const [id, h] of b.may) {
    const o = may.get(id);
    // Keep the write mode, and a first acquisition over a relock.
    if (!o || (h.mode === 'w' && o.mode !== 'w') || (o.relock && !h.relock)) may.set(id, o && o.mode === 'w' && h.mode !== 'w' ? { ...h, mode: 'w' } : h);
  }
  const released = new Map(a.released);
  for (const [id, r] of b.released) released.set(id, r);
  const deferred = new Map<string, LockKey>();
  for (const [id, k] of a.deferred) if (b.deferred.has(id)) deferred.set(id, k);
  return { must, may, released, deferred };
}

function sameKeys<V extends { mode?: LockMode }>(a: Map<string, V>, b: Map<string, V>): boolean {
  if (a.size !== b.size) return false;
  for (const [id, v] of a) {
    const o = b.get(id);
    if (!o || o.mode !== v.mode) return false;
  }
  return true;
}

function equal(a: State, b: State): boolean {
  return sameKeys(a.must, b.must) && sameKeys(a.may, b.may) && sameKeys(a.released, b.released) && a.deferred.size === b.deferred.size;
}

/** The index of the parameter of `u` an identifier names, or -1. */
function paramIndexOf(id: Node, u: FuncUnit): number {
  const decl = findLocalDeclaration(id, id.text);
  return decl && decl.id === u.node.id ? parameterIndex(u.node, id.text) : -1;
}

/**
 * `if needLock { mu.Lock() }`, `if !hasLock { ... }`, `if doLock { if x { mu.Lock() } else { ... } }`:
 * the bool parameter and value the nearest parameter test around a lock call requires.
 */
function paramGuard(call: Node, u: FuncUnit): Acquire['when'] {
  let child: Node = call;
  for (let n = cachedParent(call); n && n.id !== u.node.id; child = n, n = cachedParent(n)) {
    const type = cachedType(n);
    if (type === 'func_literal') return undefined;
    if (type !== 'if_statement') continue;
    const inThen = n.childForFieldName('consequence')?.id === child.id;
    const inElse = n.childForFieldName('alternative')?.id === child.id;
    if (!inThen && !inElse) continue; // in the condition or initializer
    const cond = n.childForFieldName('condition');
    const m = /^(!\s*)?\(?\s*([A-Za-z_]\w*)\s*\)?$/.exec(cond?.text ?? '');
    if (!cond || !m) continue;
    const id = cond.type === 'identifier' ? cond : cond.descendantsOfType('identifier').find((x) => x?.text === m[2]);
    const decl = id ? findLocalDeclaration(id, id.text) : null;
    const index = decl && (decl.type === 'function_declaration' || decl.type === 'method_declaration' || decl.type === 'func_literal') ? parameterIndex(decl, m[2]) : -1;
    if (index >= 0) return { fn: decl!.startIndex, index, value: inThen ? !m[1] : !!m[1] };
  }
  return undefined;
}

/** The locks held in every one of the sets (the weaker mode when they differ). */
function intersect(sets: HeldSet[]): HeldSet {
  const [first, ...rest] = sets;
  const locks = new Map(first.locks);
  for (const other of rest) {
    for (const [id, h] of locks) {
      const o = other.locks.get(id);
      if (!o) locks.delete(id);
      else if (o.mode === 'r' && h.mode === 'w') locks.set(id, { ...h, mode: 'r' });
    }
  }
  return { locks, ...(sets.every((x) => x.assumed) ? { assumed: first.assumed } : {}) };
}

/** The edge out of `if p {` (or `if !p {`) into the branch a constant parameter p never takes. */
function deadBranch(from: FlowNode, to: FlowNode, u: FuncUnit, constants: Map<string, boolean>): boolean {
  if (from.kind !== 'cond' || !from.syntax) return false;
  const ifStmt = cachedParent(from.syntax);
  if (ifStmt?.type !== 'if_statement' || ifStmt.childForFieldName('condition')?.id !== from.syntax.id) return false;
  const m = /^(!\s*)?\(?\s*([A-Za-z_]\w*)\s*\)?$/.exec(from.syntax.text);
  const value = m ? constants.get(m[2]) : undefined;
  if (value === undefined || findLocalDeclaration(from.syntax.type === 'identifier' ? from.syntax : from.syntax.descendantsOfType('identifier')[0]!, m![2])?.id !== u.node.id) return false;
  const taken = m![1] ? !value : value;
  const then = ifStmt.childForFieldName('consequence');
  const intoThen = !!then && to.start >= then.startIndex && to.start < then.endIndex;
  return taken ? !intoThen : intoThen;
}

function argIndex(call: Node, arg: Node): number {
  return argumentsOf(call).findIndex((a) => a.id === arg.id);
}

/** `withLock(mu.RLocker(), f)`: a lock taken through an RLocker is a read lock. */
function paramMode(call: Node, h: Held): LockMode {
  if (h.key.root.kind !== 'param') return h.mode;
  const arg = argumentsOf(call)[h.key.root.index];
  return arg && /\.RLocker\s*\(\s*\)$/.test(arg.text) ? 'r' : h.mode;
}

/** The `//` comment lines right above a function declaration, joined. */
export function docComment(u: FuncUnit): string | undefined {
  return commentAbove(u.file.text, u.start);
}

/**
 * A function that runs under its caller's lock by its own account: a `…Locked` name, or a doc
 * sentence such as "Lock should be held" or "mu must be held by the caller".
 */
export function saysCallerHoldsLock(name: string, doc: string | undefined): boolean {
  if (LOCKED_NAME.test(name)) return true;
  return !!doc && requiringSentences(doc).length > 0;
}

/** The sentences of a doc comment that say a lock must be held ("Lock should be held"), not negated. */
function requiringSentences(doc: string): string[] {
  return doc.split(/(?<=[.;:])\s+|\n\s*\n/).filter((sentence) => REQUIRES_DOC.test(sentence) && !NEGATED.test(sentence));
}

/** The `//` comment lines that end right above `start`, joined. */
export function commentAbove(text: string, start: number): string | undefined {
  const lines: string[] = [];
  let end = start;
  for (;;) {
    const lineEnd = text.lastIndexOf('\n', end - 1);
    if (lineEnd < 0) break;
    const lineStart = text.lastIndexOf('\n', lineEnd - 1) + 1;
    const line = text.slice(lineStart, lineEnd).trim();
    if (!line.startsWith('//')) break;
    lines.unshift(line.replace(/^\/\/\s?/, ''));
    end = lineStart;
  }
  return lines.length ? lines.join('\n') : undefined;
}

export const LockStateFact: Fact<LockState> = {
  name: 'LockState',
  build: (facts) => new LockState(facts.pkg, facts.get(FunctionsFact), facts.get(CallGraphFact), facts.get(CfgFact)),
};
