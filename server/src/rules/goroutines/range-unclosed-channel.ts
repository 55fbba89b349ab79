import type { Node } from 'web-tree-sitter';
import { chanMakes, goStatementOf, isBareLoop, loopHasExit, outermostFunction, refsOf, type Ref } from '../../engine/goroutines';
import { enclosingFunction } from '../../engine/syntax';
import { query } from '../../engine/parser';
import type { Package } from '../../engine/package';
import type { Rule } from '../../engine/rule';
import { findLocalDeclaration } from '../../engine/scope';
import type { SourceFile } from '../../engine/source-file';

/** The parameter declared at argument position `index` of a function: its name node, unless variadic. */
function parameterAt(fn: Node, index: number): Node | undefined {
  let i = 0;
  for (const p of fn.childForFieldName('parameters')?.namedChildren ?? []) {
    if (!p || p.type === 'comment') continue;
    if (p.type !== 'parameter_declaration') return undefined;
    const names = p.childrenForFieldName('name').filter((n): n is Node => !!n);
    if (!names.length) { if (i++ === index) return undefined; continue; }
    for (const n of names) if (i++ === index) return n.text === '_' ? undefined : n;
  }
  return undefined;
}

/** The range loops of a goroutine that gets the channel as parameter `param`; null when it may close or pass it on. */
function rangesOfParameter(fn: Node, param: Node, file: SourceFile): Ref[] | null {
  const body = fn.childForFieldName('body');
  if (!body) return null;
  const refs = refsOf(file, body, param, fn);
  if (refs.some((r) => r.kind === 'close' || r.kind === 'arg' || r.kind === 'other')) return null;
  return refs.filter((r) => r.kind === 'range' && enclosingFunction(r.site)?.id === fn.id);
}

/** The function a `go f(ch)` starts: a literal, or a package function declared once. */
function calleeOf(call: Node, pkg: Package): { fn: Node; file: SourceFile } | undefined {
  const callee = call.childForFieldName('function');
  if (callee?.type === 'func_literal') {
    const file = pkg.fileOf(callee);
    return file && { fn: callee, file };
  }
  if (callee?.type !== 'identifier' || findLocalDeclaration(callee, callee.text)) return undefined;
  const decls = pkg.decls.get(callee.text) ?? [];
  if (decls.length !== 1 || decls[0].type !== 'function_declaration') return undefined;
  const file = pkg.fileOf(decls[0]);
  return file && { fn: decls[0], file };
}

/** init, or main of package main: the goroutine lives as long as the process anyway. */
function processLifetime(fn: Node, pkg: Package): boolean {
  const top = outermostFunction(fn);
  if (top?.type !== 'function_declaration') return false;
  const name = top.childForFieldName('name')?.text;
  return name === 'init' || (name === 'main' && pkg.name === 'main');
}

export const rangeUnclosedChannel: Rule = {
  id: 'range-unclosed-channel',
  title: 'Range over a channel that is never closed',
  doc: 'A goroutine ranges over a channel made in the same function, and nothing ever closes it: the loop never ends, so the goroutine blocks forever once the sends stop. Close the channel after the last send.',
  severity: 'warning',
  run(pass) {
    const reported = new Set<string>();
    for (const file of pass.files) {
      if (!file.contains('range') || !/\brange\b/.test(file.text)) continue;
      for (const mk of chanMakes(file, pass.pkg)) {
        const fn = enclosingFunction(mk.decl);
        const body = fn?.childForFieldName('body');
        if (!fn || !body || processLifetime(fn, pass.pkg)) continue;
        const refs = refsOf(file, body, mk.name, mk.decl);
        if (refs.some((r) => r.kind === 'close' || r.kind === 'other')) continue;
        const found: { range: Ref; file: SourceFile; go: Node }[] = [];
        let passedOn = false;
        for (const r of refs) {
          if (r.kind === 'range') {
            const lit = enclosingFunction(r.site);
            const go = lit?.type === 'func_literal' ? goStatementOf(lit) : null;
            if (go) found.push({ range: r, file, go });
          } else if (r.kind === 'arg') {
            // Passed to a goroutine that ranges over its parameter: `go consume(ch)`.
            const go = r.site.parent?.type === 'go_statement' ? r.site.parent : null;
            const callee = go ? calleeOf(r.site, pass.pkg) : undefined;
            const param = callee && r.index !== undefined ? parameterAt(callee.fn, r.index) : undefined;
            const ranges = callee && param ? rangesOfParameter(callee.fn, param, callee.file) : null;
            if (!go || !callee || !ranges) { passedOn = true; break; }
            for (const range of ranges) found.push({ range, file: callee.file, go });
          }
        }
        if (passedOn || !found.length) continue;
        // The function itself never finishes (an endless for loop): the consumer lives as long as it.
        if (query('(for_statement) @loop').captures(body).some((c) => isBareLoop(c.node) && enclosingFunction(c.node)?.id === fn.id && !loopHasExit(c.node, fn))) continue;
        for (const { range, file: rangeFile, go } of found) {
          const key = `${rangeFile.path}:${range.site.startIndex}`;
          if (reported.has(key)) continue;
          reported.add(key);
          const name = mk.name.text;
          const via = range.node.text === name ? name : `${range.node.text} (${name})`;
          pass.report({
            file: rangeFile,
            node: range.site.namedChildren.find((c) => c?.type === 'range_clause') ?? range.site,
            message: `this goroutine ranges over ${via}, which is never closed: the loop never ends and the goroutine blocks forever once the sends stop; close(${name}) after the last send`,
            related: [
              { path: file.path, start: mk.decl.startIndex, end: mk.decl.endIndex, message: `${name} is made here and never closed` },
              { path: file.path, start: go.startIndex, end: go.endIndex, message: 'the goroutine is started here' },
            ],
          });
        }
      }
    }
  },
};
