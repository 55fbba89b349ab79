// Path conditions, the way GCatch prunes infeasible paths but syntactic: the comparisons of the
// `if`s around a point (`interval > 0`, `!udp`, `mode == "file"`), and the ones around every call
// chain that reaches its function (three callers deep). Two points whose every chain has
// contradicting conditions on the same expression never run in one configuration: racelens
// assumes such an expression (a config field) does not change while the program runs.
import type { Node } from 'web-tree-sitter';
import { cachedParent, cachedType } from '../tree-cache';
import type { Fact } from '../fact';
import { CallGraphFact, type CallGraph } from './callgraph';
import type { FuncUnit } from './functions';

type Op = '==' | '!=' | '<' | '<=' | '>' | '>=';

/** `expr op value` holds where the code runs. */
export interface Guard { expr: string; op: Op; value: string }

/** The conditions along one way of reaching a point, and the calls it passes through. */
export interface Context { guards: Guard[]; via: Set<number> }

const NEGATE: Record<Op, Op> = { '==': '!=', '!=': '==', '<': '>=', '<=': '>', '>': '<=', '>=': '<' };
const ATOM = /^(.+?)\s*(==|!=|<=|>=|<|>)\s*(-?\d+|nil|"[^"\\]*"|true|false)$/;
/** A budget: more ways in than this and racelens assumes nothing about the conditions. */
const MAX_CONTEXTS = 16;
/** A budget: callers followed up from a function. */
const MAX_DEPTH = 3;

export class PathGuards {
  private readonly cache = new Map<FuncUnit, Context[]>();

  constructor(private readonly calls: CallGraph) {}

  /** The ways `node` in `unit` is reached: its own ifs, plus each way its function is reached. */
  contexts(node: Node, unit: FuncUnit): Context[] {
    const local = guardsAround(node, unit);
    return this.unitContexts(unit, 0).map((c) => ({ guards: [...local, ...c.guards], via: c.via }));
  }

  private unitContexts(u: FuncUnit, depth: number): Context[] {
    const cached = this.cache.get(u);
    if (cached && depth === 0) return cached;
    const unknown: Context[] = [{ guards: [], via: new Set() }];
    if (depth > MAX_DEPTH) return unknown;
    let out: Context[] = [];
    if (u.isLiteral && u.parent) {
      out = this.prefix(guardsAround(u.node, u.parent), undefined, this.unitContexts(u.parent, depth + 1));
    } else {
      const callers = this.calls.callersOf(u);
      if (!callers.length) return unknown;
      for (const e of callers) {
        out.push(...this.prefix(guardsAround(e.call, e.caller), e.call, this.unitContexts(e.caller, depth + 1)));
        if (out.length > MAX_CONTEXTS) return unknown;
      }
    }
    if (depth === 0) this.cache.set(u, out);
    return out;
  }

  private prefix(guards: Guard[], call: Node | undefined, outer: Context[]): Context[] {
    return outer.map((c) => ({ guards: [...guards, ...c.guards], via: call ? new Set([call.id, ...c.via]) : c.via }));
  }
}

/** The comparisons that hold inside the ifs around `node`, up to its function. */
export function guardsAround(node: Node, unit: FuncUnit): Guard[] {
  const out: Guard[] = [];
  let child = node;
  for (let n = cachedParent(node); n && n.id !== unit.node.id; child = n, n = cachedParent(n)) {
    if (cachedType(n) === 'func_literal') break;
    if (cachedType(n) !== 'if_statement') continue;
    const cond = n.childForFieldName('condition');
    if (!cond) continue;
    const inThen = n.childForFieldName('consequence')?.id === child.id;
    const inElse = n.childForFieldName('alternative')?.id === child.id;
    if (!inThen && !inElse) continue;
    const atoms = parseCondition(cond.text, unit);
    if (!atoms) continue;
    if (inThen) out.push(...atoms);
    else if (atoms.length === 1) out.push({ ...atoms[0], op: NEGATE[atoms[0].op] });
  }
  return out;
}

/** `a > 0 && !b` → [a > 0, b == false]; undefined for anything with `||` or calls racelens cannot compare. */
function parseCondition(text: string, unit: FuncUnit): Guard[] | undefined {
  if (text.includes('||')) return undefined;
  const out: Guard[] = [];
  for (const raw of text.split('&&')) {
    const atom = raw.trim().replace(/^\((.*)\)$/, '$1').trim();
    const m = ATOM.exec(atom);
    if (m) { out.push({ expr: normalize(m[1], unit), op: m[2] as Op, value: m[3] }); continue; }
    const neg = /^!\s*([\w.]+)$/.exec(atom);
    if (neg) { out.push({ expr: normalize(neg[1], unit), op: '==', value: 'false' }); continue; }
    if (/^[\w.]+$/.test(atom)) out.push({ expr: normalize(atom, unit), op: '==', value: 'true' });
  }
  return out.length ? out : undefined;
}

/** `e.parent.Interval` in a method of `endpoint` → `endpoint.parent.Interval`, so methods with other receiver names agree. */
function normalize(expr: string, unit: FuncUnit): string {
  const e = expr.replace(/\s+/g, '');
  const top = unit.outermost;
  if (top.recvName && top.recvType && e.startsWith(`${top.recvName}.`)) return `${top.recvType}${e.slice(top.recvName.length)}`;
  // A parameter of a named struct type (`func register(pod *Pod, p *Prometheus)`): by its type too.
  const root = /^(\w+)\./.exec(e)?.[1];
  const params = root ? top.node.childForFieldName('parameters')?.text : undefined;
  const type = params && root ? new RegExp(`(?:^|[(,])\\s*${root}\\s+\\*?(\\w+)\\s*[,)]`).exec(params)?.[1] : undefined;
  if (type && root) return `${type}${e.slice(root.length)}`;
  return e.includes('(') && !/^[\w.]+\([\w.]+\)$/.test(e) ? `?${e}` : e; // a call other than a conversion may change
}

/** Some expression is compared in both lists in ways no single value satisfies. */
export function contradict(a: Guard[], b: Guard[]): boolean {
  for (const x of a) {
    if (x.expr.startsWith('?')) continue;
    for (const y of b) if (x.expr === y.expr && !satisfiable(x, y)) return true;
  }
  return false;
}

function satisfiable(x: Guard, y: Guard): boolean {
  const nx = Number(x.value), ny = Number(y.value);
  if (Number.isInteger(nx) && Number.isInteger(ny)) {
    for (const v of [nx - 1, nx, nx + 1, ny - 1, ny, ny + 1]) if (holds(v, x.op, nx) && holds(v, y.op, ny)) return true;
    return false;
  }
  if (x.op === '==' && y.op === '==') return x.value === y.value;
  if ((x.op === '==' && y.op === '!=') || (x.op === '!=' && y.op === '==')) return x.value !== y.value;
  return true;
}

function holds(v: number, op: Op, c: number): boolean {
  switch (op) {
    case '==': return v === c;
    case '!=': return v !== c;
    case '<': return v < c;
    case '<=': return v <= c;
    case '>': return v > c;
    case '>=': return v >= c;
  }
}

export const PathGuardsFact: Fact<PathGuards> = {
  name: 'PathGuards',
  build: (facts) => new PathGuards(facts.get(CallGraphFact)),
};
