import { SharedStateFact, type Access, type Conflict, type SharedState, type SharedVar, type Thread } from '../../engine/analysis/shared-state';
import { accessNode, alsoRacesWith, groupConflicts, related, selfConflict, sideContext, startsOf } from '../../engine/concurrency/describe';
import type { Root } from '../../engine/analysis/goroutines';
import type { Rule } from '../../engine/rule';
import { isSwapRace } from './shared-var-swap';

const started = (t: Thread): t is Root => t !== 'main' && t.kind !== 'api';

/**
 * Proof enough that two accesses overlap: two different goroutines (or handlers, callbacks) run
 * them, nothing the analysis models orders them, and the two share no channel, WaitGroup, context,
 * Cond or atomic by which they could order each other unseen. A goroutine racing with another run
 * of itself, or with the code that started it, is left out: that is where real code most often
 * orders things racelens cannot see.
 */
function provenConcurrent(state: SharedState, c: Conflict): boolean {
  const { a, b, afterSpawn } = c.overlap;
  if (afterSpawn || a === b || !started(a) || !started(b) || selfConflict(c)) return false;
  if (c.write.v.kind === 'local' && !inGoroutineOfDeclarer(c.write, a) && !inGoroutineOfDeclarer(c.other, b)) return false;
  return !state.hb.mayCommunicate(a, b);
}

/**
 * A captured local is one variable only within one run of the function declaring it: some side
 * must run in a goroutine literal that function starts (not in two goroutines that each call it).
 */
function inGoroutineOfDeclarer(x: Access, r: Root): boolean {
  const decl = x.v.decl, lit = r.unit;
  const inside = (s: number, e: number) => lit.start <= s && e <= lit.end;
  return !!decl && lit.isLiteral && lit.outermost === x.unit?.outermost && inside(x.expr.startIndex, x.expr.endIndex) && !inside(decl.startIndex, decl.endIndex);
}

/** A cheap test before pairing accesses: some goroutine writes v and a different one touches it. */
function twoGoroutinesTouch(state: SharedState, v: SharedVar): boolean {
  const writers = new Set<Root>();
  for (const a of v.accesses) if (a.write) for (const t of state.threadsOf(a)) if (started(t)) writers.add(t);
  if (!writers.size) return false;
  for (const a of v.accesses) for (const t of state.threadsOf(a)) if (started(t) && (writers.size > 1 || !writers.has(t))) return true;
  return false;
}

/** `n++`: non-atomic-counter's. */
function isIncrement(x: Access): boolean {
  const t = x.expr.parent?.type;
  return t === 'inc_statement' || t === 'dec_statement';
}

export const dataRace: Rule = {
  id: 'data-race',
  title: 'Data race between two goroutines',
  doc: 'A variable or field is written in one goroutine while another goroutine reads or writes it, no lock guards it anywhere, and nothing orders the two. Guard it with a mutex, make it atomic, or hand the value over through a channel.',
  severity: 'warning',
  scope: 'package',
  requires: [SharedStateFact],
  run(pass) {
    const state = pass.get(SharedStateFact);
    for (const v of state.vars) {
      if (!twoGoroutinesTouch(state, v) || state.guards(v).size) continue; // locked somewhere: unguarded-access
      const conflicts = state.conflicts(v, false).filter((c) => !(v.type?.kind === 'map' && c.write.element) && !isIncrement(c.write)
        && provenConcurrent(state, c) && !isSwapRace(c));
      for (const { c, more, others } of groupConflicts(conflicts.map((c) => ({ c, side: c.write })))) {
        const { write, other } = c;
        const w = sideContext(c, write), o = sideContext(c, other);
        pass.report({
          file: write.file,
          node: accessNode(write),
          message: `${v.name} is written ${w} while it is ${other.write ? 'written' : 'read'} ${o}; no lock guards ${v.name} anywhere, and the two goroutines share no channel, WaitGroup or atomic that could order them`,
          related: [
            related(other, `conflicting ${other.write ? 'write' : 'read'} ${o}`),
            ...startsOf(c),
            ...more.map((m) => related(m, 'also written here')),
            ...alsoRacesWith(others),
          ],
        });
      }
    }
  },
};
