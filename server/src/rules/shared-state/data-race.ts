import { SharedStateFact } from '../../engine/analysis/shared-state';
import { accessNode, alsoRacesWith, groupConflicts, related, selfReason, sideContext, startsOf } from '../../engine/concurrency/describe';
import type { Rule } from '../../engine/rule';

export const dataRace: Rule = {
  id: 'data-race',
  title: 'Data race on a variable no lock guards',
  doc: 'A variable or field is written in one goroutine while another goroutine reads or writes it, nothing orders the two, and no lock guards it anywhere.',
  severity: 'warning',
  scope: 'package',
  requires: [SharedStateFact],
  run(pass) {
    const state = pass.get(SharedStateFact);
    for (const v of state.vars) {
      if (state.guards(v).size) continue;
      const conflicts = state.conflicts(v, false);
      for (const { c, more, others } of groupConflicts(conflicts.map((c) => ({ c, side: c.write })))) {
        const { write, other } = c;
        pass.report({
          file: write.file,
          node: accessNode(write),
          message: `${v.name} is written ${sideContext(c, write)} while it is ${other.write ? 'written' : 'read'} ${sideContext(c, other)}, with no lock or other ordering${selfReason(c)}`,
          related: [related(other, `conflicting ${other.write ? 'write' : 'read'} ${sideContext(c, other)}`), ...startsOf(c), ...more.map((m) => related(m, 'also written here')), ...alsoRacesWith(others)],
        });
      }
    }
  },
};
