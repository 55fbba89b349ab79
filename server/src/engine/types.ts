// Types-lite: what racelens can tell about a Go type from syntax alone. Enough to know maps,
// maps of maps, slices, sync.Map, mutexes, atomics and same-package structs, without a type checker.
import type { Node } from 'web-tree-sitter';
import type { Package } from './package';
import { findLocalDeclaration } from './scope';
import type { SourceFile } from './source-file';
import { cachedType } from './tree-cache';

export type TypeKind =
  | 'map' | 'slice' | 'array' | 'pointer' | 'chan' | 'func' | 'interface'
  | 'syncmap' | 'mutex' | 'rwmutex' | 'waitgroup' | 'once' | 'atomic'
  | 'struct' | 'basic' | 'named' | 'unknown';

export interface GoType {
  kind: TypeKind;
  /** The type as written in the source. */
  text: string;
  /** Map value, slice/array/chan element, pointer target. */
  elem?: GoType;
  key?: GoType;
  /** For 'struct' and 'named': the type's name in this package. */
  name?: string;
}

export const UNKNOWN: GoType = { kind: 'unknown', text: '' };

const BASIC = new Set(['bool', 'string', 'int', 'int8', 'int16', 'int32', 'int64', 'uint', 'uint8', 'uint16', 'uint32',
  'uint64', 'uintptr', 'float32', 'float64', 'complex64', 'complex128', 'byte', 'rune', 'error', 'any']);
const SYNC_KINDS: Record<string, TypeKind> = { Map: 'syncmap', Mutex: 'mutex', RWMutex: 'rwmutex', WaitGroup: 'waitgroup', Once: 'once' };

/** Types of a package: its struct declarations (fields with types) and named types. */
export interface PackageTypes {
  structs: Map<string, Map<string, { type: GoType; node: Node; embedded: boolean }>>;
  named: Map<string, Node>;
}

const typeCache = new WeakMap<Package, PackageTypes>();
/** Defined types being expanded, so `type T []T` terminates. */
const resolving = new Set<number>();

export function packageTypes(pkg: Package): PackageTypes {
  let t = typeCache.get(pkg);
  if (t) return t;
  t = { structs: new Map(), named: new Map() };
  for (const [name, decls] of pkg.decls) {
    const spec = decls.find((d) => cachedType(d) === 'type_spec' || cachedType(d) === 'type_alias');
    if (spec) t.named.set(name, spec);
  }
  typeCache.set(pkg, t);
  for (const [name, spec] of t.named) {
    const body = spec.childForFieldName('type');
    if (body?.type !== 'struct_type') continue;
    const file = pkg.fileOf(spec);
    const fields = new Map<string, { type: GoType; node: Node; embedded: boolean }>();
    for (const fd of body.descendantsOfType('field_declaration')) {
      if (!fd || fd.parent?.parent?.id !== body.id) continue;
      const typeNode = fd.childForFieldName('type');
      if (!typeNode || !file) continue;
      const type = parseType(typeNode, file, pkg);
      const names = fd.childrenForFieldName('name').filter((n): n is Node => !!n);
      if (names.length === 0) {
        // Embedded: the field is named after the type (sync.Mutex → Mutex, *Base → Base).
        const base = typeNode.text.replace(/^\*/, '').replace(/^.*\./, '').replace(/\[.*$/, '');
        fields.set(base, { type, node: fd, embedded: true });
      }
      for (const n of names) fields.set(n.text, { type, node: fd, embedded: false });
    }
    t.structs.set(name, fields);
  }
  return t;
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
    case 'function_type': return { kind: 'func', text };
    case 'interface_type': return { kind: 'interface', text };
    case 'struct_type': return { kind: 'struct', text };
    case 'generic_type': {
      const base = node.childForFieldName('type');
      const t = base ? parseType(base, file, pkg) : UNKNOWN;
      return { ...t, text };
    }
    case 'qualified_type': {
      const pkgName = node.childForFieldName('package')?.text;
      const name = node.childForFieldName('name')?.text ?? '';
      const spec = file.imports.find((s) => s.local === pkgName && !s.dot && !s.blank);
      if (spec?.path === 'sync' && SYNC_KINDS[name]) return { kind: SYNC_KINDS[name], text };
      if (spec?.path === 'sync/atomic') return { kind: 'atomic', text };
      return { kind: 'named', text };
    }
    case 'type_identifier': {
      if (BASIC.has(text)) return { kind: 'basic', text };
      const spec = packageTypes(pkg).named.get(text);
      if (spec && resolving.has(spec.id)) return { kind: 'named', text, name: text }; // type T []T
      if (spec) {
        const body = spec.childForFieldName('type');
        if (body?.type === 'struct_type') return { kind: 'struct', text, name: text };
        // A defined type over a map/slice keeps its shape: `type Index map[string]int`.
        if (body && spec.type === 'type_spec' && ['map_type', 'slice_type', 'pointer_type', 'channel_type'].includes(body.type)) {
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

/** The declared type of field `name` of struct type `t` (or pointer to it). */
export function fieldType(t: GoType | undefined, name: string, pkg: Package): GoType | undefined {
  const structName = t?.kind === 'pointer' ? t.elem?.name : t?.name;
  if (!structName) return undefined;
  return packageTypes(pkg).structs.get(structName)?.get(name)?.type;
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

/** Variable types by declaration, name and depth: every use of a variable asks the same question. */
const variableTypes = new WeakMap<Package, Map<string, GoType | undefined>>();

function remembered(pkg: Package, key: string, compute: () => GoType | undefined): GoType | undefined {
  let byKey = variableTypes.get(pkg);
  if (!byKey) variableTypes.set(pkg, (byKey = new Map()));
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
  if (values.namedChildCount !== names.length) return undefined; // v, ok := m[k] and friends
  const v = valueAt(values, i);
  return v ? typeOfExpr(v, file, pkg, depth + 1) : undefined;
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
    default: {
      // Statement headers: `if x := f(); ...`, `for i := 0; ...`; range variables are not typed here.
      const init = decl.childForFieldName('initializer') ?? decl.namedChildren.find((c) => c?.type === 'for_clause')?.childForFieldName('initializer');
      return init?.type === 'short_var_declaration' ? typeFromSpec(init, name, file, pkg, depth) : undefined;
    }
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
    case 'unary_expression': {
      const op = expr.child(0)?.text;
      const operand = expr.childForFieldName('operand');
      const inner = operand ? typeOfExpr(operand, file, pkg, depth + 1) : undefined;
      if (op === '&') return inner && { kind: 'pointer', text: `*${inner.text}`, elem: inner };
      if (op === '*') return inner?.kind === 'pointer' ? inner.elem : undefined;
      return op === '<-' ? inner?.elem : undefined;
    }
    case 'selector_expression': {
      const operand = expr.childForFieldName('operand');
      const field = expr.childForFieldName('field')?.text;
      if (!operand || !field) return undefined;
      return fieldType(typeOfExpr(operand, file, pkg, depth + 1), field, pkg);
    }
    case 'index_expression': {
      const operand = expr.childForFieldName('operand');
      const t = operand ? typeOfExpr(operand, file, pkg, depth + 1) : undefined;
      return t && ['map', 'slice', 'array'].includes(t.kind) ? t.elem : undefined;
    }
    case 'call_expression': {
      const fn = expr.childForFieldName('function');
      const args = expr.childForFieldName('arguments');
      if (fn?.type === 'identifier' && (fn.text === 'make' || fn.text === 'new') && !findLocalDeclaration(fn, fn.text)) {
        const t = args?.namedChild(0);
        if (!t) return undefined;
        const parsed = parseType(t, file, pkg);
        return fn.text === 'new' ? { kind: 'pointer', text: `*${parsed.text}`, elem: parsed } : parsed;
      }
      if (fn?.type === 'identifier' && fn.text === 'append') {
        const first = args?.namedChild(0);
        return first ? typeOfExpr(first, file, pkg, depth + 1) : undefined;
      }
      // A function of this package with a single result.
      const callee = fn?.type === 'identifier' && !findLocalDeclaration(fn, fn.text)
        ? pkg.decls.get(fn.text)?.find((d) => cachedType(d) === 'function_declaration')
        : undefined;
      const result = callee?.childForFieldName('result');
      if (!result) return undefined;
      const calleeFile = pkg.fileOf(callee!) ?? file;
      if (result.type !== 'parameter_list') return parseType(result, calleeFile, pkg);
      const params = result.namedChildren.filter((p) => p?.type === 'parameter_declaration');
      const only = params.length === 1 && params[0]!.childrenForFieldName('name').length <= 1 ? params[0]!.childForFieldName('type') : null;
      return only ? parseType(only, calleeFile, pkg) : undefined;
    }
    default:
      return undefined;
  }
}
