import { intConstant } from '../../engine/constant';
import { removeCallFix } from '../../engine/edits';
import type { Rule } from '../../engine/rule';

export const gomaxprocsHardcoded: Rule = {
  id: 'gomaxprocs-hardcoded',
  title: 'Hard-coded GOMAXPROCS',
  doc: 'runtime.GOMAXPROCS(N) with a constant pins the service to N threads whatever the machine or container quota. Leave the default; GOMAXPROCS(0) only reads the value.',
  severity: 'warning',
  run(pass) {
    for (const file of pass.files) {
      if (file.isTest) continue; // tests pin GOMAXPROCS to exercise the scheduler deliberately
      for (const { call, qualifier } of file.callsTo('runtime', ['GOMAXPROCS'])) {
        const arg = call.childForFieldName('arguments')?.namedChild(0);
        const value = arg ? intConstant(arg, pass.pkg) : undefined;
        if (value === undefined || value <= 0) continue;
        const label = `${qualifier ? qualifier.text + '.' : ''}GOMAXPROCS(${arg!.text})`;
        pass.report({
          file,
          node: call,
          message: `${label} pins the service to ${value} P${value === 1 ? '' : 's'} regardless of the CPUs it runs on; leave the runtime default`,
          fixes: removeCallFix(file, call, 'runtime', label),
        });
      }
    }
  },
};
