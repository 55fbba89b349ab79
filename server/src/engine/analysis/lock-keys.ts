// Lock identities. A lock is named by a root (the method's receiver, a parameter, a package
// variable, or a local's declaration) and a field path: `s.conns.mu` is the receiver plus
// [conns, mu]; `s.Lock()` on a struct embedding sync.Mutex is the receiver plus [Mutex]. Within a
// function two keys are the same instance when their ids are equal. Across functions and goroutines
// keys are compared by `shared`, the field of a struct type (`connPool.mu`), the package variable or
// the local: the abstraction lockset analyses use.
import type { Node } from 'web-tree-sitter';
import type { Package } from '../package';
import { findLocalDeclaration } from '../scope';
import { cachedType, PerTree } from '../tree-cache';
import { fieldOf, structNameOf, typeOfExpr, type GoType } from '../types';
import { argumentsOf, escapeRegExp, parameterIndex, parameterNames } from '../syntax';
import { valueFor, type CallEdge } from './callgraph';
import type { FuncUnit } from './functions';

export type LockMode = 'r' | 'w';

export type LockRoot =
  | { kind: 'recv' }
  /** A parameter of the function whose node starts at `fn`. */
  | { kind: 'param'; fn: number; index: number }
  | { kind: 'pkgvar'; name: string }
  /** A local variable, by the start of its declaring statement. */
  | { kind: 'local'; at: number; name: string };

/**
 * A lock's identity across functions: a field of a struct type (any instance: the lockset
 * abstraction), a package variable, or one local variable.
 */
export interface SharedLock {
  /** Equal ids are the same lock. */
  id: string;
  scope: 'struct' | 'package' | 'local';
  /** For 'struct': the struct type declaring the field. */
  struct?: string;
  /** The field or variable name. */
  name: string;
}

export interface LockKey {
  readonly root: LockRoot;
  readonly path: readonly string[];
  /** The instance within one function's frame: equal ids are the same mutex. */
  readonly id: string;
  /** The identity shared across functions (`T.mu`, a package variable, a local); undefined when unknown. */
  readonly shared?: SharedLock;
  /** How the code names it, for messages: `s.mu`, `mu`. */
  readonly text: string;
  /** An element of a slice or map is on the path: not one instance. */
  readonly inexact?: boolean;
  /**
   * For a mutex embedded in a struct (`c.in.Lock()` locks c.in's embedded Mutex): the identity of
   * the struct holding it (`Conn.in`), which tells apart two fields of one type where `shared`
   * (`halfConn.Mutex`) cannot.
   */
  readonly holder?: SharedLock;
  /** The variable the root is, where the code names one: its type gives the fields of extended keys. */
  readonly rootNode?: Node;
  /** Named through an RLocker (`c.L` of `sync.NewCond(mu.RLocker())`): its Lock and Unlock are RLock and RUnlock. */
  readonly readLocker?: boolean;
}

export interface LockCall {
  method: 'Lock' | 'RLock' | 'Unlock' | 'RUnlock';
  /** The mutex expression: `s.mu` of `s.mu.Lock()`, `m` of `lock(&m)`. */
  mutex: Node;
  call: Node;
}

const LOCK_METHODS = new Set(['Lock', 'Unlock', 'RLock', 'RUnlock']);

/** lockCallOf's answers by tree and node: the dataflow asks about the same calls over and over. */
const lockCalls = new PerTree<LockCall | null>();

/** `x.Lock()` and friends (no arguments), or `lock(&m)`/`unlock(&m)` (the Go runtime's own style). */
export function lockCallOf(call: Node): LockCall | undefined {
  const byId = lockCalls.of(call.tree);
  let found = byId.get(call.id);
  if (found === undefined) byId.set(call.id, (found = findLockCall(call) ?? null));
  return found ?? undefined;
}

function findLockCall(call: Node): LockCall | undefined {
  if (cachedType(call) !== 'call_expression') return undefined;
  const fn = call.childForFieldName('function');
  const args = argumentsOf(call);
  if (fn?.type === 'identifier' && (fn.text === 'lock' || fn.text === 'unlock')) {
    const arg = args.length === 1 ? args[0] : null;
    const target = arg?.type === 'unary_expression' && arg.child(0)?.text === '&' ? arg.childForFieldName('operand') : null;
    return target ? { method: fn.text === 'lock' ? 'Lock' : 'Unlock', mutex: target, call } : undefined;
  }
  if (fn?.type !== 'selector_expression' || args.length) return undefined;
  const method = fn.childForFieldName('field')?.text;
  const mutex = fn.childForFieldName('operand');
  if (!method || !LOCK_METHODS.has(method) || !mutex) return undefined;
  return { method: method as LockCall['method'], mutex, call };
}

export function isAcquire(m: LockCall['method']): boolean { return m === 'Lock' || m === 'RLock'; }
/** The mode a lock call takes or releases; a key named through an RLocker is always read mode. */
export function modeOf(m: LockCall['method'], key?: LockKey): LockMode { return key?.readLocker || (m !== 'Lock' && m !== 'Unlock') ? 'r' : 'w'; }

function isLockKind(t: GoType | undefined): boolean {
  const base = t?.kind === 'pointer' ? t.elem : t;
  return base?.kind === 'mutex' || base?.kind === 'rwmutex';
}

/** The embedded field chain from a struct to a mutex it embeds (promoting Lock), breadth first. */
function embeddedMutexPath(t: GoType | undefined, pkg: Package): string[] | undefined {
  for (const name of ['Mutex', 'RWMutex']) {
    const f = fieldOf(t, name, pkg);
    if (f?.field.embedded && isLockKind(f.field.type)) return f.path;
  }
  return undefined;
}

export class LockKeys {
  constructor(private readonly pkg: Package) {}

  /** The key of the mutex a lock call takes: the expression itself, or the mutex its struct embeds. */
  ofMutex(mutex: Node, unit: FuncUnit): LockKey | undefined {
    const base = this.ofExpr(mutex, unit);
    if (!base) return undefined;
    const cond = this.condLocker(base, unit);
    if (cond) return cond;
    const t = typeOfExpr(mutex, unit.file, this.pkg) ?? this.receiverType(mutex, unit);
    if (!t || isLockKind(t) || t.kind === 'interface' || t.kind === 'named') return base;
    const embedded = embeddedMutexPath(t, this.pkg);
    return embedded ? { ...this.extend(base, embedded, unit), holder: base.shared } : base;
  }

  /**
   * `f.done.L` where `f.done = sync.NewCond(&f.mu)`: the Cond's Locker is f.mu. Found from the
   * package's assignments of NewCond to a field, relative to the object both paths start from.
   */
  private condLocker(key: LockKey, unit: FuncUnit): LockKey | undefined {
    if (key.path[key.path.length - 1] !== 'L' || key.path.length < 2) return undefined;
    const cond = this.make(key.root, key.path.slice(0, -1), key.text.split('.')[0], !!key.inexact, unit);
    const alias = cond.shared && condAliases(this.pkg).get(cond.shared.id);
    if (!alias || cond.path.length < alias.up) return undefined;
    const locker = this.make(key.root, [...cond.path.slice(0, cond.path.length - alias.up), ...alias.down], key.text.split('.')[0], !!key.inexact, unit);
    return alias.read ? { ...locker, readLocker: true } : locker;
  }

  private receiverType(x: Node, unit: FuncUnit): GoType | undefined {
    const top = unit.outermost;
    return x.type === 'identifier' && x.text === top.recvName && top.recvType ? { kind: 'struct', text: top.recvType, name: top.recvType } : undefined;
  }

  /** The key of a variable or field expression in `unit`'s frame, or undefined when it has no nameable root. */
  ofExpr(expr: Node, unit: FuncUnit): LockKey | undefined {
    const path: string[] = [];
    let inexact = false;
    let n: Node | null = expr;
    for (;;) {
      const type = n && cachedType(n);
      if (type === 'selector_expression') { path.unshift(n!.childForFieldName('field')?.text ?? '?'); n = n!.childForFieldName('operand'); }
      else if (type === 'parenthesized_expression') n = n!.namedChild(0);
      else if (type === 'unary_expression' && /^[&*]$/.test(n!.child(0)?.text ?? '')) n = n!.childForFieldName('operand');
      else if (type === 'index_expression') { path.unshift('[]'); inexact = true; n = n!.childForFieldName('operand'); }
      else break;
    }
    if (!n || n.type !== 'identifier') return undefined;
    const root = this.rootOf(n, unit);
    if (!root) return undefined;
    return this.make(root, path, n.text, inexact, unit, n);
  }

  private rootOf(id: Node, unit: FuncUnit): LockRoot | undefined {
    const decl = findLocalDeclaration(id, id.text);
    const top = unit.outermost;
    if (!decl) {
      return this.pkg.decls.get(id.text)?.some((d) => cachedType(d) === 'var_spec') ? { kind: 'pkgvar', name: id.text } : undefined;
    }
    const type = cachedType(decl);
    if (type === 'method_declaration' && decl.id === top.node.id && id.text === top.recvName) return { kind: 'recv' };
    if (type === 'function_declaration' || type === 'method_declaration' || type === 'func_literal') {
      const index = parameterIndex(decl, id.text);
      return index >= 0 ? { kind: 'param', fn: decl.startIndex, index } : undefined;
    }
    return { kind: 'local', at: decl.startIndex, name: id.text };
  }

  private make(root: LockRoot, path: string[], rootText: string, inexact: boolean, unit: FuncUnit, rootNode?: Node): LockKey {
    const rootId = root.kind === 'recv' ? 'recv' : root.kind === 'param' ? `param:${root.fn}:${root.index}` : root.kind === 'pkgvar' ? `pkgvar:${root.name}` : `local:${root.at}:${root.name}`;
    const id = [rootId, ...path].join('.');
    const text = [rootText, ...path.filter((p) => p !== '[]')].join('.');
    return { root, path, id, text, inexact: inexact || undefined, shared: this.sharedOf(root, path, unit, rootNode), rootNode };
  }

  /** `T.f` for a path ending in field f of struct T; the root's own identity for an empty path. */
  private sharedOf(root: LockRoot, path: string[], unit: FuncUnit, rootNode?: Node): SharedLock | undefined {
    if (!path.length) {
      if (root.kind === 'pkgvar') return { id: `pkgvar:${root.name}`, scope: 'package', name: root.name };
      if (root.kind === 'local') return { id: `local:${unit.file.path}:${root.at}:${root.name}`, scope: 'local', name: root.name };
      return undefined;
    }
    const field = (struct: string, name: string): SharedLock => ({ id: `${struct}.${name}`, scope: 'struct', struct, name });
    let t: GoType | undefined = root.kind === 'recv' && unit.outermost.recvType
      ? { kind: 'struct', text: unit.outermost.recvType, name: unit.outermost.recvType }
      : rootNode ? typeOfExpr(rootNode, unit.file, this.pkg) : undefined;
    let owner = structNameOf(t);
    for (let i = 0; i < path.length; i++) {
      const name = path[i];
      if (name === '[]') { t = t?.kind === 'pointer' ? t.elem?.elem : t?.elem; owner = structNameOf(t); continue; }
      const f = fieldOf(t, name, this.pkg);
      if (!f) return owner && i === path.length - 1 ? field(owner, name) : undefined;
      owner = f.owner ?? owner;
      if (i === path.length - 1) return owner ? field(owner, name) : undefined;
      t = f.field.type;
      owner = structNameOf(t);
    }
    return undefined;
  }

  /**
   * The struct field a key names, by the static type of its root variable, where `shared` is not
   * known (a field reached through a local or a parameter mapped from a callee): the lockset
   * abstraction, for checks that accept any instance of the type.
   */
  byType(key: LockKey, unit: FuncUnit): SharedLock | undefined {
    return key.shared ?? (key.rootNode && key.path.length ? this.sharedOf(key.root, [...key.path], unit, key.rootNode) : undefined);
  }

  /** `base` with more fields on its path. */
  extend(base: LockKey, more: readonly string[], unit: FuncUnit): LockKey {
    const rootText = base.text.split('.')[0];
    return { ...this.make(base.root, [...base.path, ...more], rootText, !!base.inexact, unit), rootNode: base.rootNode };
  }

  /**
   * A callee-frame key as the caller names it at `edge`: the callee's receiver becomes the call's
   * operand, a parameter its argument, a package variable stays; the callee's locals do not exist
   * for the caller. A literal called in its own function shares that function's frame.
   */
  toCaller(key: LockKey, edge: CallEdge): LockKey | undefined {
    const callee = edge.callee;
    const caller = edge.caller;
    const root = key.root;
    if (root.kind === 'pkgvar') return key;
    if (root.kind === 'recv') {
      // A literal's receiver is its own function's, captured: not the operand it is called on.
      if (callee.isLiteral) return callee.outermost === caller.outermost ? key : undefined;
      if (!edge.receiver) return undefined;
      const base = this.ofExpr(edge.receiver, caller);
      return base && this.extend(base, key.path, caller);
    }
    if (root.kind === 'param') {
      if (root.fn !== callee.start) return callee.isLiteral && callee.outermost === caller.outermost ? key : undefined;
      const arg = argumentsOf(edge.call)[root.index];
      if (!arg || edge.how === 'callback' || edge.how === 'stringer') return undefined;
      const base = this.ofExpr(arg, caller);
      return base && this.extend(base, key.path, caller);
    }
    // A local of the callee's function: the same variable only for a literal of the caller's function.
    if (callee.isLiteral && callee.outermost === caller.outermost) return key;
    // Else a field of an object the callee built from what it was given: `m := newView(c)` then `m.src.mu`.
    const built = this.builtFrom(key, callee);
    return built && this.toCaller(built, edge);
  }

  /**
   * A key rooted at a local that is set once from a composite literal (`x := &T{f: v}`) or from a
   * package function returning one built from its parameters (`x := newT(v)`, `return &T{f: p}`),
   * restated from `v`, the value the field `f` on its path was given: `x.f.mu` is `v.mu`. Undefined
   * when the local or that field is assigned anywhere else in the function.
   */
  builtFrom(key: LockKey, unit: FuncUnit, depth = 0): LockKey | undefined {
    const root = key.root;
    if (root.kind !== 'local' || !key.rootNode || key.path.length < 2 || depth > 2) return undefined;
    const decl = findLocalDeclaration(key.rootNode, root.name);
    const value = decl && decl.startIndex === root.at ? valueFor(decl, root.name) : null;
    if (!value) return undefined;
    const body = unit.outermost.body;
    const field = key.path[0];
    const name = escapeRegExp(root.name);
    // Reassigned, or its field set, or its address taken: the literal may no longer be what it holds.
    if (!body || new RegExp(`(?<![\\w$.])${name}\\s*(?:,[^=;\\n]*)?=(?!=)|,\\s*${name}\\s*:?=(?!=)|&${name}(?![\\w$])|(?<![\\w$.])${name}\\.${escapeRegExp(field)}\\s*=(?!=)`).test(unit.file.textOf(body))) return undefined;
    const fieldValue = this.fieldValue(value, field);
    if (!fieldValue) return undefined;
    const base = this.ofExpr(fieldValue, unit);
    if (!base) return undefined;
    const restated = this.extend(base, key.path.slice(1), unit);
    return restated.root.kind === 'local' ? this.builtFrom(restated, unit, depth + 1) ?? restated : restated;
  }

  /** The expression a constructed value gives `field`: `&T{field: v}`, or `newT(v)` whose only return is `&T{field: p}`. */
  private fieldValue(value: Node, field: string): Node | undefined {
    const lit = compositeLiteral(value);
    if (lit) return keyedValue(lit, field);
    if (value.type !== 'call_expression') return undefined;
    const fn = value.childForFieldName('function');
    if (fn?.type !== 'identifier' || findLocalDeclaration(fn, fn.text)) return undefined;
    const decl = this.pkg.decls.get(fn.text)?.find((d) => d.type === 'function_declaration');
    const returns = decl?.childForFieldName('body')?.descendantsOfType('return_statement') ?? [];
    if (returns.length !== 1) return undefined;
    const returned = returns[0]!.namedChild(0);
    const built = returned?.type === 'expression_list' && returned.namedChildCount === 1 ? returned.namedChild(0) : returned;
    const inner = built && compositeLiteral(built);
    const given = inner && keyedValue(inner, field);
    const index = given?.type === 'identifier' ? parameterIndex(decl!, given.text) : -1;
    return index >= 0 ? argumentsOf(value)[index] : undefined;
  }

  /** A caller-frame key as the callee names it, when the call passes it in: the inverse of toCaller. */
  toCallee(key: LockKey, edge: CallEdge): LockKey | undefined {
    const callee = edge.callee;
    const caller = edge.caller;
    if (key.root.kind === 'pkgvar') return key;
    if (callee.isLiteral && callee.outermost === caller.outermost) return key;
    if (edge.receiver && callee.recvName) {
      const base = this.ofExpr(edge.receiver, caller);
      if (base && startsWith(key, base)) return this.make({ kind: 'recv' }, key.path.slice(base.path.length), callee.recvName, !!key.inexact, callee);
    }
    if (edge.how !== 'static') return undefined;
    const args = argumentsOf(edge.call);
    for (let i = 0; i < args.length; i++) {
      const base = this.ofExpr(args[i], caller);
      if (!base || !startsWith(key, base)) continue;
      const name = parameterNames(callee.node)[i];
      if (name) return this.make({ kind: 'param', fn: callee.start, index: i }, key.path.slice(base.path.length), name, !!key.inexact, callee);
    }
    return undefined;
  }
}

/**
 * For each Cond field assigned `x.a.c = sync.NewCond(&x.mu)`: up 2 fields from the Cond (a, c), then
 * down to [mu]. `sync.NewCond(x.mu.RLocker())` is the same mutex in read mode.
 */
function condAliases(pkg: Package): Map<string, { up: number; down: string[]; read: boolean }> {
  return pkg.memo('lock-keys:cond-aliases', () => {
    const out = new Map<string, { up: number; down: string[]; read: boolean }>();
    const ambiguous = new Set<string>();
    for (const file of pkg.files) {
      for (const m of file.text.matchAll(/([\w.]+)\s*=\s*sync\.NewCond\(\s*(?:&\(?([\w.]+)\)?|([\w.]+)\.RLocker\(\s*\))\s*\)/g)) {
        const left = m[1].split('.'), arg = (m[2] ?? m[3]).split('.');
        if (left.length < 2 || arg.length < 2 || left[0] !== arg[0]) continue;
        const node = file.root.descendantForIndex(m.index!, m.index! + m[1].length);
        const sel = node?.type === 'selector_expression' ? node : node?.parent?.type === 'selector_expression' ? node.parent : null;
        const operand = sel?.childForFieldName('operand');
        const owner = operand ? structNameOf(typeOfExpr(operand, file, pkg)) : undefined;
        if (!owner) continue;
        const id = `${owner}.${left[left.length - 1]}`;
        const alias = { up: left.length - 1, down: arg.slice(1), read: !m[2] };
        const seen = out.get(id);
        if (seen && (seen.up !== alias.up || seen.down.join('.') !== alias.down.join('.') || seen.read !== alias.read)) ambiguous.add(id);
        out.set(id, alias);
      }
    }
    for (const id of ambiguous) out.delete(id); // two different Lockers: racelens cannot tell which
    return out;
  });
}

/** `T{...}` or `&T{...}`. */
function compositeLiteral(x: Node): Node | undefined {
  const lit = x.type === 'unary_expression' && x.child(0)?.text === '&' ? x.childForFieldName('operand') : x;
  return lit?.type === 'composite_literal' ? lit : undefined;
}

/** The value of `field: v` in a composite literal. */
function keyedValue(lit: Node, field: string): Node | undefined {
  for (const el of lit.childForFieldName('body')?.namedChildren ?? []) {
    if (el?.type !== 'keyed_element') continue;
    const k = el.childForFieldName('key') ?? el.namedChild(0);
    if (k?.text !== field) continue;
    const v = el.childForFieldName('value') ?? el.namedChild(1);
    return (v?.type === 'literal_element' ? v.namedChild(0) : v) ?? undefined;
  }
  return undefined;
}

function startsWith(key: LockKey, base: LockKey): boolean {
  if (key.path.length < base.path.length) return false;
  const rootId = (k: LockKey) => k.id.split('.')[0];
  if (rootId(key) !== rootId(base)) return false;
  return base.path.every((p, i) => key.path[i] === p);
}
