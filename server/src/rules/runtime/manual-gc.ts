import type { Node } from 'web-tree-sitter';
import { isHandlerSignature } from '../../engine/analysis/functions';
import { removeCallFix } from '../../engine/edits';
import type { Fix, Rule } from '../../engine/rule';
import type { SourceFile } from '../../engine/source-file';

const TARGETS = [
  { path: 'runtime', name: 'GC' },
  { path: 'runtime/debug', name: 'FreeOSMemory' },
];

/**
 * Start-up or shutdown work: directly in init(), or in main() of package main, and not inside a
 * loop or closure (a GC in a loop in main is periodic, which is the hazard again).
 */
function isStartup(call: Node, packageName: string): boolean {
  for (let n = call.parent; n; n = n.parent) {
    if (n.type === 'func_literal' || n.type === 'for_statement') return false;
    if (n.type === 'function_declaration') {
      const name = n.childForFieldName('name')?.text;
      return name === 'init' || (name === 'main' && packageName === 'main');
    }
  }
  return false;
}

/** A heap profile written right after the collection: `pprof.WriteHeapProfile`, `pprof.Lookup("heap"|"allocs")`. */
const HEAP_PROFILE = /\bWriteHeapProfile\s*\(|\bLookup\s*\(\s*"(?:heap|allocs)"/;

/** The next few statements after the call's statement write a heap profile: the GC makes it current. */
function beforeHeapProfile(call: Node, file: SourceFile): boolean {
  let stmt: Node | null = call;
  while (stmt && stmt.parent?.type !== 'statement_list' && stmt.parent?.type !== 'block') stmt = stmt.parent;
  let next = stmt?.nextNamedSibling ?? null;
  for (let i = 0; next && i < 3; next = next.nextNamedSibling, i++) if (HEAP_PROFILE.test(file.textOf(next))) return true;
  return false;
}

/** The call is in an HTTP handler (by signature), or in a literal inside one: a request path. */
function inHandler(call: Node, file: SourceFile): boolean {
  for (let n = call.parent; n; n = n.parent) {
    if ((n.type === 'function_declaration' || n.type === 'method_declaration' || n.type === 'func_literal') && isHandlerSignature(n, file)) return true;
  }
  return false;
}

export const manualGc: Rule = {
  id: 'manual-gc',
  title: 'Forced garbage collection',
  doc: 'runtime.GC() and debug.FreeOSMemory() outside start-up stop the world and run a full collection; in a request path they stall every goroutine under load. Let the pacer work (tune GOGC or debug.SetMemoryLimit instead).',
  severity: 'warning',
  run(pass) {
    for (const file of pass.files) {
      if (file.isTest) continue; // tests force GC to observe finalizers and memory: a test idiom
      for (const t of TARGETS) {
        for (const { call, qualifier } of file.callsTo(t.path, [t.name])) {
          if (isStartup(call, pass.pkg.name)) continue;
          // A collection right before a heap profile makes the profile current: outside a request
          // path that is the profiling idiom (the testing package does it), not a hazard.
          const profiling = beforeHeapProfile(call, file);
          if (profiling && !inHandler(call, file)) continue;
          const label = `${qualifier ? qualifier.text + '.' : ''}${t.name}()`;
          // Removing it would leave garbage in the profile: offered, never preferred, and it says so.
          const fixes: Fix[] = removeCallFix(file, call, t.path, label).map((f) => (profiling
            ? { ...f, title: `${f.title} (the heap profile below will then include garbage not yet collected)`, isPreferred: false, safe: false }
            : f));
          pass.report({
            file,
            node: call,
            message: profiling
              ? `${label} forces a stop-the-world collection in a request path, to make the heap profile below current; every request to this handler stalls every goroutine`
              : `${label} forces a stop-the-world collection; in a request path it stalls every goroutine under load`,
            fixes,
          });
        }
      }
    }
  },
};

