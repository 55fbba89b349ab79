// `x = append(x, ...)`: the candidates of the append rules, found on the lines that contain
// `= append(` (see anchored.ts).
export const SELF_APPENDS = `(assignment_statement
  left: (expression_list . (identifier) @lhs .)
  operator: "="
  right: (expression_list . (call_expression
    function: (identifier) @fn
    arguments: (argument_list . (identifier) @first)) .)) @assign`;

export const APPEND_ANCHOR = /=\s*append\s*\(/g;
