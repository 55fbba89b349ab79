// blocking-under-lock: a channel send or receive, or wg.Wait(), while holding a mutex that the
// goroutine on the other side must take before it gets to its end of the operation. Each waits for
// the other: a deadlock that only shows under the right interleaving.
import type { Node } from 'web-tree-sitter';
import { CallGraphFact, type CallEdge, type CallGraph } from '../../engine/analysis/callgraph';
import { FunctionsFact, type FuncUnit, type Functions } from '../../engine/analysis/functions';
import { GoroutinesFact } from '../../engine/analysis/goroutines';
import { isAcquire, lockCallOf, modeOf, type LockKeys, type LockMode, type SharedLock } from '../../engine/analysis/lock-keys';
import { LockStateFact } from '../../engine/analysis/lock-state';
import type { Package } from '../../engine/package';
import type { RelatedLocation, Rule } from '../../engine/rule';
import { findLocalDeclaration } from '../../engine/scope';
import type { SourceFile } from '../../engine/source-file';
import { cachedType } from '../../engine/tree-cache';
import { packageTypes, typeOfExpr } from '../../engine/types';
import { argumentsOf, escapeRegExp, parameterNames } from '../../engine/syntax';
import { relatedAt, where } from './helpers';

/** A mutex held at a point, by its identity across functions, and where it was locked. */
interface HeldLock { lock: SharedLock; mode: LockMode; site: Node; unit: FuncUnit }

type SiteKind = 'send' | 'recv' | 'close' | 'done' | 'wait';

/** One use of a channel or WaitGroup that synchronises with another goroutine. */
interface Site { node: Node; kind: SiteKind; unit?: FuncUnit; deferred: boolean }

interface SyncVar {
  /** Passed, returned, stored elsewhere, exported, or of unknown origin: uses racelens cannot see. */
  escapes: boolean;
  /** Made with a capacity other than 0 somewhere: sends may not block. */
  buffered: boolean;
  /** Some capacity is not an integer literal: a queue or semaphore sized at run time. */
  sized?: boolean;
  sites: Site[];
}

/** `make(chan T)` → 'unbuffered', `make(chan T, n)` → 'buffered'; undefined for anything else. */
function madeChannel(value: Node | null | undefined): 'unbuffered' | 'buffered' | undefined {
  if (value?.type !== 'call_expression') return undefined;
  const fn = value.childForFieldName('function');
  const args = value.childForFieldName('arguments')?.namedChildren ?? [];
  if (fn?.type !== 'identifier' || fn.text !== 'make' || args[0]?.type !== 'channel_type') return undefined;
  return args.length >= 2 && args[1]?.text !== '0' ? 'buffered' : 'unbuffered';
}

function noteCapacity(v: SyncVar, made: 'unbuffered' | 'buffered', value: Node): void {
  if (made !== 'buffered') return;
  v.buffered = true;
  if (!/^\d+$/.test(value.childForFieldName('arguments')?.namedChildren[1]?.text ?? '')) v.sized = true;
}

/** A fresh WaitGroup: `sync.WaitGroup{}`, `&sync.WaitGroup{}`, `new(sync.WaitGroup)`. */
function freshWaitGroup(value: Node | null | undefined): boolean {
  return !!value && /^(?:&?\s*[\w.]*WaitGroup\s*\{\s*\}|new\(\s*[\w.]*WaitGroup\s*\))$/.test(value.text);
}

/** The value assigned to the i-th name of a declaration or assignment, when the counts match. */
function valueFor(names: (Node | null)[], values: Node | null, target: Node): Node | null | undefined {
  const i = names.findIndex((n) => n?.id === target.id);
  if (i < 0) return undefined;
  if (!values) return null;
  const list = values.type === 'expression_list' ? values.namedChildren : [values];
  return list.length === names.length ? list[i] : undefined;
}

/** The identity of a channel or WaitGroup expression across functions: `T.ch`, a package or local variable. */
function storageKey(expr: Node, keys: LockKeys, fns: Functions): string | undefined {
  const unit = fns.enclosing(expr);
  return unit ? keys.ofExpr(expr, unit)?.shared?.id : undefined;
}

class SyncIndex {
  private readonly cache = new Map<string, SyncVar>();
  constructor(private readonly pkg: Package, private readonly units: Functions, private readonly keys: LockKeys, private readonly kind: 'chan' | 'wg', private readonly calls?: CallGraph) {}

  get(lock: SharedLock, sample: Node, file: SourceFile): SyncVar {
    let v = this.cache.get(lock.id);
    if (!v) this.cache.set(lock.id, (v = this.build(lock, sample, file)));
    return v;
  }

  private build(lock: SharedLock, sample: Node, file: SourceFile): SyncVar {
    const v: SyncVar = { escapes: false, buffered: false, sites: [] };
    const name = lock.name;
    const key = lock.id;
    const check = (value: Node | null | undefined) => {
      if (value === null) return; // declared without a value: nil until assigned
      if (this.kind === 'wg') { if (!freshWaitGroup(value)) v.escapes = true; return; }
      if (value?.type === 'nil') return;
      const made = madeChannel(value);
      if (!made) v.escapes = true;
      else noteCapacity(v, made, value!);
    };
    if (lock.scope === 'local') {
      const decl = findLocalDeclaration(sample, name);
      if (!decl) return { ...v, escapes: true };
      if (decl.type === 'short_var_declaration') {
        const left = decl.childForFieldName('left')?.namedChildren ?? [];
        const id = left.find((n) => n?.text === name);
        check(id ? valueFor(left, decl.childForFieldName('right'), id) : undefined);
      } else if (decl.type === 'var_declaration') {
        const spec = decl.descendantsOfType('var_spec').find((s) => s?.childrenForFieldName('name').some((n) => n?.text === name));
        const id = spec?.childrenForFieldName('name').find((n) => n?.text === name);
        if (!spec || !id) v.escapes = true;
        else check(valueFor(spec.childrenForFieldName('name'), spec.childForFieldName('value'), id));
      } else {
        v.escapes = true; // a parameter, a range variable, a select case: made elsewhere
      }
      let top = this.units.enclosing(decl);
      while (top?.parent) top = top.parent;
      if (!top) return { ...v, escapes: true };
      this.scanIdentifiers(file, name, key, top.start, top.end, v);
    } else if (lock.scope === 'package') {
      if (/^[A-Z]/.test(name)) v.escapes = true;
      const spec = this.pkg.decls.get(name)?.find((d) => cachedType(d) === 'var_spec');
      const id = spec?.childrenForFieldName('name').find((n) => n?.text === name);
      if (!spec || !id) v.escapes = true;
      else check(valueFor(spec.childrenForFieldName('name'), spec.childForFieldName('value'), id));
      for (const f of this.pkg.files) this.scanIdentifiers(f, name, key, 0, f.text.length, v);
    } else {
      // Exported, or promoted from an embedded struct (set through that struct's literals): escapes.
      if (/^[A-Z]/.test(name) || !packageTypes(this.pkg).structs.get(lock.struct!)?.has(name)) v.escapes = true;
      else this.scanFields(name, lock.struct!, key, v, check);
    }
    return v;
  }

  private scanIdentifiers(file: SourceFile, name: string, key: string, from: number, to: number, v: SyncVar): void {
    const re = new RegExp(`(?<![\\w$.])${escapeRegExp(name)}(?![\\w$])`, 'g');
    for (const m of file.text.slice(from, to).matchAll(re)) {
      if (v.escapes) return;
      const at = from + m.index!;
      const id = file.root.descendantForIndex(at, at + name.length);
      if (id?.type !== 'identifier' || id.text !== name) continue;
      // The declaring name itself was checked with its declaration.
      const p = id.parent;
      if (p?.type === 'var_spec' || p?.type === 'parameter_declaration') continue;
      if (p?.type === 'expression_list' && p.parent?.type === 'short_var_declaration' && p.parent.childForFieldName('left')?.id === p.id) continue;
      if (storageKey(id, this.keys, this.units) !== key) continue;
      this.classify(id, file, v);
    }
  }

  private scanFields(name: string, type: string, key: string, v: SyncVar, check: (value: Node | null | undefined) => void): void {
    const re = new RegExp(`\\.\\s*${escapeRegExp(name)}(?![\\w$])|(?<![\\w$.])${escapeRegExp(name)}\\s*:(?!=)`, 'g');
    for (const file of this.pkg.files) {
      for (const m of file.text.matchAll(re)) {
        if (v.escapes) return;
        const at = m[0].startsWith('.') ? m.index! + m[0].length - name.length : m.index!;
        const id = file.root.descendantForIndex(at, at + name.length);
        if (!id || id.text !== name) continue;
        if (id.type === 'field_identifier' && id.parent?.type === 'selector_expression') {
          const sel = id.parent;
          if (storageKey(sel, this.keys, this.units) === key) this.classify(sel, file, v);
          continue;
        }
        // A composite literal setting the field: T{ch: make(chan int)}.
        const el = id.parent?.type === 'literal_element' ? id.parent : null;
        const keyed = el?.parent;
        if (!el || keyed?.type !== 'keyed_element' || keyed.childForFieldName('key')?.id !== el.id) continue;
        const lit = keyed.parent?.parent;
        const litType = lit?.type === 'composite_literal' ? lit.childForFieldName('type')?.text.replace(/\[.*$/, '') : undefined;
        if (litType !== undefined && litType !== type && !litType.endsWith(`.${type}`)) continue; // another struct's field
        check(keyed.childForFieldName('value')?.namedChild(0));
      }
    }
  }

  /**
   * `func (b *broker) Events() <-chan T { return b.events }` on an unexported type (or unexported
   * itself): the getter's calls are the channel's uses. Every call must receive from it (`<-b.Events()`,
   * `for v := range b.Events()`); a getter with no call, or a call that keeps the channel, escapes.
   */
  private throughGetter(x: Node, v: SyncVar): boolean {
    const getter = this.units.enclosing(x);
    if (!this.calls || !getter?.name || getter.isLiteral) return false;
    if (/^[A-Z]/.test(getter.name) && (!getter.recvType || /^[A-Z]/.test(getter.recvType))) return false;
    if (getter.node.childForFieldName('parameters')?.namedChildCount) return false;
    const callers = this.calls.callersOf(getter);
    if (!callers.length) return false;
    for (const e of callers) {
      const up = e.call.parent;
      if (up?.type === 'range_clause' && up.childForFieldName('right')?.id === e.call.id) v.sites.push({ node: up, kind: 'recv', unit: e.caller, deferred: false });
      else if (up?.type === 'unary_expression' && up.child(0)?.type === '<-') v.sites.push({ node: up, kind: 'recv', unit: e.caller, deferred: false });
      else return false;
    }
    return true;
  }

  /** Records what one use of the variable does; anything unrecognised makes it escape. */
  private classify(x: Node, _file: SourceFile, v: SyncVar): void {
    const p = x.parent;
    const unit = this.units.enclosing(x);
    const site = (node: Node, kind: SiteKind): void => { v.sites.push({ node, kind, unit, deferred: false }); };
    if (!p) { v.escapes = true; return; }
    if (this.kind === 'wg') {
      const method = p.type === 'selector_expression' && p.childForFieldName('operand')?.id === x.id ? p.childForFieldName('field')?.text : undefined;
      const call = p.parent?.type === 'call_expression' ? p.parent : null;
      if (method === 'Add' && call) return;
      if ((method === 'Done' || method === 'Wait') && call) {
        v.sites.push({ node: call, kind: method === 'Done' ? 'done' : 'wait', unit, deferred: call.parent?.type === 'defer_statement' });
        return;
      }
      v.escapes = true;
      return;
    }
    switch (p.type) {
      case 'send_statement':
        if (p.childForFieldName('channel')?.id === x.id) return site(p, 'send');
        break;
      case 'unary_expression':
        if (p.child(0)?.type === '<-') return site(p, 'recv');
        break;
      case 'range_clause':
        if (p.childForFieldName('right')?.id === x.id) return site(p, 'recv');
        break;
      case 'binary_expression':
        if (/^[!=]=$/.test(p.childForFieldName('operator')?.text ?? '')) return;
        break;
      case 'argument_list': {
        const fn = p.parent?.childForFieldName('function');
        if (fn?.type === 'identifier' && !findLocalDeclaration(fn, fn.text)) {
          if (fn.text === 'close') { v.sites.push({ node: p.parent!, kind: 'close', unit, deferred: p.parent!.parent?.type === 'defer_statement' }); return; }
          if (fn.text === 'len' || fn.text === 'cap') return;
        }
        break;
      }
      case 'expression_list': {
        if (p.parent?.type === 'return_statement' && p.namedChildCount === 1) {
          if (this.kind === 'chan' && this.throughGetter(x, v)) return;
          break;
        }
        const stmt = p.parent;
        if (stmt?.type === 'assignment_statement' && stmt.childForFieldName('left')?.id === p.id && stmt.childForFieldName('operator')?.text === '=') {
          const value = valueFor(p.namedChildren, stmt.childForFieldName('right'), x);
          if (value?.type === 'nil') return;
          const made = madeChannel(value);
          if (made) { noteCapacity(v, made, value!); return; }
        }
        break;
      }
    }
    v.escapes = true;
  }
}

/** A channel operation that blocks until the other side acts: not in a select with a default or other cases. */
function blockingOp(tok: Node): { op: Node; chan: Node; kind: 'send' | 'recv' } | undefined {
  const p = tok.parent;
  let op: Node | undefined, chan: Node | null | undefined, kind: 'send' | 'recv' | undefined;
  if (p?.type === 'send_statement') { op = p; chan = p.childForFieldName('channel'); kind = 'send'; }
  else if (p?.type === 'unary_expression' && p.child(0)?.id === tok.id) { op = p; chan = p.childForFieldName('operand'); kind = 'recv'; }
  if (!op || !chan || !kind) return undefined;
  let c: Node | null = op.parent;
  if (c?.type === 'receive_statement') c = c.parent;
  if (c?.type === 'communication_case') {
    const cases = c.parent?.namedChildren.filter((n) => n?.type === 'communication_case' || n?.type === 'default_case') ?? [];
    if (cases.length !== 1) return undefined;
  }
  return { op, chan, kind };
}

/**
 * A function literal handed to a package function that keeps it rather than calling it: stored in a
 * field or slice (`register(func() {...})`), directly or through a few calls that pass it on. It
 * runs later, on whatever goroutine calls it. A callee that calls it, or one racelens cannot read,
 * may run it in place: no.
 */
function keptForLater(u: FuncUnit, calls: CallGraph): boolean {
  if (!u.isLiteral || !u.parent) return false;
  const list = u.node.parent;
  const call = list?.type === 'argument_list' ? list.parent : null;
  if (call?.type !== 'call_expression' || call.parent?.type === 'go_statement' || call.parent?.type === 'defer_statement') return false;
  const index = argumentsOf(call).findIndex((a) => a.id === u.node.id);
  return keeps(calls.edgesOf(call, u.parent), index, calls, 0);
}

/** Every callee stores its index-th parameter without calling it, passing it on at most a few calls deep. */
function keeps(edges: readonly CallEdge[], index: number, calls: CallGraph, depth: number): boolean {
  const callees = edges.filter((e) => e.how === 'static' || e.how === 'interface');
  if (!callees.length || callees.length !== edges.length || depth > 3) return false; // a budget: registration chains are short
  return callees.every((e) => {
    const name = parameterNames(e.callee.node)[index];
    const body = e.callee.body;
    if (!name || !body) return false;
    let stored = false;
    const re = new RegExp(`(?<![\\w$.])${escapeRegExp(name)}(?![\\w$])`, 'g');
    for (const m of e.callee.file.text.slice(body.startIndex, body.endIndex).matchAll(re)) {
      const id = e.callee.file.root.descendantForIndex(body.startIndex + m.index!, body.startIndex + m.index! + name.length);
      const p = id?.parent;
      if (id?.type !== 'identifier' || !p) return false;
      if (p.type === 'argument_list') {
        const inner = p.parent!;
        const fn = inner.childForFieldName('function');
        if (fn?.type === 'identifier' && fn.text === 'append') { stored = true; continue; }
        const i = argumentsOf(inner).findIndex((a) => a.id === id.id);
        const enclosing = calls.fns.enclosing(inner);
        if (!enclosing || !keeps(calls.edgesOf(inner, enclosing), i, calls, depth + 1)) return false;
        stored = true;
        continue;
      }
      // `x.f = name`, `m[k] = name`, `T{f: name}`: stored.
      if (p.type === 'expression_list' && p.parent?.type === 'assignment_statement' && p.parent.childForFieldName('right')?.id === p.id) { stored = true; continue; }
      if (p.type === 'literal_element') { stored = true; continue; }
      return false;
    }
    return stored;
  });
}

export const blockingUnderLock: Rule = {
  id: 'blocking-under-lock',
  title: 'Blocking on a channel or WaitGroup while holding a mutex the other side needs',
  doc: 'A channel send or receive, or wg.Wait(), runs while a mutex is held, and the goroutines on the other side lock that same mutex before they get to their end. Each waits for the other. Release the mutex before blocking.',
  severity: 'warning',
  scope: 'package',
  requires: [LockStateFact, GoroutinesFact, FunctionsFact, CallGraphFact],
  run(pass) {
    const pkg = pass.pkg;
    const goroutines = pass.get(GoroutinesFact);
    if (!goroutines.roots.length) return;
    const locks = pass.get(LockStateFact);
    const fns = pass.get(FunctionsFact);
    const calls = pass.get(CallGraphFact);
    const describe = (u: FuncUnit) => {
      const root = u.isLiteral ? goroutines.roots.find((r) => r.unit === u && r.site && r.spawner) : undefined;
      return root ? `the goroutine started at ${where(root.site!, root.spawner!)}` : u.label;
    };
    const chans = new SyncIndex(pkg, fns, locks.keys, 'chan', calls);
    const groups = new SyncIndex(pkg, fns, locks.keys, 'wg');

    /** Mutexes held at `node` on every path (callers' included where proven), by shared identity. */
    const heldHere = (node: Node, unit: FuncUnit) => {
      const out = new Map<string, HeldLock>();
      for (const h of locks.heldAt(unit, node.startIndex, true).locks.values()) {
        const s = h.key.shared;
        if (s && out.get(s.id)?.mode !== 'w') out.set(s.id, { lock: s, mode: h.mode, site: h.site, unit: h.unit });
      }
      return out;
    };

    /**
     * The mutexes a function takes, by identity across functions, itself or through its calls at
     * any depth, func values and captured variables included (the lockset view, which needs no
     * frame to name them in).
     */
    const taken = new Map<FuncUnit, Set<string>>();
    const takenAnywhere = (u: FuncUnit): Set<string> => {
      let out = taken.get(u);
      if (out) return out;
      taken.set(u, (out = new Set())); // recursion: cut here
      // Its own Lock calls, read from the text: no dataflow for the many functions a goroutine reaches.
      const text = u.file.text.slice(u.start, u.end);
      for (const m of text.matchAll(/\.\s*R?Lock\s*\(\s*\)/g)) {
        const at = u.start + m.index!;
        if (!u.owns(at)) continue;
        const call = u.file.root.descendantForIndex(at + 1, at + 2)?.parent?.parent;
        const key = call?.type === 'call_expression' ? locks.keyOfLockCall(call, u) : undefined;
        const id = key && locks.keys.byType(key, u)?.id;
        if (id) out.add(id);
      }
      for (const e of calls.callsIn(u)) {
        if (e.role === 'go' || ((e.how === 'callback' || e.how === 'stringer') && !e.certain)) continue;
        for (const id of takenAnywhere(e.callee)) out.add(id);
      }
      return out;
    };

    /**
     * The lock (or call of a locking function) by which `site`'s goroutine takes `key` before its
     * operation, and whether only a loop before the operation takes it (some rounds may not).
     */
    const needs = (site: Site, key: string, heldMode: LockMode): { node: Node; inLoop?: boolean } | undefined => {
      const u = site.unit;
      if (!u?.body) return undefined;
      const held = site.deferred ? undefined : heldHere(site.node, u).get(key);
      if (held && (heldMode === 'w' || held.mode === 'w')) return { node: site.node };
      const cfg = locks.states(u).cfg;
      const at = site.deferred ? cfg.nodes[cfg.exit] : cfg.nodeAt(site.node.startIndex);
      if (!at) return undefined;
      const loops = !site.deferred && !!cfg.reachableFrom(at.succ)[at.id];
      // An acquire on every path to the operation, on every round of a loop around it, or in a loop
      // before it (a worker's `for v := range in { s.add(v) }` before its `close(done)`): the round
      // that runs while the lock is held waits for it, and never gets to the operation.
      let inLoop = false;
      const takenFirst = (d: number) => {
        if (!cfg.reachableFrom([cfg.entry], (n) => n.id === d)[at.id]) return true;
        if (loops && !cfg.reachableFrom(at.succ, (n) => n.id === d)[at.id]) return true;
        const after = cfg.reachableFrom(cfg.nodes[d].succ);
        return (inLoop = !!after[d] && !!after[at.id]);
      };
      let found: Node | undefined;
      locks.walk(u, (op, n) => {
        if (found || op.kind !== 'call' || op.role || n.id === at.id && op.start >= site.node.startIndex) return;
        const lc = lockCallOf(op.syntax);
        if (lc) {
          if (!isAcquire(lc.method) || (heldMode === 'r' && modeOf(lc.method) === 'r')) return;
          if (locks.keyOfLockCall(op.syntax, u)?.shared?.id === key && takenFirst(n.id)) found = op.syntax;
          return;
        }
        if (heldMode !== 'w') return;
        // Any instance of the struct: `b.merge()` on a goroutine's captured `b` takes batcher.mu.
        const takes = calls.edgesOf(op.syntax, u).some((e) => !e.role && (locks.acquiresThrough(e).some((a) => locks.keys.byType(a.key, u)?.id === key) || takenAnywhere(e.callee).has(key)));
        if (takes && takenFirst(n.id)) found = op.syntax;
      });
      return found && { node: found, inLoop };
    };

    /**
     * Where the operation blocks under a lock: at the operation itself, or, when its function holds
     * none there, at each call of the function made while its caller holds one (one level up).
     */
    const blockedAt = (op: Node, unit: FuncUnit): { at: Node; unit: FuncUnit; held: HeldLock[] }[] => {
      const own = [...heldHere(op, unit).values()];
      if (own.length) return [{ at: op, unit, held: own }];
      if (unit.isLiteral || !unit.name) return [];
      const out = [];
      for (const e of calls.callersOf(unit)) {
        if (e.role || (e.how !== 'static' && e.how !== 'interface') || e.caller === unit) continue;
        // Only callers that lock themselves: cheap, and where the caller can see the lock.
        if (!/\.\s*R?Lock\s*\(\s*\)/.test(e.caller.file.text.slice(e.caller.start, e.caller.end))) continue;
        // The caller's own locks before the call's statement: no walk up its own callers.
        const cfg = locks.states(e.caller).cfg;
        const n = cfg.nodeAt(e.call.startIndex);
        const held: HeldLock[] = [];
        for (const h of (n && locks.stateBefore(e.caller, n)?.must.values()) ?? []) if (h.key.shared && !h.relock) held.push({ lock: h.key.shared, mode: h.mode, site: h.site, unit: h.unit });
        if (held.length) out.push({ at: e.call, unit: e.caller, held });
      }
      return out;
    };

    const check = (file: SourceFile, op: Node, subject: Node, kind: 'send' | 'recv' | 'wait', index: SyncIndex) => {
      const unit = fns.enclosing(op);
      if (!unit) return;
      const places = blockedAt(op, unit);
      if (!places.length) return;
      const lock = locks.keys.ofExpr(subject, unit)?.shared;
      if (!lock) return;
      const v = index.get(lock, subject, file);
      if (v.escapes) return;
      // A buffered channel blocks only when full (empty, to receive): only a buffer of a fixed size
      // (`make(chan T, 1)`) is counted, and only against a loop that takes the lock between its
      // rounds. Sized from a variable, it is often a semaphore or a queue sized never to fill.
      if (v.buffered && (v.sized || kind === 'wait')) return;
      const wanted: SiteKind[] = kind === 'send' ? ['recv'] : kind === 'recv' ? ['send', 'close'] : ['done'];
      const others = v.sites.filter((s) => wanted.includes(s.kind) && s.node.id !== op.id);
      if (!others.length || others.some((s) => !s.unit)) return;
      // The other side runs in a goroutine, or one side is a callback kept for later (two ends of
      // an unbuffered channel in different functions cannot both run on one goroutine).
      const elsewhere = others.find((s) => s.unit !== unit && (goroutines.reach(s.unit!).size > 0 || keptForLater(unit, calls) || keptForLater(s.unit!, calls)));
      if (!elsewhere) return;
      const name = subject.text.replace(/\s+/g, '');
      for (const place of places) {
        for (const h of place.held) {
          const evidence = others.map((s) => needs(s, h.lock.id, h.mode));
          if (evidence.some((e) => !e)) continue;
          const inLoop = evidence.some((e) => e!.inLoop);
          if (v.buffered && !inLoop) continue;
          const i = others.indexOf(elsewhere);
          const other = others[i];
          const taken = evidence[i]!.node;
          const lockText = h.lock.scope === 'struct' ? `${h.lock.struct}.${h.lock.name}` : h.lock.name;
          const what = kind === 'send' ? `sending on ${name}` : kind === 'recv' ? `receiving from ${name}` : `${name}.Wait()`;
          const full = v.buffered ? (kind === 'send' ? ' once its buffer is full' : ' once its buffer is empty') : '';
          const side = kind === 'send' ? `every receiver of ${name}` : kind === 'recv' ? `every goroutine that sends on or closes ${name}` : `every goroutine calling ${name}.Done()`;
          const takes = taken.id === other.node.id ? `holds ${lockText} at its end` : inLoop ? `locks ${lockText} in a loop before its end (a round run while ${lockText} is held waits for it)` : `locks ${lockText} before its end`;
          const via = place.at !== op;
          const related: RelatedLocation[] = [
            ...(via ? [relatedAt(op, unit, `${what} blocks here`)] : []),
            relatedAt(other.node, other.unit!, `the other side, in ${describe(other.unit!)}`),
            ...(taken.id !== other.node.id ? [relatedAt(taken, other.unit!, `it takes ${lockText} here first`)] : []),
            relatedAt(h.site, h.unit, `${lockText} locked here`),
          ];
          const head = via
            ? `${place.at.childForFieldName('function')?.text ?? unit.label}() blocks ${what}${full} (at ${where(op, unit)}) while ${lockText} is held`
            : `${what} blocks${full} while ${lockText} is held`;
          pass.report({
            file: place.unit.file,
            node: place.at,
            message: `${head}, and ${side} ${takes}: each waits for the other (the other side is at ${where(other.node, other.unit!)}, in ${describe(other.unit!)})`,
            related,
          });
          break;
        }
      }
    };

    for (const file of pkg.files) {
      for (const m of file.text.matchAll(/<-/g)) {
        const tok = file.root.descendantForIndex(m.index!, m.index! + 2);
        if (tok?.type !== '<-') continue;
        const op = blockingOp(tok);
        if (op && (op.chan.type === 'identifier' || op.chan.type === 'selector_expression')) check(file, op.op, op.chan, op.kind, chans);
      }
      for (const m of file.text.matchAll(/\.Wait\(\)/g)) {
        const field = file.root.descendantForIndex(m.index! + 1, m.index! + 5);
        const sel = field?.parent;
        const call = sel?.parent;
        if (field?.type !== 'field_identifier' || sel?.type !== 'selector_expression' || call?.type !== 'call_expression') continue;
        const x = sel.childForFieldName('operand');
        if (!x || (x.type !== 'identifier' && x.type !== 'selector_expression')) continue;
        const t = typeOfExpr(x, file, pkg);
        if (t?.kind !== 'waitgroup' && !(t?.kind === 'pointer' && t.elem?.kind === 'waitgroup')) continue;
        check(file, call, x, 'wait', groups);
      }
    }
  },
};
