import { accessNode, contextOf, lockName, related } from '../engine/concurrency/describe';
import { sharedState } from '../engine/concurrency/model';
import type { Rule } from '../engine/rule';
import { wrapInMutexFixes } from '../engine/concurrency/wrap-in-mutex';

export const unguardedAccess: Rule = {
  id: 'unguarded-access',
  title: 'Inconsistent locking',
  doc: 'A variable or field is accessed under a mutex in some places and without it in others, and the two can run at the same time with one of them writing. Take the same mutex around the unguarded access.',
  severity: 'warning',
  scope: 'package',
  run(pass) {
    const model = sharedState(pass.pkg);
    for (const v of model.vars) {
      const guards = model.guards(v);
      if (!guards.size) continue;
      const accesses = model.accesses.get(v.key) ?? [];
      const reported = new Set<number>();
      for (const { write, other } of model.conflicts(v)) {
        for (const [side, opposite] of [[write, other], [other, write]] as const) {
          if ([...side.locks.keys()].some((k) => guards.has(k))) continue;
          if (v.type?.kind === 'map' && side.write) continue; // concurrent-map-access reports unguarded map writes
          const node = accessNode(side);
          if (reported.has(node.id)) continue;
          reported.add(node.id);
          const guarded = accesses.find((a) => [...a.locks.keys()].some((k) => guards.has(k)))!;
          const lock = lockName([...guarded.locks.keys()].find((k) => guards.has(k))!);
          pass.report({
            file: side.file,
            node,
            message: `${v.name} is ${side.write ? 'written' : 'read'} here ${contextOf(side)} without holding ${lock}, which guards it elsewhere; it races with the ${opposite.write ? 'write' : 'read'} ${contextOf(opposite)}`,
            related: [related(guarded, `guarded by ${lock} here`), ...(opposite !== guarded ? [related(opposite, `conflicting ${opposite.write ? 'write' : 'read'}`)] : [])],
            fixes: wrapInMutexFixes(model, v),
          });
        }
      }
    }
  },
};
