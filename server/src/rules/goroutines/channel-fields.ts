// Shared by the channel-field rules: an operation on a channel field, keyed by the field of its
// struct type, and the questions both rules ask about two of them.
import type { Node } from 'web-tree-sitter';
import type { CallGraph } from '../../engine/analysis/callgraph';
import type { FuncUnit } from '../../engine/analysis/functions';
import type { Goroutines, Root } from '../../engine/analysis/goroutines';
import type { LockState } from '../../engine/analysis/lock-state';
import { waitsInText } from '../../engine/goroutines';
import type { SourceFile } from '../../engine/source-file';
import { cachedParent } from '../../engine/tree-cache';

/** One operation on a channel field, keyed by the struct type and field name (`Pool.jobs`). */
export interface ChanOp { key: string; field: string; node: Node; unit: FuncUnit; file: SourceFile }

/** The `Type.field` key of a selector's operand, when its struct type is known. */
export function chanFieldKey(operand: Node, field: string, file: SourceFile, calls: CallGraph): string | undefined {
  const type = calls.typeNameOf(operand, file);
  return type ? `${type}.${field}` : undefined;
}

/** A mutex (by its field of a struct type, or variable) that may be held at both, in the function or by callers. */
export function commonLock(a: ChanOp, b: ChanOp, locks: LockState): boolean {
  const at = (op: ChanOp) => new Set([...locks.mayHeldAt(op.unit, op.node.startIndex).values()].map((h) => h.key.shared?.id).filter((id): id is string => !!id));
  const atA = at(a), atB = at(b);
  const heldBy = (op: ChanOp, mine: Set<string>, id: string) => mine.has(id) || locks.mayBeHeldByCallers(op.unit, id);
  return [...atA].some((id) => heldBy(b, atB, id)) || [...atB].some((id) => heldBy(a, atA, id));
}

/** A goroutine, handler or callback the package starts that may run `u` (exported methods alone do not count). */
export function goroutineRunning(u: FuncUnit, goroutines: Goroutines): Root | undefined {
  return [...goroutines.reach(u)].find((r) => r.kind !== 'api' && r.site);
}

export function lineOf(op: ChanOp): number {
  return op.file.positionAt(op.node.startIndex).line + 1;
}

/** How many callers up racelens looks for a wait before a call. */
const CALLER_DEPTH = 4;

/**
 * Whether the code before `offset` in `u` (all of it, for a deferred close) waits for others
 * (`wg.Wait()`, a receive, a select), or some caller waits before calling `u`: racelens then
 * assumes it waits for the senders (prefer silence).
 */
export function waitsBefore(u: FuncUnit, offset: number, calls: CallGraph, depth: number): boolean {
  const outer = u.outermost;
  const deferred = isDeferredAt(offset, u);
  const text = outer.file.text.slice(outer.start, deferred ? outer.end : offset);
  if (waitsInText(text)) return true;
  if (depth >= CALLER_DEPTH || !outer.name) return false;
  return calls.callersOf(outer).some((e) => e.role !== 'go' && waitsBefore(e.caller, e.call.startIndex, calls, depth + 1));
}

/** `close(...)` inside a `defer` statement (or a deferred literal) of `u`. */
function isDeferredAt(offset: number, u: FuncUnit): boolean {
  for (let n: Node | null = u.file.root.descendantForIndex(offset, offset + 1); n; n = cachedParent(n)) {
    if (n.type === 'defer_statement') return true;
    if (n.type === 'function_declaration' || n.type === 'method_declaration') return false;
  }
  return false;
}
