import { accessNode, contextOf, lockName } from '../engine/concurrency/describe';
import { isReadLocked, sharedState, type Access, type SharedStateModel } from '../engine/concurrency/model';
import type { Fix, Rule } from '../engine/rule';

/** "Use Lock/Unlock": the function's RLock/RUnlock of that mutex become Lock/Unlock. */
function upgradeFix(model: SharedStateModel, a: Access, key: string): Fix[] {
  let fn = a.unit!;
  while (fn.parent) fn = fn.parent;
  const calls = model.locks.lockCalls(fn).filter((c) => c.key === key);
  if (!calls.some((c) => c.method === 'RLock') || calls.some((c) => c.method === 'Lock' || c.method === 'Unlock')) return [];
  // Anything called under the write lock that takes the same mutex would now deadlock.
  if (model.units.callsOf(fn).some((c) => model.locks.takes(c.callee, key))) return [];
  const edits = calls.map(({ call }) => {
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
  run(pass) {
    const model = sharedState(pass.pkg);
    for (const v of model.vars) {
      const reported = new Set<number>();
      for (const a of model.accesses.get(v.key) ?? []) {
        if (!a.write || !a.unit || !isReadLocked(a.locks)) continue;
        const node = accessNode(a);
        if (reported.has(node.id)) continue;
        reported.add(node.id);
        const key = [...a.locks.keys()][0];
        pass.report({
          file: a.file,
          node,
          message: `${v.name} is written ${a.ctx.kind === 'seq' ? 'here' : contextOf(a)} while only ${lockName(key)}.RLock is held: other readers hold it at the same time, so this write races with them`,
          fixes: upgradeFix(model, a, key),
        });
      }
    }
  },
};
