// missing-unlock: a function that locks a mutex returns with it still held on some paths while it
// unlocks it on others: the next Lock deadlocks. Found on the CFG with the lock state at each exit.
import type { Node } from 'web-tree-sitter';
import type { FlowNode } from '../../engine/analysis/cfg';
import { isAcquire, lockCallOf, type LockKey } from '../../engine/analysis/lock-keys';
import { LockStateFact } from '../../engine/analysis/lock-state';
import { deleteStatement } from '../../engine/edits';
import { codeText, eolOf, inLoopWithin, lineEnd, lineIndent, standsAlone } from '../../engine/goroutines';
import { enclosingFunction, FUNCTION_TYPES } from '../../engine/syntax';
import { query } from '../../engine/parser';
import type { Fix, Rule } from '../../engine/rule';
import type { SourceFile } from '../../engine/source-file';
import { lineOf } from './helpers';

const DEFERS = '(defer_statement) @defer';
const CALLS = '(call_expression) @call';

const norm = (s: string) => s.replace(/\s+/g, '');

function isLockOf(stmt: Node, mutex: string, methods: readonly string[]): boolean {
  const call = stmt.type === 'expression_statement' ? stmt.namedChild(0) : null;
  const lc = call && lockCallOf(call);
  return !!lc && stmt.type === 'expression_statement' && methods.includes(lc.method) && norm(lc.mutex.text) === mutex;
}

/** Nothing in `ret` runs code: no calls, no receives. */
function plainReturn(ret: Node, file: SourceFile): boolean {
  return ret.type === 'return_statement' && !file.textOf(ret).includes('<-') && query(CALLS).captures(ret).length === 0;
}

/**
 * After `u` runs, control reaches the end of the function with no other code: `u` is last in its
 * block or followed only by a plain return, and so is every statement it is nested in.
 */
function endsFunction(u: Node, body: Node, file: SourceFile): boolean {
  let cur = u;
  for (let p = u.parent; p; cur = p, p = p.parent) {
    if (p.type === 'statement_list') {
      const stmts = p.namedChildren.filter((s): s is Node => !!s && s.type !== 'comment');
      const i = stmts.findIndex((s) => s.id === cur.id);
      const after = stmts.slice(i + 1);
      if (after.length > 1 || (after.length === 1 && !plainReturn(after[0], file))) return false;
      if (after.length === 1) return true;
      continue;
    }
    if (p.id === body.id) return true;
    if (p.type === 'for_statement' || FUNCTION_TYPES.has(p.type)) return false;
  }
  return false;
}

/**
 * "Use defer": `defer mu.Unlock()` after the Lock, and the manual unlocks it replaces deleted.
 * Only when the Lock is the function's only one for that mutex, outside loops, every Unlock of it
 * follows the Lock in the same block and ends the function, and no defer is registered after it.
 */
function deferFix(file: SourceFile, fn: Node, lock: Node, mutexText: string, unlockName: string): Fix | undefined {
  const body = fn.childForFieldName('body')!;
  const list = lock.parent!;
  if (inLoopWithin(lock, fn) || !standsAlone(file, lock, true)) return undefined;
  const mutex = norm(mutexText);
  const esc = mutex.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/\\\./g, '\\s*\\.\\s*');
  const text = codeText(file, body);
  const locks = [...text.matchAll(new RegExp(`(?<![\\w$.])${esc}\\s*\\.\\s*R?Lock\\s*\\(`, 'g'))];
  if (locks.length !== 1) return undefined;
  const unlocks: Node[] = [];
  for (const m of text.matchAll(new RegExp(`(?<![\\w$.])${esc}\\s*\\.\\s*(R?Unlock)\\b`, 'g'))) {
    if (m[1] !== unlockName) return undefined;
    const at = body.startIndex + m.index! + m[0].length - m[1].length;
    const stmt = file.root.descendantForIndex(at, at + m[1].length)?.parent?.parent?.parent;
    if (!stmt || !isLockOf(stmt, mutex, [unlockName]) || enclosingFunction(stmt)?.id !== fn.id) return undefined;
    if (stmt.startIndex < lock.endIndex || stmt.endIndex > list.endIndex) return undefined;
    if (!endsFunction(stmt, body, file)) return undefined;
    unlocks.push(stmt);
  }
  if (!unlocks.length) return undefined;
  // Defers registered after the Lock would now run before the unlock, under the lock.
  if (query(DEFERS).captures(body).some((c) => c.node.startIndex > lock.endIndex && enclosingFunction(c.node)?.id === fn.id)) return undefined;
  // A block left empty by the deletions would not be gofmt-clean in every layout: keep it simple.
  for (const u of unlocks) {
    const siblings = u.parent!.namedChildren.filter((s) => s && s.type !== 'comment');
    if (siblings.length === 1 && u.parent!.parent?.id !== body.id) return undefined;
  }
  const at = lineEnd(file, lock.endIndex);
  const edits = [
    { path: file.path, start: at, end: at, newText: `${eolOf(file)}${lineIndent(file, lock.startIndex)}defer ${mutexText}.${unlockName}()` },
    ...unlocks.map((u) => ({ path: file.path, ...deleteStatement(file, u) })),
  ];
  return { title: `Use defer ${mutexText}.${unlockName}() right after the lock`, edits, isPreferred: true };
}

export const missingUnlock: Rule = {
  id: 'missing-unlock',
  title: 'Return with the mutex still locked',
  doc: 'A return between mu.Lock() and mu.Unlock() leaves the function with the mutex held, and the next Lock deadlocks. Unlock before returning, or defer mu.Unlock() right after Lock.',
  severity: 'warning',
  scope: 'package',
  requires: [LockStateFact],
  run(pass) {
    const locks = pass.get(LockStateFact);
    const reportedOn = new Set(pass.files); // its findings lie in the unit's own file
    for (const u of locks.lockingUnits()) {
      if (!reportedOn.has(u.file)) continue;
      const top = u.outermost;
      // Lock helpers (lock(), tryLock(), lockAndGet()) return holding the lock by design.
      if (/lock/i.test(top.name ?? '') || u.isLiteral && !u.parent) continue;
      const file = u.file;
      // `unlock := mu.Unlock` and friends: the unlock can hide behind another name.
      const text = codeText(file, u.node);
      if (/\.\s*R?Unlock(?!\s*\()/.test(text)) continue;
      // Every unlock deferred: it runs on every return.
      const unlocks = text.match(/\.\s*R?Unlock\s*\(/g)?.length ?? 0;
      const deferred = text.match(/\bdefer\s+[\w.]*\.\s*R?Unlock\s*\(/g)?.length ?? 0;
      if (unlocks === deferred) continue;
      const { cfg, before } = locks.states(u);
      // The locks this function takes itself, with their first Lock and Unlock calls.
      const taken = new Map<string, { key: LockKey; lock: Node; method: string; unlocks: Node[] }>();
      locks.walk(u, (op, _n, before) => {
        const lc = op.kind === 'call' && !op.role ? lockCallOf(op.syntax) : undefined;
        const key = lc && locks.keyOfLockCall(op.syntax, u);
        if (!lc || !key || key.inexact) return;
        const t = taken.get(key.id);
        // Taking back the caller's lock (unlock, work, relock) returns it held as it came: by design.
        if (isAcquire(lc.method)) { if (!t && !before.released.has(key.id)) taken.set(key.id, { key, lock: op.syntax, method: lc.method, unlocks: [] }); }
        else t?.unlocks.push(op.syntax);
      });
      if (!taken.size) continue;
      // The exits: each return, and falling off the end of the body.
      const exits: FlowNode[] = cfg.nodes[cfg.exit].pred.map((id) => cfg.nodes[id]).filter((n) => before[n.id] && !locks.deadEdge(u, n, cfg.nodes[cfg.exit]));
      const heldAt = (n: FlowNode, id: string) => {
        const s = locks.after(u, n);
        const h = s?.must.get(id);
        return !!h && !h.relock && !s!.deferred.has(id);
      };
      const releasedAt = (n: FlowNode, id: string) => {
        const s = locks.after(u, n);
        return !!s && !s.may.has(id) || !!s?.deferred.has(id);
      };
      for (const t of taken.values()) {
        if (!t.unlocks.length || !exits.some((n) => releasedAt(n, t.key.id))) continue;
        const unlockName = t.method === 'Lock' ? 'Unlock' : 'RUnlock';
        const mainUnlock = t.unlocks.find((x) => x.startIndex > t.lock.startIndex) ?? t.unlocks[0];
        const lockStmt = t.lock.parent;
        let fix: Fix | undefined | null = null;
        for (const n of exits) {
          if (!heldAt(n, t.key.id)) continue;
          const node = n.kind === 'return' ? n.syntax! : lastBrace(u.node);
          if (!node) continue;
          if (fix === null) {
            fix = lockStmt?.type === 'expression_statement' && lockStmt.parent?.type === 'statement_list' && !u.isLiteral
              ? deferFix(file, top.node, lockStmt, t.key.text, unlockName) : undefined;
          }
          pass.report({
            file,
            node,
            message: `${n.kind === 'return' ? 'returns' : 'falls off the end of the function'} with ${t.key.text} still locked: the ${t.key.text}.${t.method}() at line ${lineOf(t.lock, u)} has no deferred ${unlockName}, and this path skips the ${t.key.text}.${unlockName}() at line ${lineOf(mainUnlock, u)}; the next ${t.method === 'Lock' ? 'Lock' : 'writer'} deadlocks`,
            related: [
              { path: file.path, start: t.lock.startIndex, end: t.lock.endIndex, message: 'locked here' },
              { path: file.path, start: mainUnlock.startIndex, end: mainUnlock.endIndex, message: 'unlocked here on other paths' },
            ],
            fixes: fix ? [fix] : [],
          });
        }
      }
    }
  },
};

/** The closing brace of a function's body. */
function lastBrace(fn: Node): Node | undefined {
  const body = fn.childForFieldName('body');
  const close = body?.child(body.childCount - 1);
  return close?.type === '}' ? close : undefined;
}
