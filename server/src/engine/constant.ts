// Integer constant evaluation for the simple cases rules need: literals, unary minus,
// parentheses, and names of consts declared with a literal (locally or at package level).
import type { Node } from 'web-tree-sitter';
import type { Package } from './package';
import { findLocalDeclaration } from './scope';

function parseIntLiteral(text: string): number | undefined {
  const t = text.replace(/_/g, '');
  if (/^0[xX][0-9a-fA-F]+$/.test(t)) return parseInt(t.slice(2), 16);
  if (/^0[bB][01]+$/.test(t)) return parseInt(t.slice(2), 2);
  if (/^0[oO]?[0-7]+$/.test(t)) return parseInt(t.replace(/^0[oO]?/, ''), 8);
  if (/^\d+$/.test(t)) return parseInt(t, 10);
  return undefined;
}

function valueOfSpec(spec: Node, name: string, pkg: Package, depth: number): number | undefined {
  const names = spec.childrenForFieldName('name');
  const i = names.findIndex((n) => n?.text === name);
  const values = spec.childForFieldName('value');
  const expr = i >= 0 ? values?.namedChild(i) : null;
  return expr ? intConstant(expr, pkg, depth + 1) : undefined;
}

/** The integer value of `expr` when it is a compile-time constant racelens can see; else undefined. */
export function intConstant(expr: Node, pkg: Package, depth = 0): number | undefined {
  if (depth > 8) return undefined; // a budget: constants defined through constants, and cycles, end here
  switch (expr.type) {
    case 'int_literal':
      return parseIntLiteral(expr.text);
    case 'parenthesized_expression': {
      const inner = expr.namedChild(0);
      return inner ? intConstant(inner, pkg, depth + 1) : undefined;
    }
    case 'unary_expression': {
      const op = expr.child(0)?.text;
      const operand = expr.childForFieldName('operand');
      const v = operand ? intConstant(operand, pkg, depth + 1) : undefined;
      if (v === undefined) return undefined;
      return op === '-' ? -v : op === '+' ? v : undefined;
    }
    case 'identifier': {
      const local = findLocalDeclaration(expr, expr.text);
      if (local) {
        if (local.type !== 'const_declaration') return undefined;
        const spec = local.descendantsOfType('const_spec').find((s) => s?.childrenForFieldName('name').some((n) => n?.text === expr.text));
        return spec ? valueOfSpec(spec, expr.text, pkg, depth) : undefined;
      }
      const decls = pkg.decls.get(expr.text);
      if (decls?.length === 1 && decls[0].type === 'const_spec') return valueOfSpec(decls[0], expr.text, pkg, depth);
      return undefined;
    }
    default:
      return undefined;
  }
}
