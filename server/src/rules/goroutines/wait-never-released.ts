import type { Node } from 'web-tree-sitter';
import { CallGraphFact } from '../../engine/analysis/callgraph';
import { FunctionsFact } from '../../engine/analysis/functions';
import { refsOf } from '../../engine/goroutines';
import type { Package } from '../../engine/package';
import type { RelatedLocation, Rule } from '../../engine/rule';
import { findLocalDeclaration } from '../../engine/scope';
import type { SourceFile } from '../../engine/source-file';
import { argumentsOf, enclosingFunction, parameterIndex, unparen } from '../../engine/syntax';
import { fieldUses, unexportedFields, type FieldUse } from './field-uses';

const CONTEXT_WITH_CANCEL = ['WithCancel', 'WithTimeout', 'WithDeadline', 'WithCancelCause', 'WithTimeoutCause', 'WithDeadlineCause'];

/** What releases a wait on a field of each sync type, and what waits. */
const SYNC_WAITS: Record<string, { waits: string; releases: RegExp; verb: string }> = {
  waitgroup: { waits: 'Wait', releases: /^(?:Done|Go)$/, verb: 'calls Done on it' },
  cond: { waits: 'Wait', releases: /^(?:Signal|Broadcast)$/, verb: 'calls Signal or Broadcast on it' },
};

function related(file: SourceFile, node: Node, message: string): RelatedLocation {
  return { path: file.path, start: node.startIndex, end: node.endIndex, message };
}

/** `wg.Add(-1)`, `wg.Add(-n)`: a Done in disguise. */
function negativeAdd(call: Node): boolean {
  const arg = argumentsOf(call)[0];
  return !!arg && unparen(arg).type === 'unary_expression' && unparen(arg).childForFieldName('operator')?.text === '-';
}

/**
 * WaitGroup and Cond fields that something waits on while nothing in the package releases them:
 * no Done (nor a negative Add) for a WaitGroup that is added to, no Signal or Broadcast for a Cond.
 * The field is unexported and never copied, passed or has its address taken, so every use is seen.
 */
function unreleasedSyncWaits(pkg: Package): { use: FieldUse; struct: string; name: string; verb: string; adds: FieldUse[] }[] {
  const out: { use: FieldUse; struct: string; name: string; verb: string; adds: FieldUse[] }[] = [];
  for (const { struct, name, field } of unexportedFields(pkg)) {
    const kind = field.type.kind === 'pointer' ? field.type.elem?.kind : field.type.kind;
    const spec = kind && SYNC_WAITS[kind];
    if (!spec) continue;
    const uses = fieldUses(pkg, name);
    const waits: FieldUse[] = [], adds: FieldUse[] = [];
    let released = false;
    for (const u of uses) {
      if (u.kind === 'method' && u.method === spec.waits) waits.push(u);
      else if (u.kind === 'method' && u.method && spec.releases.test(u.method)) released = true;
      else if (u.kind === 'method' && u.method === 'Add' && kind === 'waitgroup') { if (negativeAdd(u.site)) released = true; else adds.push(u); }
      else if (u.kind === 'assigned' && kind === 'cond') continue; // c.cond = sync.NewCond(&c.mu)
      else if (u.kind !== 'nilcmp' && u.kind !== 'lencap') released = true; // copied, passed, &x.f: may be released elsewhere
      if (released) break;
    }
    if (released || !waits.length || (kind === 'waitgroup' && !adds.length)) continue;
    for (const use of waits) out.push({ use, struct, name, verb: spec.verb, adds });
  }
  return out;
}

/** Where the cancel func of a context.WithCancel call goes: a field `x.f`, or a local stored only in fields. */
function cancelFields(call: Node, file: SourceFile): { fields: string[]; stores: Node[] } | undefined {
  const right = call.parent;
  const stmt = right?.parent;
  if (right?.type !== 'expression_list' || (stmt?.type !== 'assignment_statement' && stmt?.type !== 'short_var_declaration')) return undefined;
  if (stmt.childForFieldName('right')?.id !== right.id || right.namedChildren.filter((n) => n && n.type !== 'comment').length !== 1) return undefined;
  const lefts = stmt.childForFieldName('left')?.namedChildren.filter((n): n is Node => !!n && n.type !== 'comment') ?? [];
  const target = lefts[1];
  if (!target) return undefined;
  if (target.type === 'selector_expression') {
    const name = target.childForFieldName('field')?.text;
    return name ? { fields: [name], stores: [target] } : undefined;
  }
  if (target.type !== 'identifier' || target.text === '_') return undefined;
  const scope = enclosingFunction(call)?.childForFieldName('body');
  const decl = stmt.type === 'short_var_declaration' ? stmt : findLocalDeclaration(target, target.text);
  if (!scope || !decl) return undefined;
  const fields: string[] = [], stores: Node[] = [];
  for (const r of refsOf(file, scope, target, decl)) {
    // Only stored: `x.f = cancel` or `T{f: cancel}`. Called, deferred, passed or returned: it is used.
    const p = r.node.parent;
    // `T{cancel: cancel}`: the key names the field, not the local.
    if (p?.type === 'literal_element' && p.parent?.type === 'keyed_element' && p.parent.namedChild(0)?.id === p.id) continue;
    if (r.kind === 'other' && p?.type === 'literal_element' && p.parent?.type === 'keyed_element' && p.parent.namedChild(1)?.id === p.id) {
      const key = p.parent.namedChild(0)?.namedChild(0);
      if (key?.type !== 'identifier') return undefined;
      fields.push(key.text); stores.push(p.parent);
      continue;
    }
    if (r.kind === 'other' && p?.type === 'expression_list' && p.parent?.type === 'assignment_statement' && p.parent.childForFieldName('right')?.id === p.id) {
      const lhs = p.parent.childForFieldName('left')?.namedChildren.filter((n): n is Node => !!n && n.type !== 'comment') ?? [];
      const rhs = p.namedChildren.filter((n): n is Node => !!n && n.type !== 'comment');
      const to = lhs.length === rhs.length ? lhs[rhs.findIndex((n) => n.id === r.node.id)] : undefined;
      const name = to?.type === 'selector_expression' ? to.childForFieldName('field')?.text : undefined;
      if (!name) return undefined;
      fields.push(name); stores.push(to!);
      continue;
    }
    if (r.node.startIndex >= stmt.startIndex && r.node.endIndex <= stmt.endIndex) continue;
    return undefined;
  }
  return fields.length ? { fields, stores } : undefined;
}

/** How code uses a cancel field: never called at all, called only through methods of `struct`, or otherwise. */
function cancelUse(pkg: Package, name: string): 'never' | 'methods' | 'other' {
  let called = false;
  for (const u of fieldUses(pkg, name)) {
    if (u.kind === 'assigned' || u.kind === 'nilcmp') continue;
    if (u.kind !== 'called') return 'other';
    called = true;
  }
  return called ? 'methods' : 'never';
}

/** `context.Background()` or `context.TODO()`: a parent nothing cancels. */
function neverCancelled(expr: Node | undefined, file: SourceFile): boolean {
  const e = expr && unparen(expr);
  if (e?.type !== 'call_expression') return false;
  const fn = e.childForFieldName('function');
  const operand = fn?.type === 'selector_expression' ? fn.childForFieldName('operand') : null;
  return !!operand && operand.type === 'identifier' && file.refersToImport(operand, 'context') && /^(?:Background|TODO)$/.test(fn!.childForFieldName('field')?.text ?? '');
}

export const waitNeverReleased: Rule = {
  id: 'wait-never-released',
  title: 'Wait that nothing ever releases',
  doc: 'A goroutine waits on something that no code in the package ever releases: a WaitGroup nothing calls Done on, a Cond nothing signals, or a context whose cancel func is stored and never called. Release it on every path where the work it waits for ends.',
  severity: 'warning',
  scope: 'package',
  requires: [FunctionsFact, CallGraphFact],
  run(pass) {
    const reporting = new Set(pass.files);
    for (const { use, struct, name, verb, adds } of unreleasedSyncWaits(pass.pkg)) {
      if (!reporting.has(use.file)) continue;
      const text = use.file.textOf(use.site);
      const rel = adds.slice(0, 3).map((a) => related(a.file, a.site, `${struct}.${name} is added to here`));
      pass.report({
        file: use.file,
        node: use.site,
        message: `${text} waits on ${struct}.${name}, but nothing in the package ${verb}: this goroutine blocks here forever${adds.length ? ' once anything is added' : ''}`,
        related: rel,
      });
    }

    const graph = pass.get(CallGraphFact);
    const fns = pass.get(FunctionsFact);
    for (const file of pass.pkg.files) {
      for (const { call, name: maker } of file.callsTo('context', CONTEXT_WITH_CANCEL)) {
        const target = cancelFields(call, file);
        if (!target || !target.fields.every((f) => /^[a-z_]/.test(f))) continue;
        const uses = target.fields.map((f) => cancelUse(pass.pkg, f));
        if (uses.every((u) => u === 'never')) {
          if (!reporting.has(file)) continue;
          const fieldText = target.fields.join(', ');
          pass.report({
            file,
            node: call,
            message: `the cancel func of this context.${maker} is stored in ${fieldText}, which nothing in the package ever calls: the context is never cancelled, so goroutines waiting on its Done() leak until the parent ends; call it when the work ends`,
            related: target.stores.map((s) => related(file, s, 'stored here')),
          });
          continue;
        }
        if (!uses.every((u) => u !== 'other')) continue;
        // Called only through the object's methods: a caller that drops the object can never cancel.
        const unit = fns.enclosing(call);
        if (!unit || unit.isLiteral) continue;
        const body = unit.body;
        const goStmt = body?.descendantsOfType('go_statement').find((g) => !!g && enclosingFunction(g)?.id === unit.node.id);
        if (!goStmt || !returnsTheHolder(target.stores, unit.node)) continue;
        const parent = argumentsOf(call)[0];
        const paramAt = parent && unparen(parent).type === 'identifier' ? parameterIndex(unit.node, unparen(parent).text) : -1;
        const fromBackground = neverCancelled(parent, file);
        if (!fromBackground && paramAt < 0) continue;
        for (const edge of graph.callersOf(unit)) {
          const site = edge.call;
          const siteFile = pass.pkg.fileOf(site);
          if (!siteFile || !reporting.has(siteFile) || site.parent?.type !== 'expression_statement') continue;
          if (!fromBackground && !neverCancelled(argumentsOf(site)[paramAt], siteFile)) continue;
          pass.report({
            file: siteFile,
            node: site,
            message: `the result of ${siteFile.textOf(site.childForFieldName('function') ?? site)}(...) is dropped, and only its methods can cancel the context it made (context.${maker}, cancel stored in ${target.fields.join(', ')}): the goroutine it started waits on that context forever; keep the result and call the method that cancels it`,
            related: [related(file, call, `context.${maker} in ${unit.label}`), related(file, goStmt, 'the goroutine is started here')],
          });
        }
      }
    }
  },
};

/** The stores put the cancel func into an object the function returns: `tx := &T{cancel: c}; ...; return tx`. */
function returnsTheHolder(stores: Node[], fn: Node): boolean {
  const holders = new Set<string>();
  for (const s of stores) {
    if (s.type === 'selector_expression') {
      const op = s.childForFieldName('operand');
      if (op?.type === 'identifier') holders.add(op.text);
      continue;
    }
    // keyed element: the literal is the value of `x := &T{...}` or `x := T{...}`.
    let lit: Node | null = s.parent;
    while (lit && lit.type !== 'composite_literal') lit = lit.parent;
    let v: Node | null | undefined = lit?.parent;
    if (v?.type === 'unary_expression') v = v.parent;
    const decl = v?.type === 'expression_list' ? v.parent : null;
    const names = decl?.type === 'short_var_declaration' ? decl.childForFieldName('left')?.namedChildren ?? [] : [];
    if (names.length === 1 && names[0]?.type === 'identifier') holders.add(names[0].text);
  }
  if (!holders.size) return false;
  const returns = fn.childForFieldName('body')?.descendantsOfType('return_statement').filter((r) => !!r && enclosingFunction(r)?.id === fn.id) ?? [];
  return returns.length > 0 && returns.every((r) => {
    const vals = r!.namedChildren.find((c) => c?.type === 'expression_list')?.namedChildren.filter((c) => c && c.type !== 'comment') ?? [];
    return vals.some((v) => v?.type === 'identifier' && holders.has(v.text));
  });
}
