import { LockStateFact, type Held } from '../../engine/analysis/lock-state';
import { onlyReadLocked, SharedStateFact, type Access, type SharedState } from '../../engine/analysis/shared-state';
import { accessNode, contextOf, lockName } from '../../engine/concurrency/describe';
import { lockCallOf } from '../../engine/analysis/lock-keys';
import type { Fix, Rule } from '../../engine/rule';

/** "Use Lock/Unlock": the function's RLock/RUnlock of that mutex become Lock/Unlock. */
function upgradeFix(state: SharedState, a: Access, held: Held): Fix[] {
  const fn = a.unit!.outermost;
  if (held.unit.outermost !== fn) return []; // taken by a caller: not this function's to change
  const calls = fn.node.descendantsOfType('call_expression').filter((c): c is NonNullable<typeof c> => !!c && !!lockCallOf(c))
    .filter((c) => state.locks.keyOfLockCall(c, state.fns.enclosing(c) ?? fn)?.id === held.key.id);
  const methods = calls.map((c) => lockCallOf(c)!.method);
  if (!methods.includes('RLock') || methods.includes('Lock') || methods.includes('Unlock')) return [];
  // Anything called under the write lock that takes the same mutex would now deadlock.
  if ([...state.locks.acquires(fn).values()].some((x) => x.via.length && x.key.shared?.id === held.key.shared?.id)) return [];
  const edits = calls.map((call) => {
    const field = call.childForFieldName('function')!.childForFieldName('field')!;
    return { path: a.file.path, start: field.startIndex, end: field.endIndex, newText: field.text.slice(1) };
  });
  const name = fn.name ? (fn.recvType ? `${fn.recvType}.${fn.name}` : fn.name) : 'this function';
  return [{ title: `Use Lock/Unlock instead of RLock/RUnlock in ${name}`, edits, isPreferred: true, safe: true }];
}

export const writeUnderRlock: Rule = {
  id: 'write-under-rlock',
  title: 'Write while holding only a read lock',
  doc: 'A map, field or slice is written while only RLock is held. Many readers hold RLock at once, so the write races with them (a map write aborts the process). Take the write lock: Lock/Unlock.',
  severity: 'error',
  scope: 'package',
  requires: [SharedStateFact, LockStateFact],
  run(pass) {
    const state = pass.get(SharedStateFact);
    for (const v of state.vars) {
      const reported = new Set<number>();
      let racing: Set<Access> | undefined;
      for (const a of v.accesses) {
        // Read locks are taken in the writing function (or, rarely, by a caller racelens does not follow here).
        if (!a.write || !a.unit || !a.file.text.slice(a.unit.outermost.start, a.unit.outermost.end).includes('RLock()')) continue;
        const held = state.heldAt(a);
        if (!onlyReadLocked(held)) continue;
        // A captured local is one goroutine's business unless another may touch it at the same time.
        if (v.kind === 'local' && !(racing ??= new Set(state.conflicts(v).map((c) => c.write))).has(a)) continue;
        const node = accessNode(a);
        if (reported.has(node.id)) continue;
        reported.add(node.id);
        const lock = [...held.locks.values()][0];
        const threads = state.threadsOf(a);
        const where = threads.some((t) => t !== 'main') ? ` ${contextOf(a, threads.find((t) => t !== 'main')!)}` : ' here';
        pass.report({
          file: a.file,
          node,
          message: `${v.name} is written${where} while only ${lock.key.shared ? lockName(lock.key.shared) : lock.key.text}.RLock is held: other readers hold it at the same time, so this write races with them`,
          related: [{ path: lock.unit.file.path, start: lock.site.startIndex, end: lock.site.endIndex, message: `${lock.key.text} read-locked here` }],
          fixes: upgradeFix(state, a, lock),
        });
      }
    }
  },
};
