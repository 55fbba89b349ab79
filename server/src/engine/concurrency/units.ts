// Function units of a package (functions, methods, function literals), the calls between them,
// and the concurrent contexts they run in: goroutines, HTTP handlers, errgroup.Go, time.AfterFunc.
import type { Node } from 'web-tree-sitter';
import type { Package } from '../package';
import { query } from '../parser';
import { findLocalDeclaration } from '../scope';
import type { SourceFile } from '../source-file';
import { typeOfExpr } from '../types';
import { cachedType } from '../tree-cache';

export class FuncUnit {
  /** Function or method name; undefined for literals. */
  name?: string;
  /** Receiver type name for methods (without `*` and type parameters). */
  recvType?: string;
  recvName?: string;
  /** Call sites in this unit's body (nested literals included) resolved to package units; see Units.callsOf. */
  calls?: Call[];
  readonly id: string;
  readonly start: number;
  readonly end: number;
  private bodyNode?: Node | null;

  constructor(readonly node: Node, readonly file: SourceFile, readonly parent?: FuncUnit) {
    this.id = `${file.path}:${node.startIndex}`;
    this.start = node.startIndex;
    this.end = node.endIndex;
  }

  get body(): Node | null {
    if (this.bodyNode === undefined) this.bodyNode = this.node.childForFieldName('body');
    return this.bodyNode;
  }
}

/** `func name(`, `func (r *T[K]) name(`: names read from the text, cheaper than the tree. */
const SIGNATURE = /func\s*(?:\(\s*(?:([\w$]+)\s+)?\*?\s*([\w$]+)[^)]*\)\s*)?([\w$]+)/y;

export interface Call {
  callee: FuncUnit;
  call: Node;
  /** `r.m()` on the caller's own receiver: the callee runs on the same instance. */
  onReceiver: boolean;
}

export type RootKind = 'goroutine' | 'handler' | 'callback' | 'api';

/** A place where code starts running concurrently with the rest. */
export interface ConcurrentRoot {
  unit: FuncUnit;
  kind: RootKind;
  /** Runs concurrently with other runs of itself (handler, goroutine started in a loop). */
  self: boolean;
  /** The go statement / registration call that starts it, if any. */
  site?: Node;
  /** The unit containing the site. */
  spawner?: FuncUnit;
}

const UNIT_TYPES = new Set(['function_declaration', 'method_declaration', 'func_literal']);
const GO_KEYWORD = /(?<![\w$.])go(?=\s+[\w(])/g;
/** Registrations that start concurrent work, found by text and then checked in the tree. */
const SPAWN_CALLS = /\.(HandleFunc|Handle|Go|AfterFunc)\s*\(/g;

const LOOPS = new Set(['for_statement']);

/** True when the parameter list is (http.ResponseWriter, *http.Request), through any import name. */
export function isHandlerSignature(fn: Node, file: SourceFile): boolean {
  const http = file.importOf('net/http');
  if (!http) return false;
  const q = http.dot ? '' : `${http.local}.`;
  const params = fn.childForFieldName('parameters')?.namedChildren.filter((p) => p?.type === 'parameter_declaration') ?? [];
  const types: string[] = [];
  for (const p of params) {
    const t = p!.childForFieldName('type')?.text.replace(/\s+/g, '') ?? '';
    const n = Math.max(1, p!.childrenForFieldName('name').length);
    for (let i = 0; i < n; i++) types.push(t);
  }
  return types.length === 2 && types[0] === `${q}ResponseWriter` && types[1] === `*${q}Request`;
}

/** `go c.serve()` where c is declared inside the loop: each goroutine has its own receiver. */
function freshPerIteration(fn: Node, goStmt: Node): boolean {
  const operand = fn.type === 'selector_expression' ? fn.childForFieldName('operand') : null;
  if (operand?.type !== 'identifier') return false;
  const decl = findLocalDeclaration(operand, operand.text);
  if (!decl) return false;
  for (let n = goStmt.parent; n; n = n.parent) {
    if (n.type === 'for_statement') return decl.startIndex > n.startIndex && decl.endIndex <= n.endIndex;
  }
  return false;
}

function inLoop(node: Node, stopAt: Node | null): boolean {
  for (let n = node.parent; n && (!stopAt || n.id !== stopAt.id); n = n.parent) {
    if (LOOPS.has(n.type)) return true;
    if (n.type === 'func_literal' || n.type === 'function_declaration' || n.type === 'method_declaration') return false;
  }
  return false;
}

export class Units {
  readonly all: FuncUnit[] = [];
  private readonly byKey = new Map<string, FuncUnit>(); // "f:name" / "m:Type.name"
  private readonly byNode = new Map<number, FuncUnit>();
  private readonly methodNames = new Set<string>();
  /** Units of each file in source order, for position lookups. */
  private readonly byFile = new Map<SourceFile, FuncUnit[]>();
  readonly roots: ConcurrentRoot[] = [];
  /** Reachability from the roots, computed on first use after the roots change (it resolves calls). */
  private reachability?: { all: Map<string, Set<ConcurrentRoot>>; sameReceiver: Map<string, Set<ConcurrentRoot>> };
  /** Function literals by the id of their enclosing unit. */
  private readonly literals = new Map<string, FuncUnit[]>();

  /** `empty`: the package has no concurrency at all; build nothing. */
  constructor(readonly pkg: Package, empty = false) {
    if (empty) return;
    for (const file of pkg.files) this.collect(file);
    for (const file of pkg.files) this.findRoots(file);
  }

  /** Unit id → roots it is reachable from. */
  get reach(): Map<string, Set<ConcurrentRoot>> { return (this.reachability ??= this.propagate()).all; }

  /** Unit id → roots it is reachable from through calls on the same receiver only. */
  get reachSameReceiver(): Map<string, Set<ConcurrentRoot>> { return (this.reachability ??= this.propagate()).sameReceiver; }

  private collect(file: SourceFile): void {
    const stack: FuncUnit[] = [];
    // The `func` keywords locate every function without a query pass over the whole tree.
    for (const m of file.text.matchAll(/(?<![\w$.])func(?![\w$])/g)) {
      // The smallest named node around the keyword: the function, or something that is not one.
      const node = file.root.namedDescendantForIndex(m.index!, m.index! + 4);
      const type = node && cachedType(node);
      if (!node || !type || !UNIT_TYPES.has(type) || node.startIndex !== m.index) continue;
      while (stack.length && stack[stack.length - 1].end <= node.startIndex) stack.pop();
      const literal = type === 'func_literal';
      const u = new FuncUnit(node, file, literal ? stack[stack.length - 1] : undefined);
      if (!literal) {
        SIGNATURE.lastIndex = node.startIndex; // sticky: matched in place, however long the receiver
        const sig = SIGNATURE.exec(file.text);
        u.name = sig?.[3];
        if (type === 'method_declaration') {
          u.recvName = sig?.[1];
          u.recvType = sig?.[2];
          if (u.name && u.recvType) {
            this.byKey.set(`m:${u.recvType}.${u.name}`, u);
            this.methodNames.add(u.name);
          }
        } else if (u.name && u.name !== 'init' && u.name !== '_') {
          this.byKey.set(`f:${u.name}`, u);
        }
      }
      this.all.push(u);
      this.byNode.set(node.id, u);
      const list = this.byFile.get(file);
      if (list) list.push(u); else this.byFile.set(file, [u]);
      if (u.parent) this.literals.set(u.parent.id, [...(this.literals.get(u.parent.id) ?? []), u]);
      stack.push(u);
    }
  }

  method(type: string, name: string): FuncUnit | undefined { return this.byKey.get(`m:${type}.${name}`); }
  func(name: string): FuncUnit | undefined { return this.byKey.get(`f:${name}`); }

  /** The innermost unit containing a node. */
  enclosing(node: Node): FuncUnit | undefined {
    const file = this.pkg.fileOf(node);
    return file && this.unitAt(file, node.startIndex, node.endIndex, node.id);
  }

  /** The innermost unit containing [start, end) of a file (binary search over its units). */
  unitAt(file: SourceFile, start: number, end = start, selfId?: number): FuncUnit | undefined {
    const list = this.byFile.get(file);
    if (!list) return undefined;
    let lo = 0, hi = list.length - 1, best = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (list[mid].start <= start) { best = mid; lo = mid + 1; } else hi = mid - 1;
    }
    // Units nest (literals in functions); walk outwards to the first that contains the range.
    for (let i = best; i >= 0; i--) {
      const u = list[i];
      if (u.start <= start && end <= u.end && !(u.start === start && u.node.id === selfId)) return u;
      if (!u.parent && u.end <= start) return undefined;
    }
    return undefined;
  }

  /** The struct type name of a method receiver or typed variable used as `x` in `x.m()`. */
  typeNameOf(operand: Node, file: SourceFile): string | undefined {
    const u = this.enclosing(operand);
    let outer = u;
    while (outer?.parent) outer = outer.parent;
    // The receiver by name: shadowing a receiver is rare enough not to pay a scope walk for.
    if (operand.type === 'identifier' && outer?.recvName === operand.text) return outer.recvType;
    if (operand.type === 'identifier' && operand.text === this.pkg.name) return undefined;
    const t = typeOfExpr(operand, file, this.pkg);
    return (t?.kind === 'pointer' ? t.elem?.name : t?.name) ?? undefined;
  }

  /** Resolves the callee of a call or a function value (`f`, `s.handle`, `func(){...}`). */
  resolveFunction(expr: Node, file: SourceFile): FuncUnit | undefined {
    if (expr.type === 'func_literal') return this.byNode.get(expr.id);
    if (expr.type === 'parenthesized_expression' && expr.namedChild(0)) return this.resolveFunction(expr.namedChild(0)!, file);
    if (expr.type === 'identifier') {
      const f = this.func(expr.text);
      return f && !findLocalDeclaration(expr, expr.text) ? f : undefined;
    }
    if (expr.type === 'selector_expression') {
      const name = expr.childForFieldName('field')?.text;
      if (!name || !this.methodNames.has(name)) return undefined; // a method of another package
      const operand = expr.childForFieldName('operand');
      if (!operand) return undefined;
      const type = this.typeNameOf(operand, file);
      return type ? this.method(type, name) : undefined;
    }
    return undefined;
  }

  /** True when `ident` names the receiver of the method enclosing it. */
  isReceiver(ident: Node): boolean {
    let outer = this.enclosing(ident);
    while (outer?.parent) outer = outer.parent;
    return !!outer?.recvName && outer.recvName === ident.text;
  }

  /** Calls from a unit to package units, resolved on first use. */
  callsOf(u: FuncUnit): Call[] {
    if (!u.calls) this.resolveCalls(u);
    return u.calls!;
  }

  private resolveCalls(u: FuncUnit): void {
    u.calls = [];
    if (!u.body) return;
    const q = query('(call_expression function: (_) @fn) @call');
    for (const m of q.matches(u.body)) {
      const call = m.captures.find((c) => c.name === 'call')!.node;
      const fn = m.captures.find((c) => c.name === 'fn')!.node;
      if (fn.type === 'func_literal') continue; // the literal is its own unit
      const callee = this.resolveFunction(fn, u.file);
      if (!callee) continue;
      const operand = fn.type === 'selector_expression' ? fn.childForFieldName('operand') : null;
      const onReceiver = operand?.type === 'identifier' && this.isReceiver(operand);
      u.calls.push({ callee, call, onReceiver });
    }
  }

  private addRoot(root: ConcurrentRoot): void {
    if (this.roots.some((r) => r.unit.id === root.unit.id && r.site?.id === root.site?.id)) return;
    this.roots.push(root);
    this.reachability = undefined;
  }

  private findRoots(file: SourceFile): void {
    // Handlers: only functions whose text mentions ResponseWriter need their signature checked.
    const checked = new Set<string>();
    for (const m of file.text.matchAll(/ResponseWriter/g)) {
      const u = this.unitAt(file, m.index!);
      if (!u || checked.has(u.id)) continue;
      checked.add(u.id);
      if (isHandlerSignature(u.node, file)) this.addRoot({ unit: u, kind: 'handler', self: true });
    }
    for (const m of file.text.matchAll(GO_KEYWORD)) {
      const stmt = file.root.descendantForIndex(m.index!, m.index! + 2)?.parent;
      if (stmt?.type !== 'go_statement') continue;
      const call = stmt.namedChild(0);
      const fn = call?.type === 'call_expression' ? call.childForFieldName('function') : null;
      const target = fn ? this.resolveFunction(fn, file) : undefined;
      const spawner = this.enclosing(stmt);
      const self = !!fn && inLoop(stmt, spawner?.body ?? null) && !freshPerIteration(fn, stmt);
      if (target) this.addRoot({ unit: target, kind: 'goroutine', self, site: stmt, spawner });
    }
    for (const m of file.text.matchAll(SPAWN_CALLS)) {
      const method = m[1];
      const field = file.root.descendantForIndex(m.index! + 1, m.index! + 1 + method.length);
      const sel = field?.parent;
      const call = sel?.parent;
      if (field?.type !== 'field_identifier' || sel?.type !== 'selector_expression' || call?.type !== 'call_expression') continue;
      const args = call.childForFieldName('arguments')?.namedChildren.filter((n): n is Node => !!n) ?? [];
      const operand = sel.childForFieldName('operand');
      let fnArg: Node | undefined;
      let kind: RootKind = 'goroutine';
      if ((method === 'HandleFunc' || method === 'Handle') && args.length === 2) { fnArg = args[1]; kind = 'handler'; }
      else if (method === 'Go' && args.length === 1) fnArg = args[0];
      else if (method === 'AfterFunc' && args.length === 2 && operand?.type === 'identifier' && file.refersToImport(operand, 'time')) fnArg = args[1];
      if (!fnArg) continue;
      const target = this.resolveFunction(fnArg, file);
      const spawner = this.enclosing(call);
      if (target) this.addRoot({ unit: target, kind, self: kind === 'handler' || inLoop(call, spawner?.body ?? null), site: call, spawner });
    }
  }

  /** Receiver types whose methods lock something: they declare themselves safe for concurrent use. */
  typesThatLock(): Set<string> {
    const out = new Set<string>();
    for (const file of this.pkg.files) {
      for (const m of file.text.matchAll(/\.R?Lock\(\)/g)) {
        let u = this.unitAt(file, m.index!);
        while (u?.parent) u = u.parent;
        if (u?.recvType) out.add(u.recvType);
      }
    }
    return out;
  }

  /** Exported methods of a struct that uses a mutex may be called concurrently (RacerD's rule). */
  addApiRoots(typesWithMutex: ReadonlySet<string>): void {
    for (const u of this.all) {
      // Different exported methods may run at once; one method is not assumed to race with itself.
      if (u.recvType && typesWithMutex.has(u.recvType) && u.name && /^[A-Z]/.test(u.name)) this.addRoot({ unit: u, kind: 'api', self: false });
    }
  }

  private propagate(): NonNullable<Units['reachability']> {
    const out = { all: new Map<string, Set<ConcurrentRoot>>(), sameReceiver: new Map<string, Set<ConcurrentRoot>>() };
    const spawned = new Set(this.roots.filter((r) => r.kind !== 'api').map((r) => r.unit.id));
    for (const root of this.roots) {
      this.walk(root, spawned, out.all, false);
      this.walk(root, spawned, out.sameReceiver, true);
    }
    return out;
  }

  private walk(root: ConcurrentRoot, spawned: Set<string>, into: Map<string, Set<ConcurrentRoot>>, sameReceiver: boolean): void {
    const seen = new Set<string>();
    const work = [root.unit];
    while (work.length) {
      const u = work.pop()!;
      if (seen.has(u.id)) continue;
      seen.add(u.id);
      let set = into.get(u.id);
      if (!set) into.set(u.id, (set = new Set()));
      set.add(root);
      for (const c of this.callsOf(u)) if (!sameReceiver || c.onReceiver) work.push(c.callee);
      // Literals inside a concurrent unit run in it too (deferred, callbacks), unless spawned.
      for (const lit of this.literals.get(u.id) ?? []) if (!spawned.has(lit.id)) work.push(lit);
    }
  }
}
