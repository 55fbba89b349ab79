// The package's call graph: which package functions a call may run. Direct calls, methods
// (promoted ones included), interface calls resolved to the package's implementations (class
// hierarchy analysis, capped), and function values that flow through struct fields, parameters,
// locals and method values (context-insensitive, capped). Library models add the calls the
// standard library makes for the caller: once.Do(f), sort.Slice(x, less), fmt calling String()
// and Error() on its arguments.
import type { Node } from 'web-tree-sitter';
import type { Fact } from '../fact';
import type { Package } from '../package';
import { findLocalDeclaration } from '../scope';
import type { SourceFile } from '../source-file';
import { cachedParent, cachedType } from '../tree-cache';
import { implementsAll, packageTypes, structNameOf, typeOfExpr, type GoType } from '../types';
import { FunctionsFact, type FuncUnit, type Functions } from './functions';
import { argumentsOf, escapeRegExp, parameterIndex } from '../syntax';

/** Words followed by `(` that are no calls. */
const KEYWORDS = new Set(['func', 'if', 'for', 'switch', 'select', 'return', 'go', 'defer', 'case', 'range', 'else', 'make', 'new', 'len', 'cap', 'append', 'copy', 'delete', 'panic', 'recover', 'print', 'println', 'close', 'complex', 'real', 'imag', 'min', 'max', 'clear', 'interface', 'struct', 'map', 'chan']);

/** A budget: an interface or function value with more possible targets than this is left unresolved. */
export const MAX_TARGETS = 8;

/** How a call reaches a callee. */
export type CallHow = 'static' | 'interface' | 'value' | 'callback' | 'stringer';

export interface CallEdge {
  callee: FuncUnit;
  /** The call expression (for a callback or String(): the call that runs it). */
  call: Node;
  caller: FuncUnit;
  how: CallHow;
  /** `go f()` spawns the callee, `defer f()` runs it at the caller's exit. */
  role?: 'go' | 'defer';
  /** For a method call `x.m()`: the operand `x` the callee's receiver is. */
  receiver?: Node;
  /** A callback known to run before the call returns (sort.Slice, once.Do); others may run it later. */
  certain?: boolean;
}

/** A slot holding function values: a func-typed field, parameter, local or package variable. */
type Slot = string;

/** External calls known to run a function argument later or elsewhere, not before they return. */
const ASYNC_CALLBACKS = /^(?:Go|AfterFunc|HandleFunc|Handle|Cleanup|RegisterOnShutdown|SetFinalizer|OnClose|OnStop|AddFunc|Submit|Schedule)$/;
/** External calls known to run their function argument before they return. */
const SYNC_CALLBACKS = /^(?:Slice|SliceStable|Search|Sort|SortFunc|SortStableFunc|IndexFunc|LastIndexFunc|ContainsFunc|DeleteFunc|Map|FieldsFunc|TrimFunc|TrimLeftFunc|TrimRightFunc|Range|Walk|WalkDir|Do|Run)$/;
/** Printing functions that call String() or Error() on their operands. */
const PRINTERS = /^(?:Sprint|Sprintf|Sprintln|Print|Printf|Println|Fprint|Fprintf|Fprintln|Errorf|Fatal|Fatalf|Fatalln|Panic|Panicf|Panicln|Log|Logf|Error|Skip|Skipf)$/;

export class CallGraph {
  private readonly callsByUnit = new Map<FuncUnit, CallEdge[]>();
  private readonly slots = new Map<Slot, FuncUnit[]>();
  private readonly resolving = new Set<Slot>();
  private callIndex?: Map<string, { file: SourceFile; at: number }[]>;
  private readonly callers = new Map<FuncUnit, CallEdge[]>();

  constructor(readonly pkg: Package, readonly fns: Functions) {}

  /** The struct or named type of the operand of `x.m`: the receiver by name, else types-lite. */
  typeNameOf(operand: Node, file: SourceFile): string | undefined {
    const byId = byFile(this.typeNames, file);
    if (byId.has(operand.id)) return byId.get(operand.id);
    const name = this.computeTypeName(operand, file);
    byId.set(operand.id, name);
    return name;
  }

  /** Per file, by node id: lookups happen in the dataflow's inner loops, so no string keys. */
  private readonly typeNames = new Map<SourceFile, Map<number, string | undefined>>();

  private readonly selectors = new Map<SourceFile, Map<number, { operand: Node | null; name?: string }>>();

  /** The operand and field name of a selector `x.m`, read from the tree once. */
  private partsOf(sel: Node, file: SourceFile): { operand: Node | null; name?: string } {
    const byId = byFile(this.selectors, file);
    let parts = byId.get(sel.id);
    if (!parts) byId.set(sel.id, (parts = { operand: sel.childForFieldName('operand'), name: sel.childForFieldName('field')?.text }));
    return parts;
  }

  private computeTypeName(operand: Node, file: SourceFile): string | undefined {
    if (operand.type === 'identifier') {
      const outer = this.fns.unitAt(file, operand.startIndex, operand.endIndex, operand.id)?.outermost;
      // The receiver by name: shadowing a receiver is rare enough not to pay a scope walk for.
      if (outer?.recvName === operand.text) return outer.recvType;
      if (operand.text === this.pkg.name) return undefined;
    }
    const t = typeOfExpr(operand, file, this.pkg);
    return structNameOf(t) ?? (t?.kind === 'named' || t?.kind === 'interface' ? t.name : undefined);
  }

  /** The package units a call's function expression, or a function value, may be. */
  resolve(expr: Node, file: SourceFile, seen = new Set<Slot>()): FuncUnit[] {
    switch (cachedType(expr)) {
      case 'func_literal': {
        const u = this.fns.unitOf(expr);
        return u ? [u] : [];
      }
      case 'parenthesized_expression': {
        const inner = expr.namedChild(0);
        return inner ? this.resolve(inner, file, seen) : [];
      }
      case 'identifier': {
        const decl = this.mayBeLocal(expr, file) ? findLocalDeclaration(expr, expr.text) : null;
        if (!decl) {
          const f = this.fns.func(expr.text);
          if (f) return [f];
          return this.pkg.decls.get(expr.text)?.some((d) => cachedType(d) === 'var_spec') ? this.slotValues(`pkgvar:${expr.text}`, seen) : [];
        }
        return this.localValues(expr, decl, file, seen);
      }
      case 'selector_expression': {
        const { operand, name } = this.partsOf(expr, file);
        if (!operand || !name) return [];
        // No package method or func field has this name: nothing here to resolve (most calls).
        if (!this.fns.methodNames.has(name) && !this.isFuncField(name)) return [];
        if (operand.type === 'identifier' && file.imports.some((s) => s.local === operand.text) && !findLocalDeclaration(operand, operand.text)) return [];
        const type = this.typeNameOf(operand, file);
        if (!type) return [];
        const m = this.fns.method(type, name);
        if (m) return [m];
        const iface = packageTypes(this.pkg).interfaces.get(type);
        if (iface) return this.implementations(type, iface, name);
        const structs = packageTypes(this.pkg).structs;
        if (structs.has(type)) return this.slotValues(`field:${type}.${name}`, seen);
        return [];
      }
      case 'call_expression': {
        // A function value a package function returns: `down: b.Up()`, `f := newDeleter(t)`.
        const fn = expr.childForFieldName('function');
        if (!fn || cachedType(fn) === 'func_literal') return [];
        const out = new Set<FuncUnit>();
        for (const callee of this.resolve(fn, file, seen)) {
          if (cachedType(callee.node.childForFieldName('result') ?? callee.node) !== 'function_type') continue;
          for (const u of this.slotValues(`ret:${callee.id}`, seen)) out.add(u);
        }
        return out.size > MAX_TARGETS ? [] : [...out];
      }
      default:
        return [];
    }
  }

  /** Whether a local of the enclosing function may be named like `id` (most calls name package functions). */
  private mayBeLocal(id: Node, file: SourceFile): boolean {
    const top = this.fns.unitAt(file, id.startIndex, id.endIndex)?.outermost;
    return !top || top.declarable.has(id.text);
  }

  /** Class hierarchy analysis: method `name` of every package type that has all of `methods`. */
  private implementations(iface: string, methods: ReadonlySet<string>, name: string): FuncUnit[] {
    const key = `${iface}.${name}`;
    let found = this.implementers.get(key);
    if (!found) this.implementers.set(key, (found = this.computeImplementations(methods, name)));
    return found;
  }

  private readonly implementers = new Map<string, FuncUnit[]>();

  private computeImplementations(methods: ReadonlySet<string>, name: string): FuncUnit[] {
    const out: FuncUnit[] = [];
    for (const type of packageTypes(this.pkg).methods.keys()) {
      if (!implementsAll(type, methods, this.pkg)) continue;
      const m = this.fns.method(type, name);
      if (m && !out.includes(m)) out.push(m); // a promoted method is its owner's
      if (out.length > MAX_TARGETS) return [];
    }
    return out;
  }

  /** The function values a local variable or parameter may hold. */
  private localValues(id: Node, decl: Node, file: SourceFile, seen: Set<Slot>): FuncUnit[] {
    const type = cachedType(decl);
    if (type === 'function_declaration' || type === 'method_declaration' || type === 'func_literal') {
      const unit = this.fns.unitOf(decl);
      const index = unit ? parameterIndex(decl, id.text) : -1;
      return unit && index >= 0 ? this.slotValues(`param:${unit.id}:${index}`, seen) : [];
    }
    return this.slotValues(`local:${file.path}:${decl.startIndex}:${id.text}`, seen);
  }

  private slotValues(slot: Slot, seen: Set<Slot>): FuncUnit[] {
    const cached = this.slots.get(slot);
    if (cached) return cached;
    if (seen.has(slot) || this.resolving.has(slot)) return [];
    seen.add(slot);
    this.resolving.add(slot);
    const out = new Set<FuncUnit>();
    try {
      for (const { value, file } of this.sourcesOf(slot)) {
        for (const u of this.resolve(value, file, seen)) out.add(u);
        if (out.size > MAX_TARGETS) { out.clear(); break; }
      }
    } finally {
      this.resolving.delete(slot);
    }
    const list = [...out];
    this.slots.set(slot, list);
    return list;
  }

  /** The expressions stored into a slot: assignments, keyed literal elements, arguments. */
  private sourcesOf(slot: Slot): { value: Node; file: SourceFile }[] {
    const out: { value: Node; file: SourceFile }[] = [];
    const [kind, ...rest] = slot.split(':');
    if (kind === 'param') {
      const index = Number(rest[rest.length - 1]);
      const unitId = rest.slice(0, -1).join(':');
      const unit = this.fns.all.find((u) => u.id === unitId);
      if (!unit) return out;
      for (const site of this.callersOf(unit)) {
        const arg = site.how === 'static' ? argumentsOf(site.call)[index] : undefined;
        if (arg) out.push({ value: arg, file: site.caller.file });
      }
      return out;
    }
    if (kind === 'ret') {
      // The operand of each of the function's own returns.
      const unit = this.fns.all.find((u) => u.id === rest.join(':'));
      const body = unit?.body;
      if (!unit || !body) return out;
      for (const m of unit.file.text.slice(body.startIndex, body.endIndex).matchAll(/(?<![\w$.])return\s/g)) {
        const at = body.startIndex + m.index!;
        const ret = unit.file.root.descendantForIndex(at, at + 6)?.parent;
        if (ret?.type !== 'return_statement' || !unit.owns(at)) continue;
        const values = ret.namedChildren.filter((c) => c?.type !== 'comment');
        const list = values.length === 1 && values[0]?.type === 'expression_list' ? values[0].namedChildren : values;
        if (list.length === 1 && list[0]) out.push({ value: list[0], file: unit.file });
      }
      return out;
    }
    if (kind === 'local') {
      const [path, start, name] = [rest.slice(0, -2).join(':'), Number(rest[rest.length - 2]), rest[rest.length - 1]];
      const file = this.pkg.files.find((f) => f.path === path);
      const decl = file?.root.descendantForIndex(start, start + 1);
      const stmt = decl && ancestorAt(decl, start);
      const unit = stmt && this.fns.enclosing(stmt);
      if (!file || !stmt || !unit) return out;
      const v = valueFor(stmt, name);
      if (v) out.push({ value: v, file });
      this.assignmentsTo(file, unit.outermost.start, unit.outermost.end, new RegExp(`(?<![\\w$.])${escapeRegExp(name)}\\s*=(?!=)`, 'g'), name, out);
      return out;
    }
    if (kind === 'pkgvar') {
      const name = rest[0];
      const spec = this.pkg.decls.get(name)?.find((d) => cachedType(d) === 'var_spec');
      const file = spec && this.pkg.fileOf(spec);
      if (spec && file) {
        const v = valueFor(spec, name);
        if (v) out.push({ value: v, file });
      }
      for (const f of this.pkg.files) this.assignmentsTo(f, 0, f.text.length, new RegExp(`(?<![\\w$.])${escapeRegExp(name)}\\s*=(?!=)`, 'g'), name, out);
      return out;
    }
    // field:T.name — `x.name = v` with x of type T, and `T{name: v}`.
    const [type, name] = rest.join(':').split('.');
    const re = new RegExp(`\\.\\s*${escapeRegExp(name)}\\s*=(?!=)|(?<![\\w$.])${escapeRegExp(name)}\\s*:(?!=)`, 'g');
    for (const file of this.pkg.files) {
      if (!file.contains(name)) continue;
      for (const m of file.text.matchAll(re)) {
        const at = m[0].startsWith('.') ? m.index! + m[0].indexOf(name) : m.index!;
        const id = file.root.descendantForIndex(at, at + name.length);
        if (!id || id.text !== name) continue;
        if (id.type === 'field_identifier' && id.parent?.type === 'selector_expression') {
          const sel = id.parent;
          const operand = sel.childForFieldName('operand');
          if (!operand || this.typeNameOf(operand, file) !== type) continue;
          const v = assignedValue(sel);
          if (v) out.push({ value: v, file });
          continue;
        }
        const el = id.parent?.type === 'literal_element' ? id.parent : null;
        const keyed = el?.parent;
        if (!el || keyed?.type !== 'keyed_element' || keyed.childForFieldName('key')?.id !== el.id) continue;
        const lit = keyed.parent?.parent;
        const litType = lit?.type === 'composite_literal' ? lit.childForFieldName('type') : null;
        if (!litType || litType.text.replace(/\[.*$/s, '').replace(/^.*\./, '') !== type) continue;
        const v = keyed.childForFieldName('value')?.namedChild(0);
        if (v) out.push({ value: v, file });
      }
    }
    return out;
  }

  private assignmentsTo(file: SourceFile, from: number, to: number, re: RegExp, name: string, out: { value: Node; file: SourceFile }[]): void {
    for (const m of file.text.slice(from, to).matchAll(re)) {
      const at = from + m.index!;
      const id = file.root.descendantForIndex(at, at + name.length);
      if (id?.type !== 'identifier' || id.text !== name) continue;
      const v = assignedValue(id);
      if (v) out.push({ value: v, file });
    }
  }

  /**
   * The calls in a unit's own code (not its literals'), each with every package unit it may run.
   * Candidates come from the text by name: calls of package functions and methods, func fields,
   * locals, and the library models (once.Do, fmt's String()); calls of other packages' functions are
   * never resolved. Literals the unit calls in place are its `literals`, not edges here.
   */
  callsIn(u: FuncUnit): readonly CallEdge[] {
    let edges = this.callsByUnit.get(u);
    if (edges) return edges;
    edges = [];
    this.callsByUnit.set(u, edges);
    if (!u.body) return edges;
    const text = u.file.text.slice(u.start, u.end);
    const stringers = this.fns.methodNames.has('String') || this.fns.methodNames.has('Error');
    for (const m of text.matchAll(/(?<![\w$])([A-Za-z_][\w$]*)\s*\(/g)) {
      const name = m[1];
      if (KEYWORDS.has(name)) continue;
      const candidate = !!this.fns.func(name) || this.fns.methodNames.has(name) || this.isFuncField(name) || name === 'Do'
        || (stringers && PRINTERS.test(name)) || u.declarable.has(name);
      if (!candidate) continue;
      const at = u.start + m.index!;
      // A name inside a nested literal is that literal's call (its call cannot be this unit's).
      if (!u.owns(at, at + name.length)) continue;
      const id = u.file.root.descendantForIndex(at, at + name.length);
      const fn = id?.parent?.type === 'selector_expression' && id.type === 'field_identifier' ? id.parent : id;
      const call = fn?.parent;
      if (!fn || call?.type !== 'call_expression' || call.childForFieldName('function')?.id !== fn.id || !u.owns(call.startIndex, call.endIndex)) continue;
      edges.push(...this.edgesOf(call, u, fn));
    }
    return edges;
  }

  private readonly edgeCache = new Map<SourceFile, Map<number, CallEdge[]>>();

  /** The package units one call runs, directly or through a library model (memoized per call). */
  edgesOf(call: Node, caller: FuncUnit, fn?: Node): CallEdge[] {
    const byId = byFile(this.edgeCache, caller.file);
    let edges = byId.get(call.id);
    if (!edges) byId.set(call.id, (edges = this.computeEdges(call, caller, fn ?? call.childForFieldName('function'))));
    return edges;
  }

  private computeEdges(call: Node, caller: FuncUnit, fn: Node | null): CallEdge[] {
    const out: CallEdge[] = [];
    const file = caller.file;
    if (!fn) return out;
    const role = roleOf(call, file);
    const fnType = cachedType(fn);
    const parts = fnType === 'selector_expression' ? this.partsOf(fn, file) : undefined;
    const receiver = parts?.operand ?? undefined;
    const targets = this.resolve(fn, file);
    for (const callee of targets) out.push({ callee, call, caller, how: this.howCalled(fn, callee, file), role, receiver });
    if (targets.length) return out;
    // An external call: library models.
    const name = parts ? parts.name : fnType === 'identifier' ? fn.text : undefined;
    if (!name) return out;
    const args = argumentsOf(call);
    if (name === 'Do' && receiver && isOnce(typeOfExpr(receiver, file, this.pkg)) && args[0]) {
      for (const callee of this.resolve(args[0], file)) out.push({ callee, call, caller, how: 'callback', role, certain: true });
      return out;
    }
    if (ASYNC_CALLBACKS.test(name)) return out;
    if (receiver && PRINTERS.test(name) && (this.fns.methodNames.has('String') || this.fns.methodNames.has('Error'))) {
      for (const a of args) {
        const recv = structNameOf(typeOfExpr(a, file, this.pkg));
        const m = recv && (this.fns.method(recv, 'String') ?? this.fns.method(recv, 'Error'));
        if (m) out.push({ callee: m, call, caller, how: 'stringer', role, receiver: a });
      }
    }
    // Other external calls that take a function run it before they return, or never: sort.Slice,
    // sync.Map.Range, filepath.Walk, strings.Map. (Those that keep it for later are ASYNC_CALLBACKS.)
    for (const a of args) {
      const t = cachedType(a);
      if (t !== 'func_literal' && t !== 'selector_expression' && t !== 'identifier') continue;
      const callees = t === 'func_literal' || this.mayBeFuncValue(a, file) ? this.resolve(a, file) : [];
      for (const callee of callees) out.push({ callee, call, caller, how: 'callback', role, certain: SYNC_CALLBACKS.test(name) });
    }
    return out;
  }

  private funcFields?: Set<string>;

  /** Some struct of the package has a func-typed field of this name. */
  private isFuncField(name: string): boolean {
    if (!this.funcFields) {
      this.funcFields = new Set();
      for (const fields of packageTypes(this.pkg).structs.values()) for (const [n, f] of fields) if (f.type.kind === 'func') this.funcFields.add(n);
    }
    return this.funcFields.has(name);
  }

  /**
   * Whether an argument can name a package function value, checked cheaply before types are asked:
   * a package function, a method value of the package, a func-typed field, or a local declared
   * with a func type or value.
   */
  private mayBeFuncValue(a: Node, file: SourceFile): boolean {
    if (cachedType(a) === 'selector_expression') {
      const name = this.partsOf(a, file).name ?? '';
      return (this.fns.methodNames.has(name) || this.isFuncField(name)) && isFuncValue(a, file, this.pkg);
    }
    const decl = findLocalDeclaration(a, a.text);
    if (!decl) return !!this.fns.func(a.text) || isFuncValue(a, file, this.pkg);
    return file.textOf(decl).includes('func') && isFuncValue(a, file, this.pkg);
  }

  private howCalled(fn: Node, callee: FuncUnit, file: SourceFile): CallHow {
    const type = cachedType(fn);
    if (type === 'func_literal' || (type === 'identifier' && this.fns.func(fn.text) === callee)) return 'static';
    if (type !== 'selector_expression') return 'value';
    const { operand, name } = this.partsOf(fn, file);
    const recvType = this.typeNameOf(operand!, file);
    if (recvType && this.fns.method(recvType, name ?? '') === callee) return 'static';
    return recvType && packageTypes(this.pkg).interfaces.has(recvType) ? 'interface' : 'value';
  }

  /** In-package call sites of a unit: direct calls by name, resolved (tests call nothing for production code). */
  callersOf(u: FuncUnit): readonly CallEdge[] {
    const cached = this.callers.get(u);
    if (cached) return cached;
    const out: CallEdge[] = [];
    this.callers.set(u, out);
    if (!u.name) return out;
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
    for (const { file, at } of this.callIndex.get(u.name) ?? []) {
      const name = file.root.descendantForIndex(at, at + u.name.length);
      const fn = name?.parent?.type === 'selector_expression' ? name.parent : name;
      const call = fn?.parent;
      if (!fn || call?.type !== 'call_expression' || call.childForFieldName('function')?.id !== fn.id) continue;
      const caller = this.fns.enclosing(call);
      if (!caller) continue;
      for (const e of this.edgesOf(call, caller)) if (e.callee === u) out.push(e);
    }
    return out;
  }
}

/**
 * `go f()` runs the call as a goroutine, `defer f()` at the exit. Only whitespace and comments can
 * stand between the keyword and the call, so the tree is asked only when the text before the call
 * ends like a keyword or a comment, or its line holds one.
 */
function roleOf(call: Node, file: SourceFile): 'go' | 'defer' | undefined {
  const text = file.text;
  let i = call.startIndex - 1;
  while (i >= 0 && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i--;
  const c = text[i];
  if (i < 0 || (c !== 'o' && c !== 'r' && c !== '/' && !text.slice(text.lastIndexOf('\n', i) + 1, i + 1).includes('//'))) return undefined;
  const parent = cachedParent(call);
  return parent?.type === 'go_statement' ? 'go' : parent?.type === 'defer_statement' ? 'defer' : undefined;
}

function byFile<V>(cache: Map<SourceFile, Map<number, V>>, file: SourceFile): Map<number, V> {
  let byId = cache.get(file);
  if (!byId) cache.set(file, (byId = new Map()));
  return byId;
}

function isOnce(t: GoType | undefined): boolean {
  return t?.kind === 'once' || (t?.kind === 'pointer' && t.elem?.kind === 'once');
}

/** Whether an identifier or selector argument is a function value (a package function or method value). */
function isFuncValue(a: Node, file: SourceFile, pkg: Package): boolean {
  return typeOfExpr(a, file, pkg)?.kind === 'func';
}


/** The statement or spec starting at `start` above `node`. */
function ancestorAt(node: Node, start: number): Node | null {
  let n: Node | null = node;
  let best: Node | null = null;
  while (n && n.startIndex === start && n.type !== 'statement_list' && n.type !== 'block') { best = n; n = n.parent; }
  return best;
}

/** The value a declaration (short var, var declaration or spec) gives `name`, when counts match. */
export function valueFor(decl: Node, name: string): Node | null {
  const type = decl.type;
  if (type === 'var_declaration') {
    const spec = decl.descendantsOfType('var_spec').find((s) => s?.childrenForFieldName('name').some((n) => n?.text === name));
    return spec ? valueFor(spec, name) : null;
  }
  const names = type === 'short_var_declaration' ? decl.childForFieldName('left')?.namedChildren ?? [] : decl.childrenForFieldName('name');
  const values = decl.childForFieldName(type === 'short_var_declaration' ? 'right' : 'value')?.namedChildren ?? [];
  const i = names.findIndex((n) => n?.text === name);
  return i >= 0 && values.length === names.length ? values[i] : null;
}

/** For `x = v` (x an identifier or selector on the left of a plain assignment), v. */
function assignedValue(target: Node): Node | null {
  const list = target.parent;
  const stmt = list?.parent;
  if (list?.type !== 'expression_list' || stmt?.type !== 'assignment_statement' || stmt.childForFieldName('left')?.id !== list.id) return null;
  if (stmt.childForFieldName('operator')?.text !== '=') return null;
  const left = list.namedChildren;
  const right = stmt.childForFieldName('right')?.namedChildren ?? [];
  const i = left.findIndex((n) => n?.id === target.id);
  return i >= 0 && right.length === left.length ? right[i] : null;
}

export const CallGraphFact: Fact<CallGraph> = { name: 'CallGraph', build: (facts) => new CallGraph(facts.pkg, facts.get(FunctionsFact)) };
