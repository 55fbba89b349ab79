import { SharedStateFact, type Access } from '../../engine/analysis/shared-state';
import { accessNode, alsoRacesWith, assumption, groupConflicts, lockName, related, selfReason, sideContext, type Sided, startsOf } from '../../engine/concurrency/describe';
import { wrapInMutexFixes } from '../../engine/concurrency/wrap-in-mutex';
import type { Rule } from '../../engine/rule';

export const unguardedAccess: Rule = {
  id: 'unguarded-access',
  title: 'Inconsistent locking',
  doc: 'A variable or field is accessed under a mutex in some places and without it in others, and the two can run at the same time with one of them writing. Take the same mutex around the unguarded access.',
  severity: 'warning',
  scope: 'package',
  requires: [SharedStateFact],
  run(pass) {
    const state = pass.get(SharedStateFact);
    for (const v of state.vars) {
      const guards = state.guards(v);
      if (!guards.size) continue;
      const conflicts = state.conflicts(v);
      if (!conflicts.length) continue;
      const guarded = (a: Access) => [...state.sharedLocks(a).keys()].some((id) => guards.has(id));
      // Each conflict names its unguarded side; a guarded write racing an unguarded read is the read's fault.
      const unguarded: Sided[] = [];
      for (const c of conflicts) {
        for (const side of [c.write, c.other]) {
          if (guarded(side) || (v.type?.kind === 'map' && side.write)) continue; // concurrent-map-access reports unguarded map writes
          unguarded.push({ c, side });
        }
      }
      let fixes: ReturnType<typeof wrapInMutexFixes> | undefined;
      for (const { c, side, more, others } of groupConflicts(unguarded)) {
        const opposite = side === c.write ? c.other : c.write;
        const guard = v.accesses.find(guarded)!;
        const lockId = [...state.sharedLocks(guard).keys()].find((id) => guards.has(id))!;
        const lock = lockName(guards.get(lockId)!);
        fixes ??= wrapInMutexFixes(state, v);
        pass.report({
          file: side.file,
          node: accessNode(side),
          message: `${v.name} is ${side.write ? 'written' : 'read'} here ${sideContext(c, side)} without holding ${lock}, which guards it elsewhere; it races with the ${opposite.write ? 'write' : 'read'} ${sideContext(c, opposite)}${selfReason(c)}${assumption(c)}`,
          related: [
            related(guard, `guarded by ${lock} here`),
            ...(opposite !== guard ? [related(opposite, `conflicting ${opposite.write ? 'write' : 'read'} ${sideContext(c, opposite)}`)] : []),
            ...startsOf(c),
            ...more.map((m) => related(m, `also ${m.write ? 'written' : 'read'} here without ${lock}`)),
            ...alsoRacesWith(others),
          ],
          fixes,
        });
      }
    }
  },
};
