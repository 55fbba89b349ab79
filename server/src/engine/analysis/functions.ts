// The functions of a package: declarations, methods and function literals (units), with their
// names, receivers and nesting, and lookups by position. Every other analysis fact stands on it.
import type { Node } from 'web-tree-sitter';
import type { Fact } from '../fact';
import type { Package } from '../package';
import type { SourceFile } from '../source-file';
import { declarableNames } from '../scope';
import { methodOf } from '../types';
import { cachedType } from '../tree-cache';

export class FuncUnit {
  /** Function or method name; undefined for literals. */
  name?: string;
  /** Receiver type name for methods (without `*` and type parameters). */
  recvType?: string;
  recvName?: string;
  /** The literals directly inside this unit (not inside its literals). */
  readonly literals: FuncUnit[] = [];
  readonly id: string;
  /** The unit's place in its package's Functions.all: an array index for per-unit tables. */
  index = -1;
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

  private declarableSet?: ReadonlySet<string>;

  /** Names the unit's text may declare locally (scope.declarableNames): no other name can be a local in it. */
  get declarable(): ReadonlySet<string> {
    return (this.declarableSet ??= declarableNames(this.file.text.slice(this.start, this.end)));
  }

  /** A function literal (possibly in a package-level initialiser, with no parent unit). */
  get isLiteral(): boolean { return cachedType(this.node) === 'func_literal'; }

  /** The declaration this unit is, or is nested in. */
  get outermost(): FuncUnit {
    return this.parent ? this.parent.outermost : this;
  }

  /** `T.m`, `f`, or `a function literal in T.m` for messages. */
  get label(): string {
    const top = this.outermost;
    const name = top.name ? (top.recvType ? `${top.recvType}.${top.name}` : top.name) : 'a function';
    return this.isLiteral ? (this.parent ? `a function literal in ${name}` : 'a package-level function literal') : name;
  }

  /** Whether [start, end) lies in this unit's own code, not inside a literal nested in it (`func(){}()` is the unit's own call). */
  owns(start: number, end = start + 1): boolean {
    if (start < this.start || end > this.end) return false;
    return !this.literals.some((l) => l.start <= start && end <= l.end);
  }
}

/** `func name(`, `func (r *T[K]) name(`: names read from the text at the keyword (sticky). */
const SIGNATURE = /func\s*(?:\(\s*(?:([\w$]+)\s+)?\*?\s*([\w$]+)[^)]*\)\s*)?([\w$]+)/y;
const UNIT_TYPES = new Set(['function_declaration', 'method_declaration', 'func_literal']);

export class Functions {
  readonly all: FuncUnit[] = [];
  private readonly byKey = new Map<string, FuncUnit>(); // "f:name" / "m:Type.name"
  private readonly byNodeId = new Map<string, FuncUnit>();
  readonly methodNames = new Set<string>();
  /** Units of each file in source order, for position lookups. */
  private readonly byFile = new Map<SourceFile, FuncUnit[]>();

  constructor(readonly pkg: Package) {
    for (const file of pkg.files) this.collect(file);
  }

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
        SIGNATURE.lastIndex = node.startIndex;
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
      u.parent?.literals.push(u);
      u.index = this.all.length;
      this.all.push(u);
      this.byNodeId.set(`${file.path}:${node.id}`, u);
      const list = this.byFile.get(file);
      if (list) list.push(u); else this.byFile.set(file, [u]);
      stack.push(u);
    }
  }

  /** A method declared on `type`, or promoted to it from an embedded field. */
  method(type: string, name: string): FuncUnit | undefined {
    const direct = this.byKey.get(`m:${type}.${name}`);
    if (direct) return direct;
    const promoted = methodOf(type, name, this.pkg);
    return promoted ? this.byKey.get(`m:${promoted.method.recvType}.${name}`) : undefined;
  }

  func(name: string): FuncUnit | undefined { return this.byKey.get(`f:${name}`); }

  /** The unit a function or literal node is. */
  unitOf(node: Node): FuncUnit | undefined {
    const file = this.pkg.fileOf(node);
    return file && this.byNodeId.get(`${file.path}:${node.id}`);
  }

  /** The innermost unit containing a node (a function node is not inside itself). */
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

  /** Units of a file in source order. */
  inFile(file: SourceFile): readonly FuncUnit[] { return this.byFile.get(file) ?? []; }

  /** True when `ident` names the receiver of the method enclosing it (not shadowed: receivers rarely are). */
  isReceiver(ident: Node): boolean {
    const outer = this.enclosing(ident)?.outermost;
    return !!outer?.recvName && outer.recvName === ident.text;
  }
}

export const FunctionsFact: Fact<Functions> = { name: 'Functions', build: (facts) => new Functions(facts.pkg) };

/** `init` and the literals in it run before main, before any goroutine of the package. */
export function isInit(u: FuncUnit): boolean {
  const top = u.outermost;
  return top.name === 'init' && !top.recvType;
}

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
