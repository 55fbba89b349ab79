import type { Node } from 'web-tree-sitter';
import { lockCall } from '../engine/concurrency/locks';
import { deleteStatement } from '../engine/edits';
import { codeText, enclosingFunction, eolOf, FUNCTION_TYPES, inLoopWithin, lineEnd, lineIndent, standsAlone } from '../engine/goroutines';
import type { Package } from '../engine/package';
import { query } from '../engine/parser';
import type { Fix, Rule } from '../engine/rule';
import type { SourceFile } from '../engine/source-file';

const LOCK_TEXT = /\.\s*(R?Lock)\s*\(\s*\)/g;
const RETURNS = '(return_statement) @ret';
const DEFERS = '(defer_statement) @defer';
const CALLS = '(call_expression) @call';
const CALL_NAME = /([A-Za-z_$][\w$]*)\s*\(/g;

const norm = (s: string) => s.replace(/\s+/g, '');

/** Names of package functions and methods that release a lock they did not take: calling one may unlock. */
const unlockersCache = new WeakMap<Package, Set<string>>();
function unlockers(pkg: Package): Set<string> {
  let out = unlockersCache.get(pkg);
  if (out) return out;
  out = new Set();
  for (const file of pkg.files) {
    for (const m of file.text.matchAll(/^func\s*(?:\([^)]*\)\s*)?([A-Za-z_$][\w$]*)/gm)) {
      const decl = file.root.descendantForIndex(m.index!, m.index! + 4)?.parent;
      if (!decl || (decl.type !== 'function_declaration' && decl.type !== 'method_declaration')) continue;
      // More unlocks than locks, deferred ones aside: the function releases a lock its caller took.
      const text = codeText(file, decl);
      const unlocks = [...text.matchAll(/\.\s*R?Unlock\s*\(/g)].length - [...text.matchAll(/\bdefer\s+[^\n]*\.\s*R?Unlock\s*\(/g)].length;
      const locks = [...text.matchAll(/\.\s*R?Lock\s*\(/g)].length;
      if (unlocks > locks) out.add(m[1]);
    }
  }
  unlockersCache.set(pkg, out);
  return out;
}

/** The statement may release the lock: an unlock of any spelling, or a call of a function that unlocks. */
function mayUnlock(stmt: Node, file: SourceFile, pkg: Package): boolean {
  const text = codeText(file, stmt);
  if (/unlock/i.test(text)) return true;
  const names = unlockers(pkg);
  for (const m of text.matchAll(CALL_NAME)) if (names.has(m[1])) return true;
  return false;
}

function isLockOf(stmt: Node, mutex: string, methods: readonly string[]): boolean {
  const lc = lockCall(stmt);
  return !!lc && stmt.type === 'expression_statement' && methods.includes(lc.method) && norm(lc.mutex.text) === mutex;
}

function siblingsBefore(list: Node, child: Node): Node[] {
  const out: Node[] = [];
  for (const s of list.namedChildren) {
    if (!s || s.startIndex >= child.startIndex) break;
    if (s.type !== 'comment') out.push(s);
  }
  return out;
}

function lockedHelper(fn: Node): boolean {
  for (let n: Node | null = fn; n; n = n.parent) {
    if (n.type === 'function_declaration' || n.type === 'method_declaration') {
      if (/lock/i.test(n.childForFieldName('name')?.text ?? '')) return true;
    }
  }
  return false;
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
  run(pass) {
    for (const file of pass.files) {
      const seen = new Set<string>();
      for (const m of file.text.matchAll(LOCK_TEXT)) {
        const at = m.index! + m[0].indexOf(m[1]);
        const stmt = file.root.descendantForIndex(at, at + m[1].length)?.parent?.parent?.parent;
        const lc = stmt && lockCall(stmt);
        if (!stmt || !lc || stmt.type !== 'expression_statement' || stmt.parent?.type !== 'statement_list') continue;
        const fn = enclosingFunction(stmt);
        const body = fn?.childForFieldName('body');
        if (!fn || !body || lockedHelper(fn)) continue;
        const mutexText = file.textOf(lc.mutex);
        const mutex = norm(mutexText);
        const unlockName = lc.method === 'Lock' ? 'Unlock' : 'RUnlock';
        // A deferred unlock (of any spelling) anywhere in the function releases it on every return.
        const defers = query(DEFERS).captures(body).filter((c) => enclosingFunction(c.node)?.id === fn.id);
        if (defers.some((c) => /unlock/i.test(codeText(file, c.node)))) continue;
        // `unlock := mu.Unlock` and friends: the unlock can hide behind another name.
        const bodyText = codeText(file, body);
        if (/\.\s*R?Unlock(?!\s*\()/.test(bodyText)) continue;
        const list = stmt.parent;
        const stmts = list.namedChildren.filter((s): s is Node => !!s && s.type !== 'comment');
        const i = stmts.findIndex((s) => s.id === stmt.id);
        // The main path unlocks later in the same block.
        let j = i + 1;
        for (; j < stmts.length; j++) {
          if (isLockOf(stmts[j], mutex, [unlockName])) break;
          if (isLockOf(stmts[j], mutex, ['Lock', 'RLock'])) { j = stmts.length; break; }
        }
        if (j >= stmts.length) continue;
        const unlock = stmts[j];
        const between = stmts.slice(i + 1, j);
        for (const ret of query(RETURNS).captures(list).map((c) => c.node)) {
          if (ret.startIndex < stmt.endIndex || ret.endIndex > unlock.startIndex || enclosingFunction(ret)?.id !== fn.id) continue;
          const key = `${ret.startIndex}:${mutex}`;
          if (seen.has(key)) continue;
          // The path from the Lock to this return: every statement that runs before it.
          let top: Node | null = ret;
          while (top && top.parent?.id !== list.id) top = top.parent;
          if (!top || top.id === ret.id) continue; // a top-level return: the Unlock below is dead code
          const path: Node[] = [ret, ...between.filter((s) => s.startIndex < top!.startIndex)];
          for (let n: Node = ret; n.id !== top.id; n = n.parent!) {
            const p = n.parent!;
            if (p.type === 'statement_list') path.push(...siblingsBefore(p, n));
          }
          if (path.some((s) => mayUnlock(s, file, pass.pkg) || /\bR?Lock\s*\(/.test(codeText(file, s)))) continue;
          seen.add(key);
          const lockLine = file.positionAt(stmt.startIndex).line + 1;
          const unlockLine = file.positionAt(unlock.startIndex).line + 1;
          const fix = deferFix(file, fn, stmt, mutexText, unlockName);
          pass.report({
            file,
            node: ret,
            message: `returns with ${mutexText} still locked: the ${mutexText}.${lc.method}() at line ${lockLine} has no deferred ${unlockName}, and this path skips the ${mutexText}.${unlockName}() at line ${unlockLine}; the next ${lc.method === 'Lock' ? 'Lock' : 'writer'} deadlocks`,
            related: [
              { path: file.path, start: stmt.startIndex, end: stmt.endIndex, message: 'locked here' },
              { path: file.path, start: unlock.startIndex, end: unlock.endIndex, message: 'unlocked here on the main path only' },
            ],
            fixes: fix ? [fix] : [],
          });
        }
      }
    }
  },
};
