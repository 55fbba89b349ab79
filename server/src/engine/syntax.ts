// Small syntax helpers shared by the engine and the rules: arguments, parameters, parentheses,
// declaring names.
import type { Node } from 'web-tree-sitter';

/** The arguments of a call, comments left out. */
export function argumentsOf(call: Node): Node[] {
  return call.childForFieldName('arguments')?.namedChildren.filter((n): n is Node => !!n && n.type !== 'comment') ?? [];
}

/** The parameter names of a function node in order (receiver excluded); undefined for an unnamed one. */
export function parameterNames(fn: Node): (string | undefined)[] {
  const out: (string | undefined)[] = [];
  for (const p of fn.childForFieldName('parameters')?.namedChildren ?? []) {
    if (p?.type !== 'parameter_declaration' && p?.type !== 'variadic_parameter_declaration') continue;
    const names = p.childrenForFieldName('name');
    if (!names.length) out.push(undefined);
    for (const n of names) out.push(n?.text);
  }
  return out;
}

/** The index of parameter `name` of a function node (receiver excluded), or -1. */
export function parameterIndex(fn: Node, name: string): number {
  return parameterNames(fn).indexOf(name);
}

/** The expression inside any parentheses. */
export function unparen(n: Node): Node {
  while (n.type === 'parenthesized_expression' && n.namedChild(0)) n = n.namedChild(0)!;
  return n;
}

/** The identifier is the name being declared (`x := ...`, `var x`, a parameter, a range key). */
export function isDeclaringOccurrence(node: Node): boolean {
  const p = node.parent;
  if (p?.type === 'var_spec' || p?.type === 'parameter_declaration' || p?.type === 'const_spec') return true;
  if (p?.type !== 'expression_list') return false;
  const owner = p.parent;
  return (owner?.type === 'short_var_declaration' || owner?.type === 'range_clause') && owner.childForFieldName('left')?.id === p.id
    && (owner.type === 'short_var_declaration' || owner.children.some((c) => c?.type === ':='));
}

export const FUNCTION_TYPES = new Set(['function_declaration', 'method_declaration', 'func_literal']);

/** The innermost function declaration, method or literal containing `node` (not `node` itself). */
export function enclosingFunction(node: Node): Node | null {
  for (let n = node.parent; n; n = n.parent) if (FUNCTION_TYPES.has(n.type)) return n;
  return null;
}

/** Whether `node` lies inside `outer` (or is it). */
export function within(node: Node, outer: Node): boolean {
  return node.startIndex >= outer.startIndex && node.endIndex <= outer.endIndex;
}

/** `s` as a regular expression that matches it literally (identifiers may hold `$`). */
export function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
