import type { Node } from 'web-tree-sitter';
import { isHandlerSignature } from '../../engine/analysis/functions';
import { versionAtLeast } from '../../engine/concurrency/rewrite-accesses';
import { removeImportIfUnused } from '../../engine/edits';
import type { Fix, Rule } from '../../engine/rule';
import { findLocalDeclaration } from '../../engine/scope';
import type { SourceFile } from '../../engine/source-file';

const FUNCTIONS = new Set(['function_declaration', 'method_declaration', 'func_literal']);

/** The name of the `*http.Request` parameter of a handler; undefined when unnamed or `_`. */
function requestParam(fn: Node, file: SourceFile): string | undefined {
  const http = file.importOf('net/http');
  if (!http) return undefined;
  const want = `*${http.dot ? '' : `${http.local}.`}Request`;
  for (const p of fn.childForFieldName('parameters')?.namedChildren ?? []) {
    if (p?.type !== 'parameter_declaration') continue;
    if (p.childForFieldName('type')?.text.replace(/\s+/g, '') !== want) continue;
    const names = p.childrenForFieldName('name');
    const name = names[names.length - 1]?.text;
    return name && name !== '_' ? name : undefined;
  }
  return undefined;
}

/**
 * A nested literal runs on behalf of the request when the handler calls it: invoked in place, deferred,
 * or kept in a local variable. Passed to another function (a queue, `time.AfterFunc`, `once.Do`, a
 * retry helper), it may run later or beyond the request: racelens cannot tell, so it stays silent.
 */
function runsInHandler(lit: Node): boolean {
  const p = lit.parent;
  if (!p) return false;
  if (p.type === 'call_expression') return p.childForFieldName('function')?.id === lit.id && p.parent?.type !== 'defer_statement';
  if (p.type === 'parenthesized_expression') return runsInHandler(p);
  if (p.type === 'expression_list') {
    const owner = p.parent;
    return (owner?.type === 'short_var_declaration' || owner?.type === 'assignment_statement') && owner.childForFieldName('right')?.id === p.id;
  }
  return false;
}

/** The handler the call runs in on behalf of a request; null when none, or when it runs detached. */
function enclosingHandler(call: Node, file: SourceFile): Node | null {
  for (let n = call.parent; n; n = n.parent) {
    // A goroutine may outlive the request on purpose; deferred cleanup must run even when the
    // request was cancelled (the client went away), which is exactly when r.Context() is done.
    if (n.type === 'go_statement' || n.type === 'defer_statement') return null;
    if (!FUNCTIONS.has(n.type)) continue;
    if (isHandlerSignature(n, file)) return n;
    if (n.type !== 'func_literal' || !runsInHandler(n)) return null;
  }
  return null;
}

/** Words of a comment that explains a deliberate detachment from the request. */
const DELIBERATE = /cancel|detach|outlive|independen|even if|regardless|background/i;

/**
 * True when the `//` comment lines right above the statement holding the call say why the request's
 * context is not used: "we do not want the client's cancel to abort this".
 */
function explained(call: Node, file: SourceFile): boolean {
  let stmt: Node = call;
  while (stmt.parent && stmt.parent.type !== 'statement_list' && stmt.parent.type !== 'block' && stmt.parent.type !== 'source_file') stmt = stmt.parent;
  for (let line = file.positionAt(stmt.startIndex).line - 1; line >= 0; line--) {
    const start = file.lines.lineStart(line);
    const end = file.lines.lineStart(line + 1);
    const text = file.text.slice(start, end === start ? file.text.length : end).trim();
    if (!text.startsWith('//')) break;
    if (DELIBERATE.test(text)) return true;
  }
  return false;
}

/** Calls that hand work to something that outlives the call: singleflight, errgroup, queues. */
const DETACHING_CALL = /(?:^|\.)(?:Do|DoChan|Go|Enqueue|Submit|Schedule|Fill)$/;

/**
 * The work after the call may outlive the request: a goroutine, a singleflight or queue hand-off,
 * or a result stored in the handler's receiver (a cache fill other requests read). Then the
 * request's context would let one client's disconnect cancel work shared beyond it.
 */
function feedsSharedWork(call: Node, handler: Node): boolean {
  const body = handler.childForFieldName('body');
  if (!body) return false;
  const receiver = handler.childForFieldName('receiver')?.namedChildren.find((p) => p?.type === 'parameter_declaration')?.childForFieldName('name')?.text;
  const after = (n: Node | null) => !!n && n.startIndex >= call.endIndex;
  if (body.descendantsOfType('go_statement').some(after)) return true;
  if (body.descendantsOfType('call_expression').some((c) => after(c) && DETACHING_CALL.test(c!.childForFieldName('function')?.text ?? ''))) return true;
  return !!receiver && body.descendantsOfType('assignment_statement').some((a) => after(a)
    && (a!.childForFieldName('left')?.namedChildren ?? []).some((l) => l?.type === 'selector_expression' && l.childForFieldName('operand')?.text === receiver));
}

export const contextBackgroundInHandler: Rule = {
  id: 'context-background-in-handler',
  title: 'context.Background() in an HTTP handler',
  doc: 'context.Background() or context.TODO() inside an HTTP handler drops the request\'s cancellation and deadline: work goes on after the client has gone. Use the request\'s context, r.Context().',
  severity: 'warning',
  run(pass) {
    for (const file of pass.files) {
      // Handlers written in tests are fakes serving the test's own requests.
      if (file.isTest || !file.contains('ResponseWriter')) continue;
      for (const { call, name, qualifier } of file.callsTo('context', ['Background', 'TODO'])) {
        if ((call.childForFieldName('arguments')?.namedChildCount ?? 0) !== 0) continue;
        const handler = enclosingHandler(call, file);
        if (!handler || explained(call, file)) continue;
        const label = `${qualifier ? qualifier.text + '.' : ''}${name}()`;
        const req = requestParam(handler, file);
        let fixes: Fix[] = [];
        // The fix names the request parameter: it must be the handler's, not a shadowing local.
        const visible = !!req && findLocalDeclaration(call, req)?.id === handler.id;
        if (req && visible) {
          const edit = { start: call.startIndex, end: call.endIndex, newText: `${req}.Context()` };
          const imp = removeImportIfUnused(file, 'context', [edit]);
          if (imp.ok) {
            // Where the work outlives the request, the swap changes behaviour: offered, never preferred.
            const shared = feedsSharedWork(call, handler);
            fixes = [{
              title: shared ? `Use ${req}.Context() (changes behaviour: a client that disconnects would cancel work that outlives its request)` : `Use ${req}.Context()`,
              edits: [edit, ...(imp.edit ? [imp.edit] : [])].map((e) => ({ ...e, path: file.path })),
              isPreferred: !shared,
            }];
          }
          // Detached on purpose: keep the request's values, drop only its cancellation (Go 1.21+).
          if (feedsSharedWork(call, handler) && versionAtLeast(pass.pkg.goVersion, '1.21') && qualifier) {
            fixes.push({
              title: `Use ${qualifier.text}.WithoutCancel(${req}.Context()) (keeps the request's values; the work still outlives the request)`,
              edits: [{ ...edit, newText: `${qualifier.text}.WithoutCancel(${req}.Context())`, path: file.path }],
            });
          }
        }
        const use = req && visible ? `${req}.Context()` : req ? `the request's Context() (${req} is shadowed here)` : 'the request\'s Context()';
        pass.report({
          file,
          node: call,
          message: `${label} in an HTTP handler drops the request's cancellation and deadline: work continues after the client has gone; use ${use}`,
          fixes,
        });
      }
    }
  },
};
