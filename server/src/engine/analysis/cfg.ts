// A control-flow graph per function, built from the tree-sitter tree, in the spirit of go/cfg and
// ctrlflow: one node per simple statement or branch test, with if/else, the three `for` forms and
// `range`, switch, type switch and select as multi-way branches, labels, goto, labelled
// break/continue, fallthrough and return. Calls that never return (panic, os.Exit, log.Fatal*,
// t.Fatal*/FailNow, runtime.Goexit) end their path at `abort`. Deferred calls are 'defer' nodes;
// analyses run them at `exit` in LIFO order. A `go` statement is a 'go' node (a spawn).
//
// The operations inside each node (calls, channel sends and receives) come from one query over the
// function body, in evaluation order. Function literals are units of their own, with their own CFG.
import type { Node, Point, QueryCapture } from 'web-tree-sitter';
import type { Fact } from '../fact';
import { query } from '../parser';
import type { SourceFile } from '../source-file';
import { cachedEnd, cachedNamedChildren, cachedType } from '../tree-cache';
import { FunctionsFact, type FuncUnit } from './functions';

export type FlowKind =
  /** Synthetic: where the function starts, returns (or falls off its end), and panics or exits. */
  | 'entry' | 'exit' | 'abort'
  /** A simple statement or declaration. */
  | 'stmt'
  /** A branch test: an if/for condition, a switch tag, a case's values, a range head, a select case. */
  | 'cond'
  /** A loop head with no condition (`for {}`), or a label: no code of its own. */
  | 'join'
  | 'go' | 'defer' | 'return';

export interface FlowNode {
  id: number;
  kind: FlowKind;
  /** The statement or expression the node stands for; null for synthetic nodes. */
  syntax: Node | null;
  start: number;
  end: number;
  succ: number[];
  pred: number[];
}

/** An operation inside a flow node, in evaluation order. */
export interface FlowOp {
  /** 'unlock-value': the method value `mu.Unlock` (not called here): whoever calls it may release the mutex. */
  kind: 'call' | 'send' | 'recv' | 'unlock-value';
  /** call_expression, send_statement, the `<-x` unary_expression, or the `mu.Unlock` selector. */
  syntax: Node;
  start: number;
  end: number;
  /** The call a `go` or `defer` statement defers or spawns (its arguments are evaluated in place). */
  role?: 'go' | 'defer';
}

const ENTRY = 0, EXIT = 1, ABORT = 2;

/** Method names whose call never returns to the caller: the goroutine panics, exits or stops. */
const NO_RETURN_METHODS = /^(?:Fatal|Fatalf|Fatalln|Panic|Panicf|Panicln|FailNow|SkipNow|Skip|Skipf|Goexit)$/;

export class Cfg {
  readonly entry = ENTRY;
  readonly exit = EXIT;
  readonly abort = ABORT;
  /** Nodes with a span, sorted by start, for nodeAt(). */
  private readonly spans: FlowNode[];
  private opsByNode?: Map<number, FlowOp[]>;

  constructor(readonly unit: FuncUnit, readonly nodes: FlowNode[]) {
    this.spans = nodes.filter((n) => n.syntax && n.end > n.start).sort((a, b) => a.start - b.start);
  }

  /** The flow node whose span holds `offset` in this unit's own code (the statement an access is in). */
  nodeAt(offset: number): FlowNode | undefined {
    let lo = 0, hi = this.spans.length - 1, best = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.spans[mid].start <= offset) { best = mid; lo = mid + 1; } else hi = mid - 1;
    }
    for (let i = best; i >= 0; i--) {
      const n = this.spans[i];
      if (n.start <= offset && offset < n.end) return n;
      if (best - i > 8) break; // spans are disjoint: the holder is among the last few that start before
    }
    return undefined;
  }

  /** The operations in each node, in evaluation order; built on first use with one query. */
  ops(node: FlowNode): readonly FlowOp[] {
    if (!this.opsByNode) this.opsByNode = collectOps(this);
    return this.opsByNode.get(node.id) ?? [];
  }

  /** Every node reachable from `from` (included) without passing through a node `stop` accepts. */
  reachableFrom(from: readonly number[], stop?: (n: FlowNode) => boolean): Uint8Array {
    const seen = new Uint8Array(this.nodes.length);
    const work = [...from];
    for (const f of from) seen[f] = 1;
    while (work.length) {
      const id = work.pop()!;
      const n = this.nodes[id];
      if (stop && stop(n)) continue;
      for (const s of n.succ) if (!seen[s]) { seen[s] = 1; work.push(s); }
    }
    return seen;
  }

  private rpo?: number[];

  /** Nodes in reverse postorder from the entry: the order a forward dataflow visits them. */
  get order(): number[] {
    return (this.rpo ??= this.reversePostorder());
  }

  private reversePostorder(): number[] {
    const seen = new Uint8Array(this.nodes.length);
    const post: number[] = [];
    const stack: [number, number][] = [[ENTRY, 0]];
    seen[ENTRY] = 1;
    while (stack.length) {
      const top = stack[stack.length - 1];
      const n = this.nodes[top[0]];
      if (top[1] < n.succ.length) {
        const s = n.succ[top[1]++];
        if (!seen[s]) { seen[s] = 1; stack.push([s, 0]); }
      } else {
        post.push(top[0]);
        stack.pop();
      }
    }
    return post.reverse();
  }
}

/**
 * A forward dataflow over a CFG to its fixpoint: `transfer` maps the state before a node to the
 * state after it, `join` merges states at a node with several predecessors. Returns the state
 * before each node (undefined for unreachable ones). `dead` drops edges known never to run.
 */
export function solveForward<S>(cfg: Cfg, init: S, transfer: (n: FlowNode, s: S) => S, join: (a: S, b: S) => S, equal: (a: S, b: S) => boolean, dead?: (from: FlowNode, to: FlowNode) => boolean): (S | undefined)[] {
  const before: (S | undefined)[] = new Array(cfg.nodes.length);
  const after: (S | undefined)[] = new Array(cfg.nodes.length);
  const order = cfg.order;
  // A node is visited again only when the state after one of its predecessors changed.
  const dirty = new Uint8Array(cfg.nodes.length).fill(1);
  // Rounds in reverse postorder until nothing changes: loops settle in two or three.
  for (let round = 0, changed = true; changed && round < 64; round++) { // a budget: the lattices are finite and small
    changed = false;
    for (const id of order) {
      if (!dirty[id]) continue;
      dirty[id] = 0;
      const n = cfg.nodes[id];
      let input: S | undefined = id === cfg.entry ? init : undefined;
      for (const p of n.pred) {
        const a = after[p];
        if (dead && a !== undefined && dead(cfg.nodes[p], n)) continue;
        if (a !== undefined) input = input === undefined ? a : join(input, a);
      }
      if (input === undefined) continue;
      before[id] = input;
      const out = transfer(n, input);
      const old = after[id];
      if (old === undefined || !equal(old, out)) {
        after[id] = out;
        changed = true;
        for (const next of n.succ) dirty[next] = 1;
      }
    }
  }
  return before;
}

// ---------------------------------------------------------------------------------------------
// Building

interface Target { label?: string; breaks: number[]; continueTo?: number; kind: 'loop' | 'switch' | 'select' }

class Builder {
  readonly nodes: FlowNode[] = [];
  private readonly targets: Target[] = [];
  private readonly labels = new Map<string, number>();
  private readonly gotos: { from: number; label: string }[] = [];
  /** A label waiting for the statement it names (for labelled break/continue). */
  private pendingLabel?: string;

  constructor(private readonly file: SourceFile) {
    this.add('entry', null, 0, 0);
    this.add('exit', null, 0, 0);
    this.add('abort', null, 0, 0);
  }

  add(kind: FlowKind, syntax: Node | null, start: number, end: number): number {
    const id = this.nodes.length;
    this.nodes.push({ id, kind, syntax, start, end, succ: [], pred: [] });
    return id;
  }

  edge(from: number, to: number): void {
    const a = this.nodes[from];
    if (a.succ.includes(to)) return;
    a.succ.push(to);
    this.nodes[to].pred.push(from);
  }

  /** A node for `syntax`, entered from every node in `preds`. */
  private node(kind: FlowKind, syntax: Node | null, preds: readonly number[], start?: number, end?: number): number {
    const id = this.add(kind, syntax, start ?? syntax?.startIndex ?? 0, end ?? (syntax ? cachedEnd(syntax) : 0));
    for (const p of preds) this.edge(p, id);
    return id;
  }

  finish(body: Node | null): void {
    const ends = body ? this.block(body, [ENTRY]) : [ENTRY];
    for (const e of ends) this.edge(e, EXIT);
    for (const g of this.gotos) {
      const to = this.labels.get(g.label);
      if (to !== undefined) this.edge(g.from, to);
    }
  }

  /** The statements of a block or statement list, in order; returns the nodes that fall out of it. */
  block(block: Node, preds: number[]): number[] {
    let cur = preds;
    for (const child of cachedNamedChildren(block)) {
      if (!child) continue;
      const type = cachedType(child);
      if (type === 'comment') continue;
      if (type === 'statement_list' || type === 'block') { cur = this.block(child, cur); continue; }
      cur = this.statement(child, cur);
    }
    return cur;
  }

  statement(s: Node, preds: number[]): number[] {
    const type = cachedType(s);
    const label = this.pendingLabel;
    this.pendingLabel = undefined;
    switch (type) {
      case 'block':
      case 'statement_list':
        return this.block(s, preds);
      case 'if_statement':
        return this.ifStatement(s, preds);
      case 'for_statement':
        return this.forStatement(s, preds, label);
      case 'expression_switch_statement':
      case 'type_switch_statement':
        return this.switchStatement(s, preds, label);
      case 'select_statement':
        return this.selectStatement(s, preds, label);
      case 'labeled_statement': {
        const name = s.childForFieldName('label')?.text ?? '';
        const at = this.node('join', s, preds, s.startIndex, s.startIndex + name.length + 1);
        this.labels.set(name, at);
        const inner = cachedNamedChildren(s).find((c) => c && cachedType(c) !== 'label_name' && cachedType(c) !== 'comment');
        if (!inner) return [at];
        this.pendingLabel = name;
        return this.statement(inner, [at]);
      }
      case 'return_statement': {
        const id = this.node('return', s, preds);
        this.edge(id, EXIT);
        return [];
      }
      case 'go_statement':
        return [this.node('go', s, preds)];
      case 'defer_statement':
        return [this.node('defer', s, preds)];
      case 'goto_statement': {
        const id = this.node('stmt', s, preds);
        this.gotos.push({ from: id, label: s.namedChild(0)?.text ?? '' });
        return [];
      }
      case 'break_statement':
      case 'continue_statement': {
        const id = this.node('stmt', s, preds);
        const name = s.namedChild(0)?.text;
        const t = this.target(type === 'break_statement', name);
        if (!t) return []; // a stray break: nothing to jump to
        if (type === 'break_statement') t.breaks.push(id);
        else if (t.continueTo !== undefined) this.edge(id, t.continueTo);
        return [];
      }
      case 'fallthrough_statement':
        return [this.node('stmt', s, preds)]; // switchStatement links it to the next clause
      case 'empty_statement':
        return preds;
      default: {
        const id = this.node('stmt', s, preds);
        if (type === 'expression_statement' && this.neverReturns(s)) {
          this.edge(id, ABORT);
          return [];
        }
        return [id];
      }
    }
  }

  /** The innermost enclosing loop (for continue) or loop/switch/select (for break), or the one labelled `name`. */
  private target(isBreak: boolean, name: string | undefined): Target | undefined {
    for (let i = this.targets.length - 1; i >= 0; i--) {
      const t = this.targets[i];
      if (name !== undefined ? t.label === name : isBreak || t.kind === 'loop') {
        if (!isBreak && t.kind !== 'loop') return undefined;
        return t;
      }
    }
    return undefined;
  }

  /** `panic(...)`, `os.Exit(...)`, `log.Fatal(...)`, `t.Fatalf(...)`, `runtime.Goexit()`: read from the text. */
  private neverReturns(s: Node): boolean {
    const text = this.file.text.slice(s.startIndex, Math.min(cachedEnd(s), s.startIndex + 200));
    const m = /^(?:([\w$]+)\s*\.\s*)?([\w$]+)\s*\(/.exec(text);
    if (!m) return false;
    const [, qualifier, name] = m;
    if (!qualifier) return name === 'panic';
    if (name === 'Exit') return qualifier === 'os' || qualifier === 'syscall';
    return NO_RETURN_METHODS.test(name);
  }

  private ifStatement(s: Node, preds: number[]): number[] {
    let cur = preds;
    const init = s.childForFieldName('initializer');
    if (init) cur = [this.node('stmt', init, cur)];
    const cond = s.childForFieldName('condition');
    const test = this.node('cond', cond ?? s, cur, cond?.startIndex ?? s.startIndex, cond ? cachedEnd(cond) : s.startIndex + 2);
    const consequence = s.childForFieldName('consequence');
    const alternative = s.childForFieldName('alternative');
    const out = consequence ? this.block(consequence, [test]) : [test];
    if (!alternative) return [...out, test];
    return [...out, ...(cachedType(alternative) === 'if_statement' ? this.ifStatement(alternative, [test]) : this.block(alternative, [test]))];
  }

  private forStatement(s: Node, preds: number[], label?: string): number[] {
    const body = s.childForFieldName('body');
    let head: number;
    let post: Node | null = null;
    let exits: number[] = [];
    const clause = cachedNamedChildren(s).find((c) => c && c.id !== body?.id && cachedType(c) !== 'comment') ?? null;
    const clauseType = clause && cachedType(clause);
    if (clauseType === 'for_clause') {
      const init = clause!.childForFieldName('initializer');
      const cond = clause!.childForFieldName('condition');
      post = clause!.childForFieldName('update');
      const cur = init ? [this.node('stmt', init, preds)] : preds;
      head = cond ? this.node('cond', cond, cur) : this.node('join', s, cur, s.startIndex, s.startIndex + 3);
      if (cond) exits = [head];
    } else if (clauseType === 'range_clause') {
      head = this.node('cond', clause, preds);
      exits = [head];
    } else if (clause) {
      head = this.node('cond', clause, preds); // `for cond {`
      exits = [head];
    } else {
      head = this.node('join', s, preds, s.startIndex, s.startIndex + 3); // `for {`
    }
    const target: Target = { label, breaks: [], continueTo: head, kind: 'loop' };
    let postId: number | undefined;
    if (post) {
      postId = this.add('stmt', post, post.startIndex, cachedEnd(post));
      this.edge(postId, head);
      target.continueTo = postId;
    }
    this.targets.push(target);
    const out = body ? this.block(body, [head]) : [head];
    this.targets.pop();
    for (const o of out) this.edge(o, postId ?? head);
    return [...exits, ...target.breaks];
  }

  private switchStatement(s: Node, preds: number[], label?: string): number[] {
    let cur = preds;
    const init = s.childForFieldName('initializer');
    if (init) cur = [this.node('stmt', init, cur)];
    const value = s.childForFieldName('value');
    const tag = this.node('cond', value ?? s, cur, value?.startIndex ?? s.startIndex, value ? cachedEnd(value) : s.startIndex + 6);
    const target: Target = { label, breaks: [], kind: 'switch' };
    this.targets.push(target);
    const clauses = cachedNamedChildren(s).filter((c): c is Node => !!c && /^(?:expression_case|type_case|default_case)$/.test(cachedType(c)));
    let hasDefault = false;
    let fallIn: number[] = [];
    const out: number[] = [];
    for (const c of clauses) {
      const kind = cachedType(c);
      if (kind === 'default_case') hasDefault = true;
      const values = kind === 'expression_case' ? c.childForFieldName('value') : null;
      const test = this.node('cond', c, [tag], c.startIndex, values ? cachedEnd(values) : c.startIndex + 4);
      for (const f of fallIn) this.edge(f, test);
      const list = cachedNamedChildren(c).find((x) => x && cachedType(x) === 'statement_list');
      const ends = list ? this.block(list, [test]) : [test];
      fallIn = [];
      for (const e of ends) {
        if (this.nodes[e].syntax && cachedType(this.nodes[e].syntax!) === 'fallthrough_statement') fallIn.push(e);
        else out.push(e);
      }
    }
    this.targets.pop();
    out.push(...fallIn);
    if (!hasDefault) out.push(tag);
    return [...out, ...target.breaks];
  }

  private selectStatement(s: Node, preds: number[], label?: string): number[] {
    const head = this.node('join', s, preds, s.startIndex, s.startIndex + 6);
    const target: Target = { label, breaks: [], kind: 'select' };
    this.targets.push(target);
    const out: number[] = [];
    for (const c of cachedNamedChildren(s)) {
      if (!c) continue;
      const kind = cachedType(c);
      if (kind !== 'communication_case' && kind !== 'default_case') continue;
      const comm = kind === 'communication_case' ? c.childForFieldName('communication') : null;
      const test = comm ? this.node('cond', comm, [head]) : this.node('cond', c, [head], c.startIndex, c.startIndex + 7);
      const list = cachedNamedChildren(c).find((x) => x && cachedType(x) === 'statement_list');
      out.push(...(list ? this.block(list, [test]) : [test]));
    }
    this.targets.pop();
    return [...out, ...target.breaks]; // `select {}` blocks forever: nothing falls out
  }
}

/** Builds the CFG of one unit. */
export function buildCfg(unit: FuncUnit): Cfg {
  const b = new Builder(unit.file);
  b.finish(unit.body);
  return new Cfg(unit, b.nodes);
}

const OPS = '(call_expression) @call (send_statement) @send (unary_expression operator: "<-") @recv';

/**
 * The operations of a unit's own code, in document order: the query runs on the stretches of the
 * body between its literals (each literal is a unit that queries itself), so no call is read twice.
 * A stretch returns the nodes that intersect it: one spanning a literal comes once, from its first.
 * Stretches are given as points, the unit the query API shares with the nodes.
 */
function ownCaptures(unit: FuncUnit, body: Node): QueryCapture[] {
  if (!unit.literals.length) return query(OPS).captures(body);
  const out: QueryCapture[] = [];
  const seen = new Set<number>();
  const stretch = (startPosition: Point, endPosition: Point) => {
    if (startPosition.row === endPosition.row && startPosition.column >= endPosition.column) return;
    for (const c of query(OPS).captures(body, { startPosition, endPosition })) {
      if (!seen.has(c.node.id)) { seen.add(c.node.id); out.push(c); }
    }
  };
  let from = body.startPosition;
  for (const lit of unit.literals) {
    stretch(from, lit.node.startPosition);
    from = lit.node.endPosition;
  }
  stretch(from, body.endPosition);
  return out;
}

function collectOps(cfg: Cfg): Map<number, FlowOp[]> {
  const out = new Map<number, FlowOp[]>();
  const unit = cfg.unit;
  if (!unit.body) return out;
  for (const c of ownCaptures(unit, unit.body)) {
    const node = c.node;
    const end = node.endIndex;
    if (!unit.owns(node.startIndex, end)) continue;
    const at = cfg.nodeAt(node.startIndex);
    if (!at) continue;
    const op: FlowOp = { kind: c.name as FlowOp['kind'], syntax: node, start: node.startIndex, end };
    if ((at.kind === 'go' || at.kind === 'defer') && op.kind === 'call' && at.syntax?.namedChild(0)?.id === node.id) op.role = at.kind;
    const list = out.get(at.id);
    if (list) list.push(op); else out.set(at.id, [op]);
  }
  // `unlock := mu.Unlock`, `t.Cleanup(mu.Unlock)`: a method value that releases the mutex when called.
  const own = unit.file.text.slice(unit.start, unit.end);
  for (const m of own.includes('Unlock') ? own.matchAll(/\.\s*R?Unlock\b(?!\s*\()/g) : []) {
    const at0 = unit.start + m.index! + m[0].indexOf('U') - (m[0].includes('RUnlock') ? 1 : 0);
    const sel = unit.file.root.descendantForIndex(at0, at0 + 1)?.parent;
    if (sel?.type !== 'selector_expression' || !unit.owns(sel.startIndex, sel.endIndex)) continue;
    const at = cfg.nodeAt(sel.startIndex);
    if (!at) continue;
    const list = out.get(at.id);
    const op: FlowOp = { kind: 'unlock-value', syntax: sel, start: sel.startIndex, end: sel.endIndex };
    if (list) list.push(op); else out.set(at.id, [op]);
  }
  // Evaluation order: an operation nested in another's operands completes first (inner calls end
  // earlier); a send's value is evaluated before the send.
  for (const list of out.values()) list.sort((a, b) => a.end - b.end || b.start - a.start);
  return out;
}

/** The CFG of each unit of the package, built on first use. */
export class Cfgs {
  private readonly built = new Map<FuncUnit, Cfg>();
  of(unit: FuncUnit): Cfg {
    let cfg = this.built.get(unit);
    if (!cfg) this.built.set(unit, (cfg = buildCfg(unit)));
    return cfg;
  }
}

export const CfgFact: Fact<Cfgs> = { name: 'Cfg', build: (facts) => { facts.get(FunctionsFact); return new Cfgs(); } };
