import type { Node } from 'web-tree-sitter';
import { CallGraphFact, type CallGraph } from '../../engine/analysis/callgraph';
import { FunctionsFact, type FuncUnit } from '../../engine/analysis/functions';
import { GoroutinesFact, type Goroutines, type Root } from '../../engine/analysis/goroutines';
import { HappensBeforeFact, type HappensBefore } from '../../engine/analysis/happens-before';
import { LockStateFact } from '../../engine/analysis/lock-state';
import type { Rule } from '../../engine/rule';
import { cachedParent } from '../../engine/tree-cache';
import { packageTypes } from '../../engine/types';
import { chanFieldKey, commonLock, lineOf, waitsBefore, type ChanOp } from './channel-fields';

/** How far up the callers racelens looks for the spawner of a goroutine. */
const CALLER_DEPTH = 3;

type Use = ChanOp & { what: string };

/** `x.f = v`: the selector is an assignment target. */
function isAssigned(sel: Node): boolean {
  const list = cachedParent(sel);
  const stmt = list && cachedParent(list);
  return list?.type === 'expression_list' && stmt?.type === 'assignment_statement' && stmt.childForFieldName('left')?.id === list.id;
}

/** What a channel operation on the selector does: 'receives from', 'sends on', 'closes', 'ranges over'; else undefined. */
function operationOn(sel: Node): string | undefined {
  const p = cachedParent(sel);
  if (p?.type === 'unary_expression' && p.childForFieldName('operator')?.text === '<-') return 'receives from';
  if (p?.type === 'send_statement' && p.childForFieldName('channel')?.id === sel.id) return 'sends on';
  if (p?.type === 'range_clause' && p.childForFieldName('right')?.id === sel.id) return 'ranges over';
  const call = p?.type === 'argument_list' ? cachedParent(p) : null;
  const fn = call?.childForFieldName('function');
  if (fn?.type === 'identifier' && fn.text === 'close') return 'closes';
  return undefined;
}

export const channelFieldRace: Rule = {
  id: 'channel-field-race',
  title: 'Channel field replaced while a goroutine uses it',
  doc: 'Assigning a channel field (a new channel, or nil after close) while another goroutine sends on, receives from or closes it is a data race: the goroutine may use the old channel, the new one or nil, and block forever or miss the signal. Make the channel once before starting the goroutines and never replace it, or guard the field with the mutex both sides hold.',
  severity: 'warning',
  requires: [FunctionsFact, CallGraphFact, LockStateFact, GoroutinesFact, HappensBeforeFact],
  run(pass) {
    const types = packageTypes(pass.pkg);
    const chanFields = new Set<string>();
    for (const [struct, fields] of types.structs) {
      for (const [name, f] of fields) if (f.type.kind === 'chan') chanFields.add(`${struct}.${name}`);
    }
    if (!chanFields.size) return;
    const names = new Set([...chanFields].map((k) => k.slice(k.indexOf('.') + 1)));
    const fns = pass.get(FunctionsFact);
    const calls = pass.get(CallGraphFact);
    const writes: ChanOp[] = [];
    const uses = new Map<string, Use[]>();
    const selector = new RegExp(`\\.\\s*(${[...names].map((n) => n.replace(/\$/g, '\\$')).join('|')})(?![\\w$])`, 'g');
    for (const file of pass.pkg.files) {
      for (const m of file.text.matchAll(selector)) {
        const at = m.index! + m[0].indexOf(m[1]);
        const fieldNode = file.root.descendantForIndex(at, at + m[1].length);
        const sel = fieldNode && cachedParent(fieldNode);
        const operand = sel?.childForFieldName('operand');
        if (fieldNode?.type !== 'field_identifier' || sel?.type !== 'selector_expression' || !operand) continue;
        const unit = fns.enclosing(sel);
        const key = unit && chanFieldKey(operand, m[1], file, calls);
        if (!unit || !key || !chanFields.has(key)) continue;
        const op = { key, field: m[1], node: sel, unit, file };
        if (isAssigned(sel)) { writes.push(op); continue; }
        const what = operationOn(sel);
        if (!what) continue;
        const list = uses.get(key);
        if (list) list.push({ ...op, what }); else uses.set(key, [{ ...op, what }]);
      }
    }
    if (!writes.length || !uses.size) return;
    const goroutines = pass.get(GoroutinesFact);
    const hb = pass.get(HappensBeforeFact);
    const locks = pass.get(LockStateFact);
    for (const w of writes) {
      if (!pass.files.includes(w.file)) continue;
      for (const u of uses.get(w.key) ?? []) {
        const g = overlapping(w, u, goroutines, hb, calls);
        if (!g || commonLock(w, u, locks)) continue;
        const site = g.root.site!;
        const siteFile = g.root.spawner?.file ?? w.file;
        const siteLine = siteFile.positionAt(site.startIndex).line + 1;
        const field = w.file.textOf(w.node);
        const where = g.side === 'use'
          ? `while the goroutine started at line ${siteLine} ${u.what} it (line ${lineOf(u)})`
          : `on the goroutine started at line ${siteLine}, while ${u.unit.outermost.label} ${u.what} it after starting that goroutine (line ${lineOf(u)})`;
        pass.report({
          file: w.file,
          node: cachedParent(cachedParent(w.node)!) ?? w.node,
          message: `${field} is replaced here ${where}, with no lock held at both and nothing ordering the two: the other side may use the old channel, the new one or nil; make the channel before starting the goroutine and never replace it, or guard ${w.key} with one mutex`,
          related: [
            { path: u.file.path, start: u.node.startIndex, end: u.node.endIndex, message: `${u.unit.outermost.label} ${u.what} ${w.key} here` },
            { path: siteFile.path, start: site.startIndex, end: site.startIndex + 2, message: `the goroutine is started here` },
          ],
        });
        break;
      }
    }
  },
};

/**
 * The goroutine that makes the write and the use overlap, and which side it runs:
 * - the use runs on goroutine g and the write is in code that is not g's spawner before the `go`
 *   (happens-before says concurrent, or the write is in another entry point that does not wait first);
 * - the write runs on g and the use is in g's spawner after the `go`, not joined.
 */
function overlapping(w: ChanOp, u: ChanOp, goroutines: Goroutines, hb: HappensBefore, calls: CallGraph): { root: Root; side: 'use' | 'write' } | undefined {
  const runsW = new Set([...goroutines.reach(w.unit)].filter((r) => r.kind !== 'api'));
  for (const g of goroutines.reach(u.unit)) {
    // A goroutine started in a loop may work on another instance than the one written: racelens cannot tell.
    if (g.kind === 'api' || !g.site || !g.spawner || g.self || runsW.has(g)) continue;
    const order = hb.orderAgainst(w.unit, w.node.startIndex, g);
    if (order === 'concurrent') return { root: g, side: 'use' };
    if (order !== 'unknown' || calledFrom(w.unit, g.spawner, calls, 0) || waitsBefore(w.unit, w.node.startIndex, calls, 0)) continue;
    // Teardown in another entry point: an exported method that closes the channel, or clears it, while g may still use it.
    const outer = w.unit.outermost;
    if (outer.name && /^[A-Z]/.test(outer.name) && outer.recvType && !goroutines.spawnedIn(outer).length && tearsDown(w)) return { root: g, side: 'use' };
  }
  for (const g of runsW) {
    if (!g.site || !g.spawner || g.self || goroutines.reach(u.unit).has(g)) continue;
    if (hb.orderAgainst(u.unit, u.node.startIndex, g) === 'concurrent') return { root: g, side: 'write' };
  }
  return undefined;
}

/** `x.f = nil`, or an assignment after `close(x.f)` in the same function: the channel is being torn down. */
function tearsDown(w: ChanOp): boolean {
  const stmt = cachedParent(cachedParent(w.node)!);
  const value = stmt?.childForFieldName('right')?.namedChild(0);
  if (value?.type === 'nil') return true;
  const before = w.file.text.slice(w.unit.start, w.node.startIndex);
  return new RegExp(`(?<![\\w$.])close\\s*\\(\\s*[\\w$.]*\\.${w.field.replace(/\$/g, '\\$')}\\s*\\)`).test(before);
}

/** `u` is `spawner` or called (synchronously, a few levels up) from it: it runs in the spawner's thread. */
function calledFrom(u: FuncUnit, spawner: FuncUnit, calls: CallGraph, depth: number): boolean {
  if (u === spawner || u.outermost === spawner.outermost) return true;
  if (depth >= CALLER_DEPTH || !u.name) return false;
  return calls.callersOf(u).some((e) => e.role !== 'go' && calledFrom(e.caller, spawner, calls, depth + 1));
}

