// Types-lite: what racelens can tell about a Go type from syntax alone. Enough to know maps,
// maps of maps, slices, sync.Map, mutexes, atomics and same-package structs, without a type checker:
// declared and inferred variable types, multi-value forms (`v, ok := m[k]`), range variables, method
// results, embedded (promoted) fields and methods, and which package types implement an interface.
import type { Node } from 'web-tree-sitter';
import type { Package } from './package';
import { findLocalDeclaration } from './scope';
import type { SourceFile } from './source-file';
import { cachedType } from './tree-cache';

export type TypeKind =
  | 'map' | 'slice' | 'array' | 'pointer' | 'chan' | 'func' | 'interface'
  | 'syncmap' | 'mutex' | 'rwmutex' | 'waitgroup' | 'once' | 'cond' | 'atomic'
  | 'struct' | 'basic' | 'named' | 'unknown';

export interface Field { type: GoType; node: Node; embedded: boolean }

export interface GoType {
  kind: TypeKind;
  /** The type as written in the source. */
  text: string;
  /** Map value, slice/array/chan element, pointer target. */
  elem?: GoType;
  key?: GoType;
  /** For 'struct' and 'named' (and shapes defined by a name): the type's name in this package. */
  name?: string;
  /** A type of another package: its import path and name (`context.Context`, `*errgroup.Group`'s target). */
  ext?: { path: string; name: string };
  /** An anonymous struct's fields (`mu struct{ sync.RWMutex }`). */
  fields?: Map<string, Field>;
  /** A function type's results. */
  results?: GoType[];
}

export const UNKNOWN: GoType = { kind: 'unknown', text: '' };
const BOOL: GoType = { kind: 'basic', text: 'bool' };
const INT: GoType = { kind: 'basic', text: 'int' };

const BASIC = new Set(['bool', 'string', 'int', 'int8', 'int16', 'int32', 'int64', 'uint', 'uint8', 'uint16', 'uint32',
  'uint64', 'uintptr', 'float32', 'float64', 'complex64', 'complex128', 'byte', 'rune', 'error', 'any']);
const SYNC_KINDS: Record<string, TypeKind> = { Map: 'syncmap', Mutex: 'mutex', RWMutex: 'rwmutex', WaitGroup: 'waitgroup', Once: 'once', Cond: 'cond' };

/** A method declared in the package: its declaration and receiver type name. */
export interface MethodDecl { node: Node; recvType: string; name: string }

/** Types of a package: struct fields, named types, methods, and the memo of variable types. */
export interface PackageTypes {
  structs: Map<string, Map<string, Field>>;
  named: Map<string, Node>;
  /** Receiver type name → method name → declaration. */
  methods: Map<string, Map<string, MethodDecl>>;
  /** Interface type name → method names (embedded interfaces of the package included). */
  interfaces: Map<string, Set<string>>;
  /** Variable types by declaration and name: every use of a variable asks the same question. */
  variables: Map<string, GoType | undefined>;
}

/** `func (r *T[K]) name(`: receiver and name read from the text, cheaper than the tree. */
const METHOD_SIGNATURE = /func\s*\(\s*(?:[\w$]+\s+)?\*?\s*([\w$]+)[^)]*\)\s*([\w$]+)/y;

/** Defined types being expanded, so `type T []T` terminates. */
const resolving = new Set<number>();

export function packageTypes(pkg: Package): PackageTypes {
  return pkg.memo('types', () => buildPackageTypes(pkg));
}

function buildPackageTypes(pkg: Package): PackageTypes {
  const t: PackageTypes = { structs: new Map(), named: new Map(), methods: new Map(), interfaces: new Map(), variables: new Map() };
  for (const [name, decls] of pkg.decls) {
    const spec = decls.find((d) => cachedType(d) === 'type_spec' || cachedType(d) === 'type_alias');
    if (spec) t.named.set(name, spec);
  }
  for (const file of pkg.files) {
    for (const decl of file.topLevel) {
      if (cachedType(decl) !== 'method_declaration') continue;
      METHOD_SIGNATURE.lastIndex = decl.startIndex;
      const m = METHOD_SIGNATURE.exec(file.text);
      if (!m) continue;
      let byName = t.methods.get(m[1]);
      if (!byName) t.methods.set(m[1], (byName = new Map()));
      byName.set(m[2], { node: decl, recvType: m[1], name: m[2] });
    }
  }
  // Struct fields are read on first use of the map (fields reference other types by name only).
  pkg.memoSet('types', t);
  for (const [name, spec] of t.named) {
    const body = spec.childForFieldName('type');
    const file = pkg.fileOf(spec);
    if (!body || !file) continue;
    if (body.type === 'struct_type') t.structs.set(name, structFields(body, file, pkg));
    else if (body.type === 'interface_type') t.interfaces.set(name, new Set());
  }
  for (const name of t.interfaces.keys()) t.interfaces.set(name, interfaceMethodNames(name, pkg, t, new Set()));
  return t;
}

function structFields(body: Node, file: SourceFile, pkg: Package): Map<string, Field> {
  const fields = new Map<string, Field>();
  const list = body.namedChildren.find((c) => c?.type === 'field_declaration_list');
  for (const fd of list?.namedChildren ?? []) {
    if (fd?.type !== 'field_declaration') continue;
    const typeNode = fd.childForFieldName('type');
    if (!typeNode) continue;
    const type = parseType(typeNode, file, pkg);
    const names = fd.childrenForFieldName('name').filter((n): n is Node => !!n);
    if (names.length === 0) {
      // Embedded: the field is named after the type (sync.Mutex → Mutex, *Base → Base).
      const base = typeNode.text.replace(/^\*/, '').replace(/^.*\./, '').replace(/\[.*$/s, '');
      fields.set(base, { type, node: fd, embedded: true });
    }
    for (const n of names) fields.set(n.text, { type, node: fd, embedded: false });
  }
  return fields;
}

function interfaceMethodNames(name: string, pkg: Package, t: PackageTypes, seen: Set<string>): Set<string> {
  const out = new Set<string>();
  const body = t.named.get(name)?.childForFieldName('type');
  if (body?.type !== 'interface_type' || seen.has(name)) return out;
  seen.add(name);
  for (const el of body.namedChildren) {
    if (el?.type === 'method_elem') { const n = el.childForFieldName('name')?.text; if (n) out.add(n); }
    else if (el?.type === 'type_elem') {
      const inner = el.namedChild(0);
      if (inner?.type === 'type_identifier') for (const m of interfaceMethodNames(inner.text, pkg, t, seen)) out.add(m);
    }
  }
  return out;
}

/** The package struct a type names, through one pointer: `*T` and `T` → "T". */
export function structNameOf(t: GoType | undefined): string | undefined {
  const base = t?.kind === 'pointer' ? t.elem : t;
  return base?.name;
}

/** The type a type node spells. `file` resolves the `sync`/`atomic` import names. */
export function parseType(node: Node, file: SourceFile, pkg: Package): GoType {
  const text = file.textOf(node);
  switch (node.type) {
    case 'map_type': {
      const key = node.childForFieldName('key'), value = node.childForFieldName('value');
      return { kind: 'map', text, key: key ? parseType(key, file, pkg) : UNKNOWN, elem: value ? parseType(value, file, pkg) : UNKNOWN };
    }
    case 'slice_type':
    case 'array_type': {
      const el = node.childForFieldName('element');
      return { kind: node.type === 'slice_type' ? 'slice' : 'array', text, elem: el ? parseType(el, file, pkg) : UNKNOWN };
    }
    case 'pointer_type': {
      const target = node.namedChild(0);
      return { kind: 'pointer', text, elem: target ? parseType(target, file, pkg) : UNKNOWN };
    }
    case 'parenthesized_type': {
      const inner = node.namedChild(0);
      return inner ? parseType(inner, file, pkg) : UNKNOWN;
    }
    case 'channel_type': return { kind: 'chan', text, elem: node.childForFieldName('value') ? parseType(node.childForFieldName('value')!, file, pkg) : UNKNOWN };
    case 'function_type': return { kind: 'func', text, results: resultsOf(node.childForFieldName('result'), file, pkg) };
    case 'interface_type': return { kind: 'interface', text };
    case 'struct_type': return { kind: 'struct', text, fields: structFields(node, file, pkg) };
    case 'generic_type': {
      const base = node.childForFieldName('type');
      const t = base ? parseType(base, file, pkg) : UNKNOWN;
      return { ...t, text };
    }
    case 'qualified_type': {
      const pkgName = node.childForFieldName('package')?.text;
      const name = node.childForFieldName('name')?.text ?? '';
      const spec = file.imports.find((s) => s.local === pkgName && !s.dot && !s.blank);
      if (spec?.path === 'sync' && SYNC_KINDS[name]) return { kind: SYNC_KINDS[name], text, ext: { path: 'sync', name } };
      if (spec?.path === 'sync/atomic') return { kind: 'atomic', text, ext: { path: spec.path, name } };
      return { kind: 'named', text, ...(spec && { ext: { path: spec.path, name } }) };
    }
    case 'type_identifier': {
      if (BASIC.has(text)) return { kind: 'basic', text };
      const spec = packageTypes(pkg).named.get(text);
      if (spec && resolving.has(spec.id)) return { kind: 'named', text, name: text }; // type T []T
      if (spec) {
        const body = spec.childForFieldName('type');
        if (body?.type === 'struct_type') return { kind: 'struct', text, name: text };
        if (body?.type === 'interface_type') return { kind: 'interface', text, name: text };
        // A defined type over a map/slice keeps its shape: `type Index map[string]int`.
        if (body && spec.type === 'type_spec' && ['map_type', 'slice_type', 'pointer_type', 'channel_type', 'function_type'].includes(body.type)) {
          resolving.add(spec.id);
          try {
            return { ...parseType(body, pkg.fileOf(spec) ?? file, pkg), text, name: text };
          } finally {
            resolving.delete(spec.id);
          }
        }
        return { kind: 'named', text, name: text };
      }
      return { kind: 'named', text };
    }
    default:
      return { kind: 'unknown', text };
  }
}

/** The result types of a function's `result` node: `T`, `(T, error)`, `(n int, err error)`. */
function resultsOf(result: Node | null, file: SourceFile, pkg: Package): GoType[] {
  if (!result) return [];
  if (result.type !== 'parameter_list') return [parseType(result, file, pkg)];
  const out: GoType[] = [];
  for (const p of result.namedChildren) {
    if (p?.type !== 'parameter_declaration') continue;
    const t = p.childForFieldName('type');
    const type = t ? parseType(t, file, pkg) : UNKNOWN;
    for (let i = 0, n = Math.max(1, p.childrenForFieldName('name').length); i < n; i++) out.push(type);
  }
  return out;
}

/** A field of a struct, found directly or promoted through embedded fields (shallowest wins). */
export interface FieldPath { field: Field; /** Field names from the struct to the field, embedded ones included. */ path: string[]; owner?: string }

const MAX_EMBEDDING = 5; // a budget: embedding chains deeper than this are not followed

/** Field `name` of struct type `t` (or a pointer to it), promoted fields included. */
export function fieldOf(t: GoType | undefined, name: string, pkg: Package): FieldPath | undefined {
  const base = t?.kind === 'pointer' ? t.elem : t;
  const fields = base?.fields ?? (base?.name ? packageTypes(pkg).structs.get(base.name) : undefined);
  if (!fields) return undefined;
  let level: { fields: Map<string, Field>; path: string[]; owner?: string }[] = [{ fields, path: [], owner: base?.name }];
  for (let depth = 0; depth <= MAX_EMBEDDING && level.length; depth++) {
    const found = level.filter((l) => l.fields.has(name));
    if (found.length === 1) return { field: found[0].fields.get(name)!, path: [...found[0].path, name], owner: found[0].owner };
    if (found.length > 1) return undefined; // ambiguous selector: not legal Go
    const next: typeof level = [];
    for (const l of level) {
      for (const [fname, f] of l.fields) {
        if (!f.embedded) continue;
        const inner = f.type.kind === 'pointer' ? f.type.elem : f.type;
        const innerFields = inner?.fields ?? (inner?.name ? packageTypes(pkg).structs.get(inner.name) : undefined);
        if (innerFields) next.push({ fields: innerFields, path: [...l.path, fname], owner: inner?.name });
      }
    }
    level = next;
  }
  return undefined;
}

/** The declared type of field `name` of struct type `t` (or pointer to it), promoted fields included. */
export function fieldType(t: GoType | undefined, name: string, pkg: Package): GoType | undefined {
  return fieldOf(t, name, pkg)?.field.type;
}

/** A method of a package type, declared on it or promoted from an embedded field. */
export interface MethodPath { method: MethodDecl; /** Embedded field names from the receiver to the method's owner. */ path: string[] }

/** Method `name` of the package type `typeName`, promoted methods included (shallowest wins). */
export function methodOf(typeName: string, name: string, pkg: Package): MethodPath | undefined {
  const byKey = pkg.memo('methodOf', () => new Map<string, MethodPath | undefined>());
  const key = `${typeName}.${name}`;
  if (byKey.has(key)) return byKey.get(key);
  const found = findMethod(typeName, name, pkg);
  byKey.set(key, found);
  return found;
}

function findMethod(typeName: string, name: string, pkg: Package): MethodPath | undefined {
  const t = packageTypes(pkg);
  let level: { type: string; path: string[] }[] = [{ type: typeName, path: [] }];
  const seen = new Set<string>();
  for (let depth = 0; depth <= MAX_EMBEDDING && level.length; depth++) {
    const found = level.filter((l) => t.methods.get(l.type)?.has(name));
    if (found.length === 1) return { method: t.methods.get(found[0].type)!.get(name)!, path: found[0].path };
    if (found.length > 1) return undefined;
    const next: typeof level = [];
    for (const l of level) {
      if (seen.has(l.type)) continue;
      seen.add(l.type);
      for (const [fname, f] of t.structs.get(l.type) ?? []) {
        if (!f.embedded) continue;
        const inner = structNameOf(f.type);
        if (inner) next.push({ type: inner, path: [...l.path, fname] });
      }
    }
    level = next;
  }
  return undefined;
}

/** Whether a package type has every method in `names` (declared or promoted): CHA by method names. */
export function implementsAll(typeName: string, names: ReadonlySet<string>, pkg: Package): boolean {
  for (const n of names) if (!methodOf(typeName, n, pkg)) return false;
  return names.size > 0;
}

function valueAt(list: Node | null, i: number): Node | null {
  return list ? list.namedChild(i) : null;
}

/** The type of the variable `ident` names at its position: locals, parameters, package vars. */
export function typeOfIdentifier(ident: Node, file: SourceFile, pkg: Package, depth = 0): GoType | undefined {
  const name = ident.text;
  const decl = findLocalDeclaration(ident, name);
  if (decl) return remembered(pkg, `${file.path}:${decl.id}:${name}:${depth}`, () => typeFromDeclaration(decl, name, file, pkg, depth));
  return remembered(pkg, `pkg:${name}:${depth}`, () => {
    const specs = pkg.decls.get(name)?.filter((d) => cachedType(d) === 'var_spec');
    if (specs?.length !== 1) return undefined;
    const spec = specs[0];
    const specFile = pkg.fileOf(spec) ?? file;
    return typeFromSpec(spec, name, specFile, pkg, depth);
  });
}

function remembered(pkg: Package, key: string, compute: () => GoType | undefined): GoType | undefined {
  const byKey = packageTypes(pkg).variables;
  if (byKey.has(key)) return byKey.get(key);
  const t = compute();
  byKey.set(key, t);
  return t;
}

function typeFromSpec(spec: Node, name: string, file: SourceFile, pkg: Package, depth: number): GoType | undefined {
  const typeNode = spec.childForFieldName('type');
  if (typeNode) return parseType(typeNode, file, pkg);
  const names = spec.type === 'short_var_declaration' ? spec.childForFieldName('left')?.namedChildren ?? [] : spec.childrenForFieldName('name');
  const i = names.findIndex((n) => n?.text === name);
  const values = spec.childForFieldName(spec.type === 'short_var_declaration' ? 'right' : 'value');
  if (i < 0 || !values) return undefined;
  if (values.namedChildCount === names.length) {
    const v = valueAt(values, i);
    return v ? typeOfExpr(v, file, pkg, depth + 1) : undefined;
  }
  // One value for several names: `v, ok := m[k]`, `v, ok := x.(T)`, `v, ok := <-ch`, `a, err := f()`.
  const only = values.namedChildCount === 1 ? valueAt(values, 0) : null;
  return only ? typeOfMultiValue(only, i, file, pkg, depth + 1) : undefined;
}

/** The type of the i-th value of a multi-value expression. */
function typeOfMultiValue(expr: Node, i: number, file: SourceFile, pkg: Package, depth: number): GoType | undefined {
  switch (expr.type) {
    case 'index_expression':
    case 'type_assertion_expression':
      return i === 1 ? BOOL : i === 0 ? typeOfExpr(expr, file, pkg, depth) : undefined;
    case 'unary_expression':
      return expr.child(0)?.text === '<-' ? (i === 1 ? BOOL : i === 0 ? typeOfExpr(expr, file, pkg, depth) : undefined) : undefined;
    case 'call_expression':
      return resultTypesOfCall(expr, file, pkg, depth)?.[i];
    case 'parenthesized_expression': {
      const inner = expr.namedChild(0);
      return inner ? typeOfMultiValue(inner, i, file, pkg, depth + 1) : undefined;
    }
    default:
      return undefined;
  }
}

function typeFromDeclaration(decl: Node, name: string, file: SourceFile, pkg: Package, depth: number): GoType | undefined {
  switch (decl.type) {
    case 'short_var_declaration':
      return typeFromSpec(decl, name, file, pkg, depth);
    case 'var_declaration': {
      const spec = decl.descendantsOfType('var_spec').find((s) => s?.childrenForFieldName('name').some((n) => n?.text === name));
      return spec ? typeFromSpec(spec, name, file, pkg, depth) : undefined;
    }
    case 'function_declaration':
    case 'method_declaration':
    case 'func_literal': {
      for (const field of ['receiver', 'parameters', 'result']) {
        for (const p of decl.childForFieldName(field)?.namedChildren ?? []) {
          if (p?.type !== 'parameter_declaration' && p?.type !== 'variadic_parameter_declaration') continue;
          if (!p.childrenForFieldName('name').some((n) => n?.text === name)) continue;
          const t = p.childForFieldName('type');
          if (!t) return undefined;
          const parsed = parseType(t, file, pkg);
          return p.type === 'variadic_parameter_declaration' ? { kind: 'slice', text: `[]${parsed.text}`, elem: parsed } : parsed;
        }
      }
      return undefined;
    }
    case 'for_statement': {
      const range = decl.namedChildren.find((c) => c?.type === 'range_clause');
      if (range) return rangeVariableType(range, name, file, pkg, depth);
      const init = decl.namedChildren.find((c) => c?.type === 'for_clause')?.childForFieldName('initializer');
      return init?.type === 'short_var_declaration' ? typeFromSpec(init, name, file, pkg, depth) : undefined;
    }
    default: {
      // Statement headers: `if x := f(); ...`, `switch x := f(); ...`.
      const init = decl.childForFieldName('initializer');
      return init?.type === 'short_var_declaration' ? typeFromSpec(init, name, file, pkg, depth) : undefined;
    }
  }
}

/** `for k, v := range x`: k and v by what x is (map, slice, array, string, channel, integer). */
function rangeVariableType(range: Node, name: string, file: SourceFile, pkg: Package, depth: number): GoType | undefined {
  const names = range.childForFieldName('left')?.namedChildren ?? [];
  const i = names.findIndex((n) => n?.text === name);
  const right = range.childForFieldName('right');
  if (i < 0 || !right) return undefined;
  let t = typeOfExpr(right, file, pkg, depth + 1);
  if (t?.kind === 'pointer' && t.elem?.kind === 'array') t = t.elem;
  switch (t?.kind) {
    case 'map': return i === 0 ? t.key : t.elem;
    case 'slice':
    case 'array': return i === 0 ? INT : t.elem;
    case 'chan': return i === 0 ? t.elem : undefined;
    case 'basic':
      if (t.text === 'string') return i === 0 ? INT : { kind: 'basic', text: 'rune' };
      return i === 0 ? t : undefined;
    default: return undefined;
  }
}

/** The results of a call of a package function or method, or of a function-typed value. */
export function resultTypesOfCall(call: Node, file: SourceFile, pkg: Package, depth = 0): GoType[] | undefined {
  const fn = call.childForFieldName('function');
  if (!fn) return undefined;
  if (fn.type === 'identifier' && !findLocalDeclaration(fn, fn.text)) {
    const callee = pkg.decls.get(fn.text)?.find((d) => cachedType(d) === 'function_declaration');
    if (callee) return resultsOf(callee.childForFieldName('result'), pkg.fileOf(callee) ?? file, pkg);
  }
  if (fn.type === 'selector_expression') {
    const operand = fn.childForFieldName('operand');
    const name = fn.childForFieldName('field')?.text;
    const recv = operand && name ? structNameOf(typeOfExpr(operand, file, pkg, depth + 1)) : undefined;
    const m = recv && name ? methodOf(recv, name, pkg) : undefined;
    if (m) return resultsOf(m.method.node.childForFieldName('result'), pkg.fileOf(m.method.node) ?? file, pkg);
  }
  const t = typeOfExpr(fn, file, pkg, depth + 1);
  return t?.kind === 'func' ? t.results : undefined;
}

/** The type of a literal or of an operator's result, where the operands tell it. */
function typeOfLiteral(expr: Node, file: SourceFile, pkg: Package, depth: number): GoType | undefined {
  switch (expr.type) {
    case 'int_literal': return INT;
    case 'float_literal': return { kind: 'basic', text: 'float64' };
    case 'imaginary_literal': return { kind: 'basic', text: 'complex128' };
    case 'rune_literal': return { kind: 'basic', text: 'rune' };
    case 'interpreted_string_literal':
    case 'raw_string_literal': return { kind: 'basic', text: 'string' };
    case 'true':
    case 'false': return BOOL;
    case 'binary_expression': {
      const op = expr.childForFieldName('operator')?.text ?? '';
      if (/^(==|!=|<|<=|>|>=|&&|\|\|)$/.test(op)) return BOOL;
      const left = expr.childForFieldName('left');
      const right = expr.childForFieldName('right');
      const l = left ? typeOfExpr(left, file, pkg, depth + 1) : undefined;
      if (op === '<<' || op === '>>') return l;
      return l ?? (right ? typeOfExpr(right, file, pkg, depth + 1) : undefined);
    }
    default: return undefined;
  }
}

/** The type of an expression, when syntax and same-package declarations tell it. */
export function typeOfExpr(expr: Node, file: SourceFile, pkg: Package, depth = 0): GoType | undefined {
  if (depth > 12) return undefined; // a budget: `a := b; b := c ...` chains and recursive definitions end here
  switch (expr.type) {
    case 'identifier':
      return typeOfIdentifier(expr, file, pkg, depth + 1);
    case 'parenthesized_expression': {
      const inner = expr.namedChild(0);
      return inner ? typeOfExpr(inner, file, pkg, depth + 1) : undefined;
    }
    case 'composite_literal': {
      const t = expr.childForFieldName('type');
      return t ? parseType(t, file, pkg) : undefined;
    }
    case 'func_literal':
      return { kind: 'func', text: 'func', results: resultsOf(expr.childForFieldName('result'), file, pkg) };
    case 'unary_expression': {
      const op = expr.child(0)?.text;
      const operand = expr.childForFieldName('operand');
      const inner = operand ? typeOfExpr(operand, file, pkg, depth + 1) : undefined;
      if (op === '&') return inner && { kind: 'pointer', text: `*${inner.text}`, elem: inner };
      if (op === '*') return inner?.kind === 'pointer' ? inner.elem : undefined;
      if (op === '<-') return inner?.elem;
      if (op === '!') return BOOL;
      return inner; // -x, ^x, +x
    }
    case 'selector_expression': {
      const operand = expr.childForFieldName('operand');
      const field = expr.childForFieldName('field')?.text;
      if (!operand || !field) return undefined;
      const base = typeOfExpr(operand, file, pkg, depth + 1);
      const f = fieldType(base, field, pkg);
      if (f) return f;
      // A method value `x.m`: a function.
      const recv = structNameOf(base) ?? (base?.kind === 'named' ? base.name : undefined);
      const m = recv ? methodOf(recv, field, pkg) : undefined;
      return m ? { kind: 'func', text: `func`, results: resultsOf(m.method.node.childForFieldName('result'), pkg.fileOf(m.method.node) ?? file, pkg) } : undefined;
    }
    case 'index_expression': {
      const operand = expr.childForFieldName('operand');
      let t = operand ? typeOfExpr(operand, file, pkg, depth + 1) : undefined;
      if (t?.kind === 'pointer' && t.elem?.kind === 'array') t = t.elem;
      if (t?.kind === 'basic' && t.text === 'string') return { kind: 'basic', text: 'byte' };
      return t && ['map', 'slice', 'array'].includes(t.kind) ? t.elem : undefined;
    }
    case 'slice_expression': {
      const operand = expr.childForFieldName('operand');
      const t = operand ? typeOfExpr(operand, file, pkg, depth + 1) : undefined;
      if (t?.kind === 'array' || (t?.kind === 'pointer' && t.elem?.kind === 'array')) {
        const el = t.kind === 'array' ? t.elem : t.elem!.elem;
        return { kind: 'slice', text: `[]${el?.text ?? ''}`, elem: el };
      }
      return t;
    }
    case 'type_assertion_expression':
    case 'type_conversion_expression': {
      const t = expr.childForFieldName('type');
      return t ? parseType(t, file, pkg) : undefined;
    }
    case 'call_expression': {
      const fn = expr.childForFieldName('function');
      const args = expr.childForFieldName('arguments');
      if (fn?.type === 'identifier' && !findLocalDeclaration(fn, fn.text)) {
        if (fn.text === 'make' || fn.text === 'new') {
          const t = args?.namedChild(0);
          if (!t) return undefined;
          const parsed = parseType(t, file, pkg);
          return fn.text === 'new' ? { kind: 'pointer', text: `*${parsed.text}`, elem: parsed } : parsed;
        }
        if (fn.text === 'append') {
          const first = args?.namedChild(0);
          return first ? typeOfExpr(first, file, pkg, depth + 1) : undefined;
        }
        if (fn.text === 'len' || fn.text === 'cap' || fn.text === 'copy') return INT;
        // A conversion to a named or basic type: `T(x)`, `int64(n)`.
        if (BASIC.has(fn.text) || packageTypes(pkg).named.has(fn.text)) return parseTypeName(fn, file, pkg);
      }
      if (fn?.type === 'parenthesized_expression' || fn?.type === 'slice_type' || fn?.type === 'pointer_type') {
        const inner = fn.type === 'parenthesized_expression' ? fn.namedChild(0) : fn;
        if (inner && /_type$/.test(inner.type)) return parseType(inner, file, pkg);
      }
      const results = resultTypesOfCall(expr, file, pkg, depth + 1);
      return results?.length === 1 ? results[0] : undefined;
    }
    default:
      return typeOfLiteral(expr, file, pkg, depth);
  }
}

/** An identifier used as a type name (in a conversion), parsed as a type. */
function parseTypeName(id: Node, file: SourceFile, pkg: Package): GoType {
  if (BASIC.has(id.text)) return { kind: 'basic', text: id.text };
  const spec = packageTypes(pkg).named.get(id.text);
  const body = spec?.childForFieldName('type');
  if (body?.type === 'struct_type') return { kind: 'struct', text: id.text, name: id.text };
  return { kind: 'named', text: id.text, name: id.text };
}
