import type { Node } from 'web-tree-sitter';
import type { Package } from '../../engine/package';
import type { Rule } from '../../engine/rule';
import type { SourceFile } from '../../engine/source-file';
import { findLocalDeclaration } from '../../engine/scope';
import { cachedType } from '../../engine/tree-cache';

const ALIASES: Record<string, string> = { byte: 'uint8', rune: 'int32' };
const BASIC = new Set([
  'bool', 'int', 'int8', 'int16', 'int32', 'int64', 'uint', 'uint8', 'uint16', 'uint32', 'uint64', 'uintptr',
  'float32', 'float64', 'complex64', 'complex128',
]);
const BITS_HELPER: Record<string, string> = {
  'float64>uint64': 'math.Float64bits', 'uint64>float64': 'math.Float64frombits',
  'float32>uint32': 'math.Float32bits', 'uint32>float32': 'math.Float32frombits',
};

function normalize(t: string): string {
  const s = t.replace(/\s+/g, '');
  return ALIASES[s] ?? s.replace(/\b(byte|rune)\b/g, (m) => ALIASES[m]);
}

/**
 * Basic scalar types and `[N]byte` views: reinterpreting between these is what the rule is about.
 * `*byte` is excluded: it is the untyped-buffer idiom of syscall code, not a value reinterpretation.
 */
function isScalarView(t: string): boolean {
  return (BASIC.has(t) && t !== 'uint8') || /^\[\w+\]uint8$/.test(t);
}

const HEADERS = new Set(['if_statement', 'for_statement', 'expression_switch_statement', 'type_switch_statement']);

/** The specs (var_spec, short_var_declaration, parameter_declaration) that may declare `name`. */
function declaringSpecs(ident: Node, pkg: Package): Node[] {
  const local = findLocalDeclaration(ident, ident.text);
  if (!local) return (pkg.decls.get(ident.text) ?? []).filter((d) => cachedType(d) === 'var_spec');
  if (local.type === 'var_declaration') return local.descendantsOfType('var_spec').filter((n): n is Node => !!n);
  if (local.type === 'short_var_declaration') return [local];
  if (HEADERS.has(local.type)) {
    const init = local.childForFieldName('initializer') ?? local.namedChildren.find((c) => c?.type === 'for_clause')?.childForFieldName('initializer');
    return init?.type === 'short_var_declaration' ? [init] : [];
  }
  // A function: its own parameter lists only, not those of nested literals.
  return ['receiver', 'parameters', 'result']
    .flatMap((f) => local.childForFieldName(f)?.namedChildren ?? [])
    .filter((n): n is Node => n?.type === 'parameter_declaration');
}

/** The declared type of a variable when its declaration states it plainly. */
function typeOfVariable(ident: Node, pkg: Package): string | undefined {
  const name = ident.text;
  for (const spec of declaringSpecs(ident, pkg)) {
    const names = spec.type === 'short_var_declaration'
      ? spec.childForFieldName('left')?.namedChildren ?? []
      : spec.childrenForFieldName('name');
    const i = names.findIndex((n) => n?.text === name);
    if (i < 0) continue;
    const type = spec.childForFieldName('type');
    if (type) return normalize(type.text);
    const value = spec.childForFieldName(spec.type === 'short_var_declaration' ? 'right' : 'value')?.namedChild(i);
    if (!value) return undefined;
    if (value.type === 'float_literal') return 'float64';
    if (value.type === 'int_literal') return 'int';
    const fn = value.type === 'call_expression' ? value.childForFieldName('function') : null;
    if (fn?.type === 'identifier' && BASIC.has(normalize(fn.text))) return normalize(fn.text);
    // The single result of a function of this package.
    const callee = fn?.type === 'identifier' ? pkg.decls.get(fn.text)?.find((d) => cachedType(d) === 'function_declaration') : undefined;
    const result = callee?.childForFieldName('result');
    if (result && result.type !== 'parameter_list') return normalize(result.text);
    return undefined;
  }
  return undefined;
}

/** For `unsafe.Pointer(...)` used as `(*T)(unsafe.Pointer(...))`, the T as written. */
function conversionTarget(ptrCall: Node): string | undefined {
  let outer = ptrCall.parent;
  if (outer?.type === 'argument_list') outer = outer.parent;
  if (outer?.type === 'call_expression') {
    const fn = outer.childForFieldName('function');
    const star = fn?.type === 'parenthesized_expression' ? fn.namedChild(0) : null;
    if (star?.type === 'unary_expression' && star.child(0)?.text === '*') {
      const t = star.childForFieldName('operand');
      return t?.text;
    }
  }
  if (outer?.type === 'type_conversion_expression') {
    let t = outer.childForFieldName('type');
    while (t && (t.type === 'parenthesized_type' || (t.type === 'pointer_type' && t.namedChild(0)?.type === 'parenthesized_type'))) {
      t = t.namedChild(0);
    }
    if (t?.type === 'pointer_type' && t.namedChild(0)) return t.namedChild(0)!.text;
  }
  return undefined;
}

/** A local variable that stores `uintptr(&x)` or `uintptr(unsafe.Pointer(...))`: the GC does not see it. */
function storesPointerAsUintptr(ident: Node, file: SourceFile): boolean {
  const decl = findLocalDeclaration(ident, ident.text);
  if (!decl || (decl.type !== 'short_var_declaration' && decl.type !== 'var_declaration')) return false;
  const spec = decl.type === 'short_var_declaration'
    ? decl
    : decl.descendantsOfType('var_spec').find((s) => s?.childrenForFieldName('name').some((n) => n?.text === ident.text));
  const names = spec?.type === 'short_var_declaration' ? spec.childForFieldName('left')?.namedChildren ?? [] : spec?.childrenForFieldName('name') ?? [];
  const i = names.findIndex((n) => n?.text === ident.text);
  const value = spec?.childForFieldName(spec.type === 'short_var_declaration' ? 'right' : 'value')?.namedChild(i);
  if (value?.type !== 'call_expression' || value.childForFieldName('function')?.text !== 'uintptr') return false;
  const inner = value.childForFieldName('arguments')?.namedChild(0);
  if (!inner) return false;
  if (inner.type === 'unary_expression' && inner.child(0)?.text === '&') return true;
  const fn = inner.type === 'call_expression' ? inner.childForFieldName('function') : null;
  const operand = fn?.type === 'selector_expression' ? fn.childForFieldName('operand') : null;
  return !!operand && fn!.childForFieldName('field')?.text === 'Pointer' && file.refersToImport(operand, 'unsafe');
}

const INTEGER_SIZE: Record<string, number> = { int8: 1, uint8: 1, int16: 2, uint16: 2, int32: 4, uint32: 4, int64: 8, uint64: 8 };

function advice(from: string, to: string): string {
  const bits = BITS_HELPER[`${from}>${to}`];
  if (bits) return `use ${bits}`;
  if (INTEGER_SIZE[from] && INTEGER_SIZE[from] === INTEGER_SIZE[to]) return `use a plain conversion ${to}(x)`;
  return 'use encoding/binary';
}

export const unsafePointerCast: Rule = {
  id: 'unsafe-pointer-cast',
  title: 'unsafe.Pointer reinterpretation',
  doc: 'Casting &x to a pointer of an unrelated type through unsafe.Pointer depends on layout and endianness; a uintptr kept in a variable is invisible to the GC and may dangle. Use math.Float64bits-style helpers or encoding/binary.',
  severity: 'warning',
  scope: 'declaration',
  run(pass) {
    for (const file of pass.files) {
      for (const { call } of file.callsTo('unsafe', ['Pointer'])) {
        const arg = call.childForFieldName('arguments')?.namedChild(0);
        if (!arg) continue;
        if (arg.type === 'unary_expression' && arg.child(0)?.text === '&') {
          const x = arg.childForFieldName('operand');
          if (x?.type !== 'identifier') continue;
          const from = typeOfVariable(x, pass.pkg);
          const written = conversionTarget(call);
          const to = written && normalize(written);
          if (!from || !to || from === to || !BASIC.has(from) || !isScalarView(to)) continue;
          pass.report({
            file,
            node: call.parent?.type === 'argument_list' ? call.parent.parent! : call.parent!,
            message: `reinterprets the memory of ${x.text} (${from}) as ${written} through unsafe.Pointer; ${advice(from, to).replace('(x)', `(${x.text})`)}`,
          });
          continue;
        }
        const idents = arg.type === 'identifier' ? [arg]
          : arg.type === 'binary_expression' ? arg.namedChildren.filter((n): n is Node => n?.type === 'identifier') : [];
        for (const id of idents) {
          if (!storesPointerAsUintptr(id, file)) continue;
          pass.report({
            file,
            node: call,
            message: `${id.text} holds an address as uintptr; the GC does not track it, so converting it back to unsafe.Pointer may point at freed or moved memory. Keep it an unsafe.Pointer and convert in one expression`,
          });
          break;
        }
      }
    }
  },
};
