import type { Node } from 'web-tree-sitter';
import { matchesIn } from '../../engine/anchored';
import type { Package } from '../../engine/package';
import type { Pass, Rule } from '../../engine/rule';
import type { SourceFile } from '../../engine/source-file';
import { parseType, typeOfExpr, type GoType } from '../../engine/types';

/** The methods that call runtime.Goexit: they end only the goroutine they run in. */
const GO_KEYWORD = /(?<![\w$.])go(?=\s+func\b)/g;
const FORBIDDEN = /\.\s*(Fatal|Fatalf|FailNow|Skip|Skipf|SkipNow)\s*\(/g;
const REQUIRE = 'github.com/stretchr/testify/require';
const ASSERT = 'github.com/stretchr/testify/assert';

/** `*testing.T`, `*testing.B` or `testing.TB` (through the file's name for "testing"); else undefined. */
function testingType(t: GoType | undefined, file: SourceFile, pkg: Package): string | undefined {
  const spec = file.importOf('testing');
  if (!spec || !t) return undefined;
  const prefix = spec.dot ? '' : `${spec.local}.`;
  const named = (g: GoType | undefined, names: string[]) => {
    if (g?.kind !== 'named' || !g.text.startsWith(prefix)) return undefined;
    const n = g.text.slice(prefix.length);
    if (!names.includes(n)) return undefined;
    if (spec.dot && pkg.decls.has(n)) return undefined; // a type of our own named T
    return n;
  };
  if (t.kind === 'pointer') return named(t.elem, ['T', 'B']);
  return named(t, ['TB']);
}

/** True when a function's parameters include a *testing.T, *testing.B or testing.TB. */
function hasTestingParam(fn: Node, file: SourceFile, pkg: Package): boolean {
  for (const p of fn.childForFieldName('parameters')?.namedChildren ?? []) {
    const type = p?.type === 'parameter_declaration' ? p.childForFieldName('type') : null;
    if (type && testingType(parseType(type, file, pkg), file, pkg)) return true;
  }
  return false;
}

/** `t.Run(name, func(t *testing.T) {...})`: the literal is a subtest, run on its own test goroutine. */
function isSubtestCallback(lit: Node): boolean {
  const args = lit.parent;
  const call = args?.type === 'argument_list' ? args.parent : null;
  const fn = call?.type === 'call_expression' ? call.childForFieldName('function') : null;
  return fn?.type === 'selector_expression' && fn.childForFieldName('field')?.text === 'Run';
}

/** The `go func() {...}()` statement whose literal is `lit`, if it is one. */
function goStatementOf(lit: Node): Node | null {
  const call = lit.parent;
  if (call?.type !== 'call_expression' || call.childForFieldName('function')?.id !== lit.id) return null;
  return call.parent?.type === 'go_statement' ? call.parent : null;
}

export const testingFatalInGoroutine: Rule = {
  id: 'testing-fatal-in-goroutine',
  title: 't.Fatal from a goroutine',
  doc: 't.Fatal, t.FailNow and t.Skip stop the test by exiting the goroutine they run in; called from a goroutine the test started, they exit only that goroutine and the test runs on. Report with t.Error and return, or send the error back to the test goroutine.',
  severity: 'warning',
  scope: 'declaration',
  run(pass) {
    for (const file of pass.files) {
      if (!file.importOf('testing')) continue;
      // The spans of `go func() {...}()` literals: a call outside all of them needs no tree work.
      const spans: [number, number][] = [];
      for (const g of matchesIn(file, GO_KEYWORD, pass.spans(file))) {
        const stmt = file.root.descendantForIndex(g.index!, g.index! + 2)?.parent;
        const call = stmt?.type === 'go_statement' ? stmt.namedChild(0) : null;
        const fn = call?.type === 'call_expression' ? call.childForFieldName('function') : null;
        if (fn?.type === 'func_literal') spans.push([fn.startIndex, fn.endIndex]);
      }
      if (!spans.length) continue;
      for (const m of matchesIn(file, FORBIDDEN, pass.spans(file))) {
        const at = m.index! + m[0].indexOf(m[1]);
        if (!spans.some(([s, e]) => s <= at && at < e)) continue;
        const field = file.root.descendantForIndex(at, at + m[1].length);
        const sel = field?.parent;
        const call = sel?.parent;
        if (field?.type !== 'field_identifier' || sel?.type !== 'selector_expression' || call?.type !== 'call_expression') continue;
        if (call.childForFieldName('function')?.id !== sel.id) continue;
        const recv = sel.childForFieldName('operand');
        if (recv?.type !== 'identifier') continue;

        const goStmt = testGoroutineStarting(call, file, pass.pkg);
        if (!goStmt) continue;
        const kind = testingType(typeOfExpr(recv, file, pass.pkg), file, pass.pkg);
        if (!kind) continue;
        const method = m[1];
        const r = recv.text;
        const advice = method.startsWith('Skip') ? 'decide to skip before starting the goroutine'
          : method === 'FailNow' ? `use ${r}.Fail and return, or send the failure back to the test goroutine`
            : `use ${r}.Error${method === 'Fatalf' ? 'f' : ''} and return, or send the error back to the test goroutine`;
        pass.report({
          file,
          node: call,
          message: `${r}.${method} in a goroutine the test started exits only that goroutine (runtime.Goexit), not the test: ${advice}`,
          related: [{ path: file.path, start: goStmt.startIndex, end: goStmt.startIndex + 2, message: 'the goroutine is started here' }],
        });
      }
      reportTestifyCalls(pass, file, spans);
    }
  },
};

/** `require.X(t, ...)` for any X but New, and `assert.FailNow(t, ...)`: on failure they call t.FailNow. */
function reportTestifyCalls(pass: Pass, file: SourceFile, spans: [number, number][]): void {
  const packages = [file.importOf(REQUIRE), file.importOf(ASSERT)];
  for (const spec of packages) {
    if (!spec || spec.dot) continue;
    const isRequire = spec.path === REQUIRE;
    const local = spec.local.replace(/\$/g, '\\$');
    const calls = new RegExp(`(?<![\\w$.])${local}\\s*\\.\\s*(${isRequire ? '[A-Z][\\w$]*' : 'FailNow'})\\s*\\(`, 'g');
    for (const m of matchesIn(file, calls, pass.spans(file))) {
      if (m[1] === 'New') continue; // require.New(t) only builds an Assertions value
      const at = m.index!;
      if (!spans.some(([s, e]) => s <= at && at < e)) continue;
      const qualifier = file.root.descendantForIndex(at, at + spec.local.length);
      const sel = qualifier?.parent;
      const call = sel?.parent;
      if (qualifier?.type !== 'identifier' || sel?.type !== 'selector_expression' || call?.type !== 'call_expression') continue;
      if (call.childForFieldName('function')?.id !== sel.id || !file.refersToImport(qualifier, spec.path)) continue;
      // The first argument must be the test's own *testing.T/B or testing.TB (not an assert.CollectT).
      const first = call.childForFieldName('arguments')?.namedChildren.find((a) => a && a.type !== 'comment');
      if (first?.type !== 'identifier' || !testingType(typeOfExpr(first, file, pass.pkg), file, pass.pkg)) continue;
      const goStmt = testGoroutineStarting(call, file, pass.pkg);
      if (!goStmt) continue;
      const name = `${spec.local}.${m[1]}`;
      const advice = isRequire
        ? `use ${m[1] === 'FailNow' || m[1] === 'Fail' ? 'assert.Fail' : `assert.${m[1]}`} (it marks the test failed and returns false) and return, or send the error back to the test goroutine`
        : 'use assert.Fail and return, or send the failure back to the test goroutine';
      pass.report({
        file,
        node: call,
        message: `${name} calls ${first.text}.FailNow when it fails, and in a goroutine the test started that exits only this goroutine (runtime.Goexit), not the test: ${advice}`,
        related: [{ path: file.path, start: goStmt.startIndex, end: goStmt.startIndex + 2, message: 'the goroutine is started here' }],
      });
    }
  }
}

/**
 * The `go` statement whose literal runs `call`, when that literal is inside a test function (one
 * with a testing parameter) and no subtest callback (`t.Run(name, func(t) {...})`) lies between.
 */
function testGoroutineStarting(call: Node, file: SourceFile, pkg: Package): Node | undefined {
  let goStmt: Node | null = null;
  for (let n = call.parent; n; n = n.parent) {
    if (n.type === 'func_literal') {
      if (!goStmt && isSubtestCallback(n)) return undefined;
      goStmt ??= goStatementOf(n);
    }
    if (n.type === 'function_declaration' || n.type === 'method_declaration') {
      return goStmt && hasTestingParam(n, file, pkg) ? goStmt : undefined;
    }
  }
  return undefined;
}
