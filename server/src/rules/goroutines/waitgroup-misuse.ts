import type { Node } from 'web-tree-sitter';
import { FunctionsFact, type FuncUnit } from '../../engine/analysis/functions';
import { GoroutinesFact, type Root } from '../../engine/analysis/goroutines';
import { goStatements } from '../../engine/goroutines';
import type { Package } from '../../engine/package';
import type { Rule } from '../../engine/rule';
import type { SourceFile } from '../../engine/source-file';
import { findLocalDeclaration } from '../../engine/scope';
import { argumentsOf, enclosingFunction, escapeRegExp, unparen } from '../../engine/syntax';
import { typeOfExpr } from '../../engine/types';
import { fieldUses, unexportedFields } from './field-uses';

/** Statements that can make an Add conditional or serialise it with Wait: a lock, a check, a select. */
const GUARDS = /(?<![\w$])(?:if|select|switch|return|for)(?![\w$])|\.\s*R?Lock\s*\(/;

/**
 * `x.wg.Add(n)` on an unexported WaitGroup field, among the first statements of a named function,
 * with nothing before it that could check for shutdown or lock: the Add runs whenever the function does.
 */
function unguardedFieldAdds(pkg: Package, fns: { unitOf(n: Node): FuncUnit | undefined }): { add: Node; unit: FuncUnit; field: string; struct: string; waits: Node[] }[] {
  const out: { add: Node; unit: FuncUnit; field: string; struct: string; waits: Node[] }[] = [];
  for (const { struct, name, field } of unexportedFields(pkg)) {
    if (field.type.kind !== 'waitgroup') continue;
    const uses = fieldUses(pkg, name);
    const waits = uses.filter((u) => u.kind === 'method' && u.method === 'Wait').map((u) => u.site);
    if (!waits.length) continue;
    for (const u of uses) {
      if (u.kind !== 'method' || u.method !== 'Add' || u.site.parent?.type !== 'expression_statement') continue;
      const stmt = u.site.parent;
      const fn = enclosingFunction(stmt);
      const list = stmt.parent;
      if (!fn || fn.type === 'func_literal' || list?.type !== 'statement_list' || list.parent?.parent?.id !== fn.id) continue;
      const before = u.file.text.slice(list.startIndex, stmt.startIndex);
      if (GUARDS.test(before)) continue;
      // `ph := &T{...}; ph.wg.Add(n)`: a fresh object no Wait can have seen yet.
      let owner = u.node.childForFieldName('operand');
      while (owner?.type === 'selector_expression') owner = owner.childForFieldName('operand');
      const decl = owner?.type === 'identifier' ? findLocalDeclaration(owner, owner.text) : null;
      if (decl?.type === 'short_var_declaration' && /^\s*(?:&\s*[\w$.]+\s*\{|new\s*\()/.test(u.file.textOf(decl.childForFieldName('right') ?? decl))) continue;
      const unit = fns.unitOf(fn);
      if (unit) out.push({ add: u.site, unit, field: name, struct, waits });
    }
  }
  return out;
}

/** A goroutine that runs `unit` without being counted by the WaitGroup field itself. */
function uncountedGoroutine(roots: ReadonlySet<Root>, unit: FuncUnit, field: string): Root | undefined {
  const done = new RegExp(`\\.\\s*${escapeRegExp(field)}\\s*\\.\\s*(?:Done|Add)\\s*\\(`);
  for (const r of roots) {
    if (r.kind !== 'goroutine' || !r.site || !r.spawner) continue;
    if (r.spawner.file.isTest && !unit.file.isTest) continue;
    // Counted: the goroutine's function calls Done (or Add) on the field, or its spawner adds for it.
    if (done.test(r.unit.file.text.slice(r.unit.start, r.unit.end))) continue;
    if (done.test(r.spawner.file.text.slice(r.spawner.start, r.site.startIndex))) continue;
    return r;
  }
  return undefined;
}

/** `x.Method()` called as a statement: the call, the operand and the method. */
function methodStatement(stmt: Node): { call: Node; operand: Node; method: string } | undefined {
  const call = stmt.type === 'expression_statement' ? stmt.namedChild(0) : null;
  const fn = call?.type === 'call_expression' ? call.childForFieldName('function') : null;
  const operand = fn?.type === 'selector_expression' ? fn.childForFieldName('operand') : null;
  const method = fn?.childForFieldName('field')?.text;
  return call && operand && method ? { call, operand, method } : undefined;
}

function isWaitGroup(expr: Node, file: SourceFile, pkg: Package): boolean {
  const t = typeOfExpr(expr, file, pkg);
  return t?.kind === 'waitgroup' || (t?.kind === 'pointer' && t.elem?.kind === 'waitgroup');
}

/** `wg.Done()` (or `wg.Done()` after other calls) anywhere in `node`'s text. */
function callsDone(file: SourceFile, node: Node, wg: string): boolean {
  return new RegExp(`(?<![\\w$.])${escapeRegExp(wg)}\\s*\\.\\s*Done\\s*\\(`).test(file.textOf(node));
}

/** The function a `go` statement runs, when it is a literal or a package function named directly. */
function goroutineBody(goStmt: Node, pkg: Package): { fn: Node; file: SourceFile } | undefined {
  const call = goStmt.namedChildren.find((c) => c?.type === 'call_expression');
  const callee = call?.childForFieldName('function');
  const file = pkg.fileOf(goStmt);
  if (!callee || !file) return undefined;
  if (callee.type === 'func_literal') return { fn: callee, file };
  return undefined;
}

/**
 * A goroutine that calls `wg.Done()` as a plain statement of its body (not deferred), after a
 * `return` that does not call it first: on that path Done never runs and `Wait` hangs.
 */
function returnsBeforeDone(fn: Node, file: SourceFile, pkg: Package): { ret: Node; done: Node; wg: string } | undefined {
  const body = fn.childForFieldName('body');
  const list = body?.namedChildren.find((c) => c?.type === 'statement_list');
  if (!body || !list) return undefined;
  if (/(?<![\w$.])defer\s+[\w$.]*\s*\.\s*Done\s*\(/.test(file.textOf(body))) return undefined;
  for (const stmt of list.namedChildren) {
    const m = stmt && methodStatement(stmt);
    if (!m || m.method !== 'Done' || !isWaitGroup(m.operand, file, pkg)) continue;
    const wg = file.textOf(m.operand);
    // The goroutine counts itself (`wg.Add(1)` inside): the early return skips the Add too.
    if (new RegExp(`(?<![\\w$.])${escapeRegExp(wg)}\\s*\\.\\s*Add\\s*\\(`).test(file.text.slice(body.startIndex, stmt.startIndex))) return undefined;
    const returns = body.descendantsOfType('return_statement').filter((r): r is Node => !!r && r.startIndex < stmt!.startIndex && enclosingFunction(r)?.id === fn.id);
    for (const ret of returns) {
      // `wg.Done(); return` on that path is fine: look at what runs before the return in its blocks.
      let releasedFirst = false;
      for (let n: Node | null = ret; n && n.id !== body.id && !releasedFirst; n = n.parent) {
        for (let s = n.previousNamedSibling; s && !releasedFirst; s = s.previousNamedSibling) releasedFirst = callsDone(file, s, wg);
      }
      if (!releasedFirst) return { ret, done: m.call, wg };
    }
    return undefined;
  }
  return undefined;
}

/** `wg.Wait()` inside the loop that starts the goroutines, while the count was added once before the loop. */
function waitInStartingLoop(wait: Node, operand: Node, file: SourceFile): { loop: Node; add: Node; go: Node } | undefined {
  const fn = enclosingFunction(wait);
  if (!fn) return undefined;
  const wg = escapeRegExp(file.textOf(operand));
  let loop: Node | null = wait.parent;
  while (loop && loop.id !== fn.id && loop.type !== 'for_statement') loop = loop.parent;
  if (!loop || loop.type !== 'for_statement') return undefined;
  const loopText = file.textOf(loop);
  if (new RegExp(`(?<![\\w$.])${wg}\\s*\\.\\s*Add\\s*\\(`).test(loopText)) return undefined;
  const go = loop.descendantsOfType('go_statement').find((g) => !!g && g.startIndex < wait.startIndex && enclosingFunction(g)?.id === fn.id && callsDone(file, g, file.textOf(operand)));
  if (!go) return undefined;
  // The Add before the loop, in the same function, with a count that is not 1.
  const before = file.text.slice(fn.startIndex, loop.startIndex);
  const addRe = new RegExp(`(?<![\\w$.])${wg}\\s*\\.\\s*Add\\s*\\(`, 'g');
  let add: Node | undefined;
  for (const m of before.matchAll(addRe)) {
    const at = fn.startIndex + m.index! + m[0].length - 1;
    const call = file.root.descendantForIndex(at, at + 1)?.parent?.parent;
    if (call?.type === 'call_expression' && enclosingFunction(call)?.id === fn.id) add = call;
  }
  const count = add && argumentsOf(add)[0];
  if (!add || !count || unparen(count).text === '1' || unparen(count).type === 'unary_expression') return undefined;
  return { loop, add, go };
}

export const waitgroupMisuse: Rule = {
  id: 'waitgroup-misuse',
  title: 'WaitGroup count that never reaches zero',
  doc: 'The Add and Done calls of a WaitGroup do not match on some path: a goroutine returns before its Done, or Wait runs inside the loop that starts the goroutines after one Add for all of them. Wait then blocks forever. Defer Done at the top of the goroutine; wait after the loop.',
  severity: 'warning',
  scope: 'package',
  requires: [FunctionsFact, GoroutinesFact],
  run(pass) {
    const goroutines = pass.get(GoroutinesFact);
    const reporting = new Set(pass.files);
    const fns = pass.get(FunctionsFact);
    for (const a of unguardedFieldAdds(pass.pkg, fns)) {
      const file = a.unit.file;
      if (!reporting.has(file)) continue;
      const root = uncountedGoroutine(goroutines.reach(a.unit), a.unit, a.field);
      if (!root) continue;
      // The same goroutine also waits (`te.run(...); te.wait()`): its Adds come before its Wait.
      const waitUnits = a.waits.map((w) => fns.enclosing(w));
      if (waitUnits.some((w) => !w || goroutines.reach(w).has(root))) continue;
      const wait = a.waits[0];
      const waitFile = pass.pkg.fileOf(wait);
      const spawnFile = root.spawner!.file;
      pass.report({
        file,
        node: a.add,
        message: `${file.textOf(a.add)} runs in a goroutine that ${a.struct}.${a.field} does not count (started in ${root.spawner!.label}), so it may run after ${a.struct}.${a.field}.Wait() has started: Wait can return early or panic; add before starting that goroutine, or count it too`,
        related: [
          { path: spawnFile.path, start: root.site!.startIndex, end: root.site!.startIndex + 2, message: `the goroutine that reaches ${a.unit.label} is started here` },
          ...(waitFile ? [{ path: waitFile.path, start: wait.startIndex, end: wait.endIndex, message: 'Wait on the same WaitGroup' }] : []),
        ],
      });
    }

    for (const file of pass.files) {
      if (!file.contains('Done')) continue;
      const spans = pass.spans(file);
      const inSpans = (n: Node) => spans.some((s) => s.start <= n.startIndex && n.endIndex <= s.end);
      for (const goStmt of goStatements(file)) {
        if (!inSpans(goStmt)) continue;
        const g = goroutineBody(goStmt, pass.pkg);
        const found = g && returnsBeforeDone(g.fn, g.file, pass.pkg);
        if (!found) continue;
        pass.report({
          file,
          node: found.ret,
          message: `this goroutine returns here without calling ${found.wg}.Done(), which it calls only further down: ${found.wg}.Wait() then blocks forever; use defer ${found.wg}.Done() at the top of the goroutine`,
          related: [
            { path: file.path, start: found.done.startIndex, end: found.done.endIndex, message: 'the only Done' },
            { path: file.path, start: goStmt.startIndex, end: goStmt.startIndex + 2, message: 'the goroutine is started here' },
          ],
        });
      }
      for (const m of file.text.matchAll(/\.\s*Wait\s*\(\s*\)/g)) {
        const at = m.index! + m[0].indexOf('Wait');
        const sel = file.root.descendantForIndex(at, at + 4)?.parent;
        const stmt = sel?.parent?.parent;
        const ms = stmt && methodStatement(stmt);
        if (!ms || ms.method !== 'Wait' || !inSpans(ms.call) || !isWaitGroup(ms.operand, file, pass.pkg)) continue;
        const found = waitInStartingLoop(ms.call, ms.operand, file);
        if (!found) continue;
        const wg = file.textOf(ms.operand);
        pass.report({
          file,
          node: ms.call,
          message: `${wg}.Wait() runs inside the loop that starts the goroutines, but ${file.textOf(found.add)} counted all of them before the loop: the first Wait waits for goroutines not started yet and blocks forever; move the Wait after the loop`,
          related: [
            { path: file.path, start: found.add.startIndex, end: found.add.endIndex, message: 'the count for every goroutine is added here' },
            { path: file.path, start: found.go.startIndex, end: found.go.startIndex + 2, message: 'one goroutine is started per iteration here' },
          ],
        });
      }
    }
  },
};
