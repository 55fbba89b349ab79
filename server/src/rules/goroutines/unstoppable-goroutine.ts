import type { Node } from 'web-tree-sitter';
import {
  contextInScope, eolOf, goStatements, isBareLoop, lineIndent, loopHasExit, outermostFunction, standsAlone, statementsOf,
} from '../../engine/goroutines';
import { enclosingFunction } from '../../engine/syntax';
import type { Package } from '../../engine/package';
import { query } from '../../engine/parser';
import type { Fix, Rule } from '../../engine/rule';
import { findLocalDeclaration } from '../../engine/scope';
import type { SourceFile } from '../../engine/source-file';
import { cachedType } from '../../engine/tree-cache';

const LOOPS = '(for_statement body: (block)) @loop';

interface Target { fn: Node; file: SourceFile; sites: { go: Node; file: SourceFile }[] }

/** A function literal passed to `x.Do(...)` (sync.Once): its body runs once. */
function inOnceDo(node: Node): boolean {
  for (let n = node.parent; n; n = n.parent) {
    if (n.type !== 'func_literal') continue;
    const call = n.parent?.type === 'argument_list' ? n.parent.parent : null;
    const fn = call?.type === 'call_expression' ? call.childForFieldName('function') : null;
    if (fn?.type === 'selector_expression' && fn.childForFieldName('field')?.text === 'Do') return true;
  }
  return false;
}

/** A hand-made once: `if started != nil { return }` first, on a package variable the function then sets. */
function guardedOnce(fn: Node, file: SourceFile, pkg: Package): boolean {
  const first = statementsOf(fn.childForFieldName('body'))[0];
  if (first?.type !== 'if_statement' || first.childForFieldName('alternative') || first.childForFieldName('initializer')) return false;
  const then = statementsOf(first.childForFieldName('consequence'));
  if (then.length !== 1 || then[0].type !== 'return_statement') return false;
  const cond = file.textOf(first.childForFieldName('condition') ?? first);
  const body = file.textOf(fn.childForFieldName('body')!).slice(first.endIndex - fn.childForFieldName('body')!.startIndex);
  for (const m of cond.matchAll(/(?<![\w$.])([A-Za-z_][\w$]*)/g)) {
    if (!pkg.decls.get(m[1])?.some((d) => cachedType(d) === 'var_spec') || findLocalDeclaration(first, m[1])) continue;
    if (new RegExp(`(?<![\\w$.])${m[1]}\\s*=[^=]`).test(body)) return true;
  }
  return false;
}

/**
 * Started once for the process: in init or main, inside a sync.Once Do, in a function guarded as
 * a hand-made once, or in an unexported function that only such places call (two levels up).
 */
function startedAtProcessLevel(at: Node, file: SourceFile, pkg: Package, depth = 0): boolean {
  if (inOnceDo(at)) return true;
  const top = outermostFunction(at);
  if (top?.type !== 'function_declaration') return false;
  const name = top.childForFieldName('name')?.text;
  if (!name) return false;
  if (name === 'init' || name === 'main') return true;
  // An Example function of a test file stands for a program's main.
  if (file.isTest && /^Example/.test(name)) return true;
  if (guardedOnce(top, file, pkg)) return true;
  // Callers are known only for unexported functions: other packages may call an exported one.
  if (depth >= 2 || !/^[a-z_]/.test(name)) return false;
  const calls = callSites(name, pkg);
  return calls.length > 0 && calls.every((c) => startedAtProcessLevel(c.call, c.file, pkg, depth + 1));
}

/** Calls of the package function `name` across the package (found by name, checked in the tree). */
function callSites(name: string, pkg: Package): { call: Node; file: SourceFile }[] {
  const out: { call: Node; file: SourceFile }[] = [];
  const re = new RegExp(`(?<![\\w$.])${name.replace(/\$/g, '\\$')}\\s*\\(`, 'g');
  for (const file of pkg.files) {
    for (const m of file.text.matchAll(re)) {
      const id = file.root.descendantForIndex(m.index!, m.index! + name.length);
      const call = id?.parent;
      if (id?.type !== 'identifier' || call?.type !== 'call_expression' || call.childForFieldName('function')?.id !== id.id) continue;
      if (findLocalDeclaration(id, name)) continue;
      out.push({ call, file });
    }
  }
  return out;
}

/** Goroutine bodies of a package: literals after `go`, and package functions started with `go`. */
function targets(pkg: Package): Target[] {
  const byFn = new Map<string, Target>();
  for (const file of pkg.files) {
    for (const go of goStatements(file)) {
      const call = go.namedChild(0);
      const callee = call?.type === 'call_expression' ? call.childForFieldName('function') : null;
      let fn: Node | undefined;
      let fnFile = file;
      if (callee?.type === 'func_literal') fn = callee;
      else if (callee?.type === 'identifier' && !findLocalDeclaration(callee, callee.text)) {
        const decls = pkg.decls.get(callee.text)?.filter((d) => cachedType(d) === 'function_declaration') ?? [];
        if (decls.length === 1 && pkg.decls.get(callee.text)!.length === 1) {
          fn = decls[0];
          fnFile = pkg.fileOf(fn) ?? file;
        }
      }
      if (!fn) continue;
      const key = `${fnFile.path}:${fn.startIndex}`;
      let t = byFn.get(key);
      if (!t) byFn.set(key, (t = { fn, file: fnFile, sites: [] }));
      t.sites.push({ go, file });
    }
  }
  return [...byFn.values()];
}

/** `select { case <-ctx.Done(): return; case <op>: }` around the loop's first blocking statement. */
function wrapFix(loop: Node, fn: Node, file: SourceFile): Fix | undefined {
  if (fn.childForFieldName('result')) return undefined; // a bare return would not compile
  const first = statementsOf(loop.childForFieldName('body')).find((s) => blockingOp(s, file) !== null);
  if (!first) return undefined;
  const op = blockingOp(first, file);
  if (!op || file.textOf(first).includes('\n') || !standsAlone(file, first, true)) return undefined;
  const ctx = contextInScope(first, file);
  if (!ctx) return undefined;
  const ind = lineIndent(file, first.startIndex);
  const eol = eolOf(file);
  return {
    title: `Stop the loop when ${ctx} is cancelled`,
    edits: [{
      path: file.path, start: first.startIndex, end: first.endIndex,
      newText: `select {${eol}${ind}case <-${ctx}.Done():${eol}${ind}\treturn${eol}${ind}case ${op}:${eol}${ind}}`,
    }],
    isPreferred: true,
  };
}

/**
 * The select-case form of a blocking statement: `ch <- v`, `<-ch`, `v = <-ch`, and
 * `time.Sleep(d)` as `<-time.After(d)`. '' for a blocking statement that cannot be a case
 * (`v := <-ch` would scope v to the case); null for a statement that does not block.
 */
function blockingOp(stmt: Node, file: SourceFile): string | null {
  if (stmt.type === 'send_statement') return file.textOf(stmt);
  if (stmt.type === 'short_var_declaration') {
    const right = stmt.childForFieldName('right')?.namedChildren ?? [];
    return right.length === 1 && right[0]?.type === 'unary_expression' && right[0].child(0)?.type === '<-' ? '' : null;
  }
  if (stmt.type === 'assignment_statement') {
    const right = stmt.childForFieldName('right')?.namedChildren ?? [];
    const isRecv = right.length === 1 && right[0]?.type === 'unary_expression' && right[0].child(0)?.type === '<-';
    if (!isRecv) return null;
    return stmt.childForFieldName('operator')?.text === '=' ? file.textOf(stmt) : '';
  }
  if (stmt.type !== 'expression_statement') return null;
  const e = stmt.namedChild(0);
  if (e?.type === 'unary_expression' && e.child(0)?.type === '<-') return file.textOf(e);
  if (e?.type === 'call_expression') {
    const fn = e.childForFieldName('function');
    const operand = fn?.type === 'selector_expression' ? fn.childForFieldName('operand') : null;
    if (fn?.type === 'selector_expression' && fn.childForFieldName('field')?.text === 'Sleep' && operand?.type === 'identifier' && file.refersToImport(operand, 'time')) {
      const args = e.childForFieldName('arguments')?.namedChildren.filter((a) => a && a.type !== 'comment') ?? [];
      return args.length === 1 ? `<-${operand.text}.After(${file.textOf(args[0]!)})` : '';
    }
  }
  return null;
}

export const unstoppableGoroutine: Rule = {
  id: 'unstoppable-goroutine',
  title: 'Goroutine loop with no way out',
  doc: 'A goroutine runs a for {} loop with no return, break, ctx.Done() case or closed-channel check, so nothing can ever stop it and it leaks with everything it references. Give the loop an exit, e.g. select on ctx.Done() and return.',
  severity: 'warning',
  scope: 'package',
  run(pass) {
    const reported = new Set<string>();
    for (const t of targets(pass.pkg)) {
      const body = t.fn.childForFieldName('body');
      if (!body || !/(?<![\w$.])for\s*\{/.test(t.file.textOf(body))) continue;
      let live: Target['sites'] | undefined;
      for (const c of query(LOOPS).captures(body)) {
        const loop = c.node;
        if (!isBareLoop(loop) || enclosingFunction(loop)?.id !== t.fn.id || loopHasExit(loop, t.fn)) continue;
        live ??= t.sites.filter((s) => !startedAtProcessLevel(s.go, s.file, pass.pkg));
        if (!live.length) break;
        const site = live[0];
        const key = `${t.file.path}:${loop.startIndex}`;
        if (reported.has(key)) continue;
        reported.add(key);
        const where = site.file.path === t.file.path ? `line ${site.file.positionAt(site.go.startIndex).line + 1}` : `${site.file.path.replace(/^.*[\\/]/, '')}:${site.file.positionAt(site.go.startIndex).line + 1}`;
        const fix = wrapFix(loop, t.fn, t.file);
        pass.report({
          file: t.file,
          start: loop.startIndex,
          end: loop.startIndex + 3,
          message: `this for loop never ends: no return, break, ctx.Done() case or closed-channel check, so the goroutine started at ${where} can never be stopped and leaks`,
          related: [{ path: site.file.path, start: site.go.startIndex, end: site.go.endIndex, message: 'the goroutine is started here' }],
          fixes: fix ? [fix] : [],
        });
      }
    }
  },
};
