import { SharedStateFact } from '../../engine/analysis/shared-state';
import { accessNode, alsoRacesWith, assumption, groupConflicts, related, selfConflict, selfReason, sideContext, startsOf } from '../../engine/concurrency/describe';
import { syncMapFixes } from '../../engine/concurrency/sync-map';
import { wrapInMutexFixes } from '../../engine/concurrency/wrap-in-mutex';
import type { Fix, Rule } from '../../engine/rule';

export const concurrentMapAccess: Rule = {
  id: 'concurrent-map-access',
  title: 'Map written concurrently without a lock',
  doc: 'A map reachable from several goroutines or HTTP handlers is written with no lock held in common. The runtime aborts the whole process with "fatal error: concurrent map writes", which recover cannot catch. Guard every access with one mutex, or use sync.Map.',
  severity: 'error',
  scope: 'package',
  requires: [SharedStateFact],
  run(pass) {
    const state = pass.get(SharedStateFact);
    for (const v of state.vars) {
      if (v.type?.kind !== 'map') continue;
      const all = state.conflicts(v);
      if (!all.length) continue;
      const guards = state.guards(v);
      // Without a lock anywhere, exported methods alone are no evidence of concurrency.
      // A guarded write racing an unguarded access is the unguarded side's fault: unguarded-access.
      const writes = (guards.size > 0 ? all : state.conflicts(v, false))
        // Replacing the whole map (`m = fetch()`) is a race on the variable, not inside the map: the runtime does not abort.
        .filter((c) => c.write.element && ![...state.sharedLocks(c.write).keys()].some((id) => guards.has(id)))
        .map((c) => ({ c, side: c.write }));
      let fixes: Fix[] | undefined;
      for (const { c, more, others } of groupConflicts(writes)) {
        const { write, other } = c;
        const crash = other.write ? 'concurrent map writes' : 'concurrent map read and map write';
        const w = sideContext(c, write), o = sideContext(c, other);
        fixes ??= [...wrapInMutexFixes(state, v), ...syncMapFixes(state, v)];
        pass.report({
          file: write.file,
          node: accessNode(write),
          message: (selfConflict(c)
            ? `${v.name} is written ${w}, which runs concurrently with itself, with no lock held: the runtime aborts with "fatal error: ${crash}"`
            : w === o
              ? `${v.name} is written ${w} while another run of it ${other.write ? 'writes' : 'reads'} the map, with no lock held in common: the runtime aborts with "fatal error: ${crash}"`
              : `${v.name} is written ${w} while it is ${other.write ? 'written' : 'read'} ${o}, with no lock held in common: the runtime aborts with "fatal error: ${crash}"`) + selfReason(c) + assumption(c),
          related: [
            related(other, selfConflict(c) ? 'another run of this code writes the map at the same time' : `conflicting ${other.write ? 'write' : 'read'} ${o}`),
            ...startsOf(c),
            ...more.map((m) => related(m, 'also written here with no lock')),
            ...alsoRacesWith(others),
          ],
          fixes,
        });
      }
    }
  },
};
