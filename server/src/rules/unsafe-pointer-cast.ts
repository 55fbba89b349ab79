import type { Node } from 'web-tree-sitter';
import type { Package } from '../engine/package';
import type { Rule } from '../engine/rule';
import { findLocalDeclaration } from '../engine/scope';

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

/** The declared type of a variable when its declaration states it plainly. */
function typeOfVariable(ident: Node, pkg: Package): string | undefined {
  const name = ident.text;
  const local = findLocalDeclaration(ident, name);
  const specs = local
    ? local.type === 'var_declaration' ? local.descendantsOfType('var_spec')
      : local.type === 'short_var_declaration' ? [local]
      : local.descendantsOfType('parameter_declaration')
    : (pkg.decls.get(name) ?? []).filter((d) => d.type === 'var_spec');
  for (const spec of specs) {
    if (!spec) continue;
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
    if (value.type === 'type_conversion_expression') return normalize(value.childForFieldName('type')?.text ?? '');
    return undefined;
  }
  return undefined;
}

/** For `unsafe.Pointer(...)` used as `(*T)(unsafe.Pointer(...))`, the T. */
function conversionTarget(ptrCall: Node): string | undefined {
  let outer = ptrCall.parent;
  if (outer?.type === 'argument_list') outer = outer.parent;
  if (outer?.type === 'call_expression') {
    const fn = outer.childForFieldName('function');
    const star = fn?.type === 'parenthesized_expression' ? fn.namedChild(0) : null;
    if (star?.type === 'unary_expression' && star.child(0)?.text === '*') {
      const t = star.childForFieldName('operand');
      return t ? normalize(t.text) : undefined;
    }
  }
  if (outer?.type === 'type_conversion_expression') {
    let t = outer.childForFieldName('type');
    while (t && (t.type === 'parenthesized_type' || (t.type === 'pointer_type' && t.namedChild(0)?.type === 'parenthesized_type'))) {
      t = t.namedChild(0);
    }
    if (t?.type === 'pointer_type' && t.namedChild(0)) return normalize(t.namedChild(0)!.text);
  }
  return undefined;
}

/** A local variable that stores `uintptr(<pointer>)`: the GC does not see it as a reference. */
function storedUintptrDecl(ident: Node): Node | undefined {
  const decl = findLocalDeclaration(ident, ident.text);
  if (!decl || (decl.type !== 'short_var_declaration' && decl.type !== 'var_declaration')) return undefined;
  const value = decl.type === 'short_var_declaration'
    ? decl.childForFieldName('right')
    : decl.descendantsOfType('var_spec').find((s) => s?.childrenForFieldName('name').some((n) => n?.text === ident.text))?.childForFieldName('value');
  const conv = value?.namedChildren.find((v) => v?.type === 'call_expression' && v.childForFieldName('function')?.text === 'uintptr');
  if (!conv) return undefined;
  const inner = conv.childForFieldName('arguments')?.namedChild(0);
  const fromPointer = inner && (/^unsafe\.Pointer\(|^&/.test(inner.text) || inner.type === 'unary_expression');
  return fromPointer ? conv : undefined;
}

export const unsafePointerCast: Rule = {
  id: 'unsafe-pointer-cast',
  title: 'unsafe.Pointer reinterpretation',
  doc: 'Casting &x to a pointer of an unrelated type through unsafe.Pointer depends on layout and endianness; a uintptr kept in a variable is invisible to the GC and may dangle. Use math.Float64bits-style helpers or encoding/binary.',
  severity: 'warning',
  run(pass) {
    for (const file of pass.pkg.files) {
      for (const { call } of file.callsTo('unsafe', ['Pointer'])) {
        const arg = call.childForFieldName('arguments')?.namedChild(0);
        if (!arg) continue;
        if (arg.type === 'unary_expression' && arg.child(0)?.text === '&') {
          const x = arg.childForFieldName('operand');
          if (x?.type !== 'identifier') continue;
          const from = typeOfVariable(x, pass.pkg);
          const to = conversionTarget(call);
          if (!from || !to || from === to || !BASIC.has(from) || !isScalarView(to)) continue;
          const helper = BITS_HELPER[`${from}>${to}`] ?? 'encoding/binary';
          pass.report({
            file,
            node: call.parent?.type === 'argument_list' ? call.parent.parent! : call.parent!,
            message: `reinterprets the memory of ${x.text} (${from}) as ${to} through unsafe.Pointer; use ${helper}`,
          });
          continue;
        }
        const idents = arg.type === 'identifier' ? [arg]
          : arg.type === 'binary_expression' ? arg.namedChildren.filter((n): n is Node => n?.type === 'identifier') : [];
        for (const id of idents) {
          if (!storedUintptrDecl(id)) continue;
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
