import type { Node } from 'web-tree-sitter';
import { FunctionsFact, type FuncUnit } from '../../engine/analysis/functions';
import { GoroutinesFact, type Root } from '../../engine/analysis/goroutines';
import type { Package } from '../../engine/package';
import type { Rule } from '../../engine/rule';
import type { SourceFile } from '../../engine/source-file';
import { cachedParent } from '../../engine/tree-cache';
import { packageTypes, typeOfExpr, type GoType } from '../../engine/types';

/** testing.T methods that panic once the test has returned ("Log in goroutine after Test... has completed"). */
const LOGS = /\.\s*(Log|Logf|Error|Errorf)\s*\(/g;
const ANY_LOG = /\.\s*(?:Log|Logf|Error|Errorf)\s*\(/;
/** What lets someone wait for a goroutine, or stop it: Done, a send or receive, close, Wait, Unlock, a context. */
const SYNC = /\.\s*(?:Done|Wait|Unlock|RUnlock|Signal|Broadcast)\s*\(|<-|(?<![\w$.])close\s*\(|\bctx\b|[Cc]ontext/;

/**
 * How the call reaches the test: on a `*testing.T`, `*testing.B` or `testing.TB` itself, or on a
 * value of an interface of the package that declares the method (`type TestingT interface {
 * Logf(...) }`, the shape test loggers hold a `*testing.T` as). Undefined otherwise.
 */
function testingTarget(recv: Node, method: string, file: SourceFile, pkg: Package): { text: string; direct: boolean } | undefined {
  const t = typeOfExpr(recv, file, pkg);
  if (!t) return undefined;
  const testing = testingTypeName(t, file);
  if (testing) return { text: `a ${testing}`, direct: true };
  if ((t.kind !== 'named' && t.kind !== 'interface') || !t.name || !file.importOf('testing')) return undefined;
  if (!declaresTestingMethod(t.name, method, pkg)) return undefined;
  return { text: `the ${t.name} interface, which test loggers hold a *testing.T as`, direct: false };
}

/** The package's interface declares `method` with testing.T's parameters: `(format string, args ...any)` or `(args ...any)`. */
function declaresTestingMethod(iface: string, method: string, pkg: Package): boolean {
  const body = packageTypes(pkg).named.get(iface)?.childForFieldName('type');
  if (body?.type !== 'interface_type') return false;
  const el = body.namedChildren.find((c) => c?.type === 'method_elem' && c.childForFieldName('name')?.text === method);
  const params = el?.childForFieldName('parameters')?.text.replace(/\s+/g, ' ') ?? '';
  const variadic = String.raw`(?:[\w$]+ )?\.\.\. ?(?:interface ?\{ ?\}|any)`;
  const want = method.endsWith('f') ? new RegExp(String.raw`^\( ?(?:[\w$]+ )?string, ?${variadic} ?\)$`) : new RegExp(String.raw`^\( ?${variadic} ?\)$`);
  return want.test(params);
}

/** `*testing.T`, `*testing.B` or `testing.TB` as written through the file's import of testing. */
function testingTypeName(t: GoType, file: SourceFile): string | undefined {
  const spec = file.importOf('testing');
  if (!spec) return undefined;
  const prefix = spec.dot ? '' : `${spec.local}.`;
  if (t.kind === 'pointer' && t.elem?.kind === 'named' && (t.elem.text === `${prefix}T` || t.elem.text === `${prefix}B`)) return `*${t.elem.text}`;
  if (t.kind === 'named' && t.text === `${prefix}TB`) return t.text;
  return undefined;
}

/** A goroutine nobody can wait for or stop: its function has no Done, send, receive, close, Wait or context. */
function unwaited(r: Root): boolean {
  return r.kind === 'goroutine' && !!r.site && !SYNC.test(r.unit.file.text.slice(r.unit.start, r.unit.end));
}

export const testingLogAfterTest: Rule = {
  id: 'testing-log-after-test',
  title: 't.Log from a goroutine that outlives the test',
  doc: 'testing.T panics when Log or Error is called after the test has returned ("Log in goroutine after Test has completed"), and the race detector reports the write. A goroutine that nothing waits for can do that. Wait for the goroutine before the test returns, or stop it logging to t.',
  severity: 'warning',
  requires: [FunctionsFact, GoroutinesFact],
  run(pass) {
    const files = pass.files.filter((f) => f.path.endsWith('_test.go') && ANY_LOG.test(f.text));
    if (!files.length) return;
    const fns = pass.get(FunctionsFact);
    const goroutines = pass.get(GoroutinesFact);
    const reported = new Set<Root>();
    for (const file of files) {
      for (const m of file.text.matchAll(LOGS)) {
        const at = m.index! + m[0].indexOf(m[1]);
        const field = file.root.descendantForIndex(at, at + m[1].length);
        const sel = field && cachedParent(field);
        const call = sel && cachedParent(sel);
        if (field?.type !== 'field_identifier' || sel?.type !== 'selector_expression' || call?.type !== 'call_expression') continue;
        if (call.childForFieldName('function')?.id !== sel.id) continue;
        const recv = sel.childForFieldName('operand');
        const unit = fns.enclosing(call);
        if (!recv || !unit) continue;
        const target = testingTarget(recv, m[1], file, pass.pkg);
        if (!target) continue;
        // A *testing.T used directly: only in the goroutine's own function (interface calls on the way
        // may lead to implementations the test never uses); a test logger interface: through calls too.
        const root = firstUnwaited(unit, goroutines.reach(unit), target.direct);
        if (!root || reported.has(root)) continue;
        reported.add(root);
        const site = root.site!;
        const siteFile = root.spawner?.file ?? file;
        const line = siteFile.positionAt(site.startIndex).line + 1;
        pass.report({
          file,
          node: call,
          message: `${file.textOf(recv)}.${m[1]} logs to the test, through ${target.text}, from the goroutine started at line ${line}, which nothing waits for or stops: if it runs after the test has returned, testing panics ("Log in goroutine after Test has completed") and the race detector reports a race; wait for the goroutine before the test returns (sync.WaitGroup, a done channel), or do not log to the test from it`,
          related: [{ path: siteFile.path, start: site.startIndex, end: site.startIndex + 2, message: 'the goroutine, which nothing waits for, is started here' }],
        });
      }
    }
  },
};

/**
 * The first goroutine that runs `u`, started by a `go` statement in a test file, that nobody waits
 * for; with `own`, only one whose own function (or a literal in it) is `u`.
 */
function firstUnwaited(u: FuncUnit, roots: ReadonlySet<Root>, own: boolean): Root | undefined {
  for (const r of roots) {
    if (!unwaited(r) || r.site?.type !== 'go_statement' || !r.spawner?.file.path.endsWith('_test.go')) continue;
    if (own && !(u.file === r.unit.file && r.unit.start <= u.start && u.end <= r.unit.end)) continue;
    return r;
  }
  return undefined;
}
