// double-lock: a mutex locked again while the same instance is already held on the path, directly
// or by calling a package function that locks it. The goroutine then waits for itself forever.
import type { Node } from 'web-tree-sitter';
import { lockName } from '../engine/concurrency/describe';
import { LockAnalysis, mutexText, type HeldLock } from '../engine/concurrency/locks';
import { Units, type FuncUnit } from '../engine/concurrency/units';
import type { Package } from '../engine/package';
import type { Rule } from '../engine/rule';
import { findLocalDeclaration } from '../engine/scope';
import { packageTypes, typeOfExpr } from '../engine/types';
import { lineOf, lockModel, relatedAt, spawnedOrDeferred, unitName, where, writeLockedKeys } from '../engine/concurrency/lock-model';
import { cachedType } from '../engine/tree-cache';

/** The root identifier of a plain selector chain (`a`, `a.b.mu`); undefined for calls, indexes, derefs. */
function chainRoot(x: Node): Node | undefined {
  let n: Node | null = x;
  while (n?.type === 'selector_expression') n = n.childForFieldName('operand');
  return n?.type === 'identifier' ? n : undefined;
}

function isPackageVar(id: Node, pkg: Package): boolean {
  return !findLocalDeclaration(id, id.text) && !!pkg.decls.get(id.text)?.some((d) => cachedType(d) === 'var_spec');
}

/**
 * Whether `x.Lock()` is a sync mutex: a Mutex or RWMutex, a pointer to one, or a struct of the
 * package embedding one. An interface (sync.Locker, an RLocker) or another type with a Lock method
 * may be anything, reentrant included. Unknown types count: their expression text still matches.
 */
function isSyncMutex(x: Node, unit: FuncUnit, pkg: Package): boolean {
  const t = typeOfExpr(x, unit.file, pkg);
  if (!t) return true;
  const base = t.kind === 'pointer' ? t.elem : t;
  if (!base) return false;
  if (base.kind === 'mutex' || base.kind === 'rwmutex') return true;
  const fields = base.name ? packageTypes(pkg).structs.get(base.name) : undefined;
  return !!fields && [...fields.values()].some((f) => f.embedded && (f.type.kind === 'mutex' || f.type.kind === 'rwmutex'));
}

function escapeRe(s: string): string { return s.replace(/[$]/g, '\\$'); }

/** The variable at the root of the mutex expression may name another object by `at`: assigned, redeclared or its address taken. */
function rebound(h: HeldLock, at: Node, unit: FuncUnit): boolean {
  const root = chainRoot(h.mutex);
  if (!root) return true;
  const n = escapeRe(root.text);
  const between = unit.file.text.slice(h.call.endIndex, at.startIndex);
  return new RegExp(`(?<![\\w$.])${n}\\s*(?:,[^=;\\n]*)?(?::=|=(?!=))|,\\s*${n}\\s*(?::=|=(?!=))|&${n}(?![\\w$])`).test(between);
}

/** A lock a function takes on an object its caller can name: its receiver's `.mu`, or a package-level mutex. */
interface Take { ref: string; method: string; call: Node; unit: FuncUnit }

/**
 * `r:<path>` for the receiver's mutex (`r.mu` → `r:.mu`, an embedded `r` → `r:`), `g:<text>` for a
 * package-level one; undefined for locals, parameters and anything not a plain selector chain.
 */
function refOf(mutex: Node, unit: FuncUnit, pkg: Package): string | undefined {
  const root = chainRoot(mutex);
  if (!root) return undefined;
  const text = mutexText(mutex);
  if (isPackageVar(root, pkg)) return `g:${text}`;
  if (unit.recvName && root.text === unit.recvName && findLocalDeclaration(root, root.text)?.id === unit.node.id) {
    return `r:${text.slice(root.text.length)}`;
  }
  return undefined;
}

class Takes {
  private readonly memo = new Map<string, Take[]>();
  constructor(private readonly pkg: Package, private readonly units: Units, private readonly locks: LockAnalysis) {}

  /**
   * Locks `unit` takes on its receiver or package-level mutexes, itself or through calls on its
   * receiver and plain function calls (a few levels). A mutex whose first operation in the function
   * is an Unlock is one the function expects its caller to hold (unlock, work, relock): not a take.
   */
  of(unit: FuncUnit, depth = 0, seen = new Set<string>()): Take[] {
    const cached = depth === 0 ? this.memo.get(unit.id) : undefined;
    if (cached) return cached;
    if (depth > 3 || seen.has(unit.id) || !unit.body || unit.node.type === 'func_literal') return [];
    seen.add(unit.id);
    const first = new Map<string, string>();
    const mine: Take[] = [];
    for (const op of this.locks.ownLockOps(unit)) {
      const ref = refOf(op.mutex, unit, this.pkg);
      if (!ref) continue;
      if (!first.has(ref)) first.set(ref, op.method);
      if ((op.method === 'Lock' || op.method === 'RLock') && !op.deferred) mine.push({ ref, method: op.method, call: op.call, unit });
    }
    const out = mine.filter((t) => first.get(t.ref) === 'Lock' || first.get(t.ref) === 'RLock');
    for (const c of this.units.callsOf(unit)) {
      if (this.units.enclosing(c.call)?.id !== unit.id || spawnedOrDeferred(c.call)) continue;
      const plain = c.call.childForFieldName('function')?.type === 'identifier';
      if (!plain && !c.onReceiver) continue;
      for (const t of this.of(c.callee, depth + 1, seen)) {
        if (first.has(t.ref) || (t.ref.startsWith('r:') && !c.onReceiver)) continue;
        if (!out.some((o) => o.ref === t.ref)) out.push(t);
      }
    }
    if (depth === 0) this.memo.set(unit.id, out);
    return out;
  }
}

export const doubleLock: Rule = {
  id: 'double-lock',
  title: 'Mutex locked while already held',
  doc: 'A mutex is locked again, directly or by a called function, while the same goroutine already holds it. Go mutexes are not reentrant: the goroutine waits for itself forever (a recursive RLock too, once a writer is waiting). Unlock first, or call a variant that expects the lock held.',
  severity: 'error',
  scope: 'package',
  run(pass) {
    const pkg = pass.pkg;
    const model = lockModel(pkg);
    if (!model) return;
    const { units, locks } = model;
    const writeLocked = writeLockedKeys(model);
    const takes = new Takes(pkg, units, locks);
    /** Whether taking `method` blocks while the same goroutine holds the mutex in `held` mode. */
    const blocks = (held: 'r' | 'w', method: string, key: string, u: FuncUnit) => held === 'w' || method === 'Lock' || writeLocked(key, u);
    const why = (held: 'r' | 'w', method: string, key: string) => held === 'r' && method === 'RLock'
      ? `a second RLock by the same goroutine blocks as soon as a writer waits (${lockName(key)} is write-locked elsewhere), and the writer waits for the first RLock: deadlock`
      : 'Go mutexes are not reentrant, so the goroutine waits for itself forever';

    for (const u of units.all) {
      const ops = locks.ownLockOps(u);
      if (!ops.some((o) => (o.method === 'Lock' || o.method === 'RLock') && o.statement)) continue;
      const reported = new Set<number>();

      // Direct: the same mutex expression locked again.
      for (const op of ops) {
        if (!op.statement || (op.method !== 'Lock' && op.method !== 'RLock')) continue;
        const h = locks.heldLocksAt(op.call, u).find((x) => x.text === op.text);
        if (!h || !blocks(h.mode, op.method, op.key, u) || rebound(h, op.call, u) || !isSyncMutex(op.mutex, u, pkg)) continue;
        reported.add(op.call.id);
        pass.report({
          file: u.file,
          node: op.call,
          message: `${op.text}.${op.method}() while ${op.text} is already ${h.mode === 'w' ? 'locked' : 'read-locked'} (line ${lineOf(h.call, u)}): ${why(h.mode, op.method, op.key)}`,
          related: [relatedAt(h.call, u, `${op.text} ${h.mode === 'w' ? 'locked' : 'read-locked'} here`)],
        });
      }

      // Through a call: the callee locks the same receiver's mutex, or the same package-level one.
      for (const c of units.callsOf(u)) {
        if (reported.has(c.call.id) || units.enclosing(c.call)?.id !== u.id || spawnedOrDeferred(c.call)) continue;
        if (c.callee.node.type === 'func_literal') continue;
        const list = takes.of(c.callee);
        if (!list.length) continue;
        const held = locks.heldLocksAt(c.call, u);
        if (!held.length) continue;
        const fn = c.call.childForFieldName('function');
        const operand = fn?.type === 'selector_expression' ? fn.childForFieldName('operand') : null;
        const recv = operand && chainRoot(operand) && c.callee.recvName ? mutexText(operand) : undefined;
        for (const h of held) {
          const root = chainRoot(h.mutex);
          if (!root) continue;
          const refs: string[] = [];
          if (isPackageVar(root, pkg)) refs.push(`g:${h.text}`);
          if (recv && (h.text === recv || h.text.startsWith(`${recv}.`))) refs.push(`r:${h.text.slice(recv.length)}`);
          const t = list.find((x) => refs.includes(x.ref) && blocks(h.mode, x.method, h.key, u));
          if (!t || rebound(h, c.call, u) || !isSyncMutex(h.mutex, u, pkg)) continue;
          reported.add(c.call.id);
          const callText = mutexText(fn!);
          pass.report({
            file: u.file,
            node: c.call,
            message: `${callText}() ${t.method === 'Lock' ? 'locks' : 'read-locks'} ${h.text} (in ${unitName(t.unit)} at ${where(t.call, t.unit)}) while it is already ${h.mode === 'w' ? 'locked' : 'read-locked'} here (line ${lineOf(h.call, u)}): ${why(h.mode, t.method, h.key)}`,
            related: [
              relatedAt(h.call, u, `${h.text} ${h.mode === 'w' ? 'locked' : 'read-locked'} here`),
              relatedAt(t.call, t.unit, `${unitName(t.unit)} locks it again here`),
            ],
          });
          break;
        }
      }
    }
  },
};
