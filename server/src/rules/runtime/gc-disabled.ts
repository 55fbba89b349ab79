import { intConstant } from '../../engine/constant';
import type { Rule } from '../../engine/rule';

export const gcDisabled: Rule = {
  id: 'gc-disabled',
  title: 'Garbage collector switched off',
  doc: 'debug.SetGCPercent with a negative value turns the collector off: without a memory limit the heap grows until the process is OOM-killed. Cap memory with debug.SetMemoryLimit instead.',
  severity: 'error',
  run(pass) {
    // GOGC=off with a memory limit is a configuration the Go GC guide documents: stay silent.
    if (pass.pkg.files.some((f) => f.callsTo('runtime/debug', ['SetMemoryLimit']).length > 0)) return;
    for (const file of pass.files) {
      if (file.isTest) continue; // tests pause GC to make measurements deterministic
      for (const { call, qualifier } of file.callsTo('runtime/debug', ['SetGCPercent'])) {
        const arg = call.childForFieldName('arguments')?.namedChild(0);
        const value = arg ? intConstant(arg, pass.pkg) : undefined;
        if (value === undefined || value >= 0) continue;
        pass.report({
          file,
          node: call,
          message: `${qualifier ? qualifier.text + '.' : ''}SetGCPercent(${arg!.text}) disables the garbage collector: the heap grows without bound; use debug.SetMemoryLimit to cap memory instead`,
        });
      }
    }
  },
};
