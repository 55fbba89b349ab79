// Side-effect-free expressions: evaluating the same text twice gives the same value.
import type { Node } from 'web-tree-sitter';

/** Names, literals, fields and simple operators (no calls, no receives). */
export function isPureExpression(expr: Node): boolean {
  switch (expr.type) {
    case 'identifier': case 'int_literal': case 'float_literal': case 'rune_literal': case 'true': case 'false': case 'nil': case 'iota':
    case 'interpreted_string_literal': case 'raw_string_literal':
      return true;
    case 'selector_expression':
      return isPureExpression(expr.childForFieldName('operand')!);
    case 'parenthesized_expression':
      return !!expr.namedChild(0) && isPureExpression(expr.namedChild(0)!);
    case 'binary_expression':
      return isPureExpression(expr.childForFieldName('left')!) && isPureExpression(expr.childForFieldName('right')!);
    case 'unary_expression':
      return expr.child(0)?.text !== '<-' && isPureExpression(expr.childForFieldName('operand')!);
    case 'index_expression':
      return isPureExpression(expr.childForFieldName('operand')!) && isPureExpression(expr.childForFieldName('index')!);
    default:
      return false;
  }
}
