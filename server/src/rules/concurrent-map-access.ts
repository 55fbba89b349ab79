import { accessNode, contextOf, related, selfConflict } from '../engine/concurrency/describe';
import { sharedState } from '../engine/concurrency/model';
import type { Rule } from '../engine/rule';
import { syncMapFixes } from '../engine/concurrency/sync-map';
import { wrapInMutexFixes } from '../engine/concurrency/wrap-in-mutex';

export const concurrentMapAccess: Rule = {
  id: 'concurrent-map-access',
  title: 'Map written concurrently without a lock',
  doc: 'A map reachable from several goroutines or HTTP handlers is written with no lock held in common. The runtime aborts the whole process with "fatal error: concurrent map writes", which recover cannot catch. Guard every access with one mutex, or use sync.Map.',
  severity: 'error',
  scope: 'package',
  run(pass) {
    const model = sharedState(pass.pkg);
    for (const v of model.vars) {
      if (v.type?.kind !== 'map') continue;
      const guards = model.guards(v);
      const reported = new Set<number>();
      for (const { write, other } of model.conflicts(v, guards.size > 0)) {
        // A guarded write racing an unguarded access is the unguarded side's fault: unguarded-access.
        if ([...write.locks.keys()].some((k) => guards.has(k))) continue;
        const node = accessNode(write);
        if (reported.has(node.id)) continue;
        reported.add(node.id);
        const self = selfConflict(write, other);
        const crash = other.write ? 'concurrent map writes' : 'concurrent map read and map write';
        pass.report({
          file: write.file,
          node,
          message: self
            ? `${v.name} is written ${contextOf(write)}, which runs concurrently with itself, with no lock held: the runtime aborts with "fatal error: ${crash}"`
            : contextOf(write) === contextOf(other)
              ? `${v.name} is written ${contextOf(write)} while another run of it ${other.write ? 'writes' : 'reads'} the map, with no lock held in common: the runtime aborts with "fatal error: ${crash}"`
              : `${v.name} is written ${contextOf(write)} while it is ${other.write ? 'written' : 'read'} ${contextOf(other)}, with no lock held in common: the runtime aborts with "fatal error: ${crash}"`,
          related: [related(other, self ? 'another run of this code writes the map at the same time' : `conflicting ${other.write ? 'write' : 'read'} ${contextOf(other)}`)],
          fixes: [...wrapInMutexFixes(model, v), ...syncMapFixes(model, v)],
        });
      }
    }
  },
};
