import { removeCallFix } from '../../engine/edits';
import type { Node } from 'web-tree-sitter';
import type { Rule } from '../../engine/rule';

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
          const label = `${qualifier ? qualifier.text + '.' : ''}${t.name}()`;
          pass.report({
            file,
            node: call,
            message: `${label} forces a stop-the-world collection; in a request path it stalls every goroutine under load`,
            fixes: removeCallFix(file, call, t.path, label),
          });
        }
      }
    }
  },
};

