// A channel handed to a function of the package: what that function does with its parameter.
import type { Node } from 'web-tree-sitter';
import { CallGraphFact } from '../../engine/analysis/callgraph';
import { FunctionsFact, type FuncUnit } from '../../engine/analysis/functions';
import { refsOf, type Ref } from '../../engine/goroutines';
import type { Pass } from '../../engine/rule';
import { enclosingFunction } from '../../engine/syntax';

/**
 * For a channel passed as argument `arg.index` of a call: the one package function the call runs
 * (by name or method, not a function value) and the uses of the parameter in its own body.
 * Undefined when the callee is not known, or a literal inside it uses the parameter.
 */
export function parameterUses(pass: Pass, arg: Ref): { callee: FuncUnit; refs: Ref[] } | undefined {
  if (arg.kind !== 'arg' || arg.index === undefined) return undefined;
  const call = arg.site;
  const caller = pass.get(FunctionsFact).enclosing(call);
  const edges = caller ? pass.get(CallGraphFact).edgesOf(call, caller) : [];
  const callee = edges.length === 1 && edges[0].how === 'static' ? edges[0].callee : undefined;
  if (!callee?.body || callee.isLiteral) return undefined;
  const param = parameterNodes(callee.node)[arg.index];
  if (!param) return undefined;
  const refs = refsOf(callee.file, callee.body, param, callee.node);
  if (refs.some((r) => enclosingFunction(r.node)?.id !== callee.node.id)) return undefined;
  return { callee, refs };
}

/** The name nodes of a function's parameters in order (receiver and variadic parameters left out). */
function parameterNodes(fn: Node): (Node | undefined)[] {
  const out: (Node | undefined)[] = [];
  for (const p of fn.childForFieldName('parameters')?.namedChildren ?? []) {
    if (p?.type !== 'parameter_declaration') continue;
    const names = p.childrenForFieldName('name');
    if (!names.length) out.push(undefined);
    for (const n of names) out.push(n ?? undefined);
  }
  return out;
}
