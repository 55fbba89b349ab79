import { SharedStateFact, type Access, type Conflict, type SharedState, type Thread } from '../../engine/analysis/shared-state';
import { accessNode, alsoRacesWith, groupConflicts, related, selfConflict, sideContext, startsOf } from '../../engine/concurrency/describe';
import type { Root } from '../../engine/analysis/goroutines';
import type { Rule } from '../../engine/rule';

const started = (t: Thread): t is Root => t !== 'main' && t.kind !== 'api';

/**
 * Proof enough that two accesses overlap: two different goroutines (handlers, callbacks) run them,
 * nothing the analysis models orders them, and the two share no channel, WaitGroup, context or
 * atomic by which they could order each other unseen.
 */
function provenConcurrent(state: SharedState, c: Conflict): boolean {
  const { a, b, afterSpawn } = c.overlap;
  if (afterSpawn || a === b || !started(a) || !started(b) || selfConflict(c)) return false;
  if (c.write.v.kind === 'local' && !inGoroutineOfDeclarer(c.write, a) && !inGoroutineOfDeclarer(c.other, b)) return false;
  return !state.hb.mayCommunicate(a, b);
}

/** A captured local is one variable only for goroutines its own function starts: one run of it. */
function inGoroutineOfDeclarer(x: Access, r: Root): boolean {
  const decl = x.v.decl;
  return !!decl && r.unit.isLiteral && r.unit.outermost === x.unit?.outermost
    && r.unit.start <= x.expr.startIndex && x.expr.endIndex <= r.unit.end && !(r.unit.start <= decl.startIndex && decl.endIndex <= r.unit.end);
}

function isCounterUpdate(x: Access): boolean {
  const t = x.expr.parent?.type;
  return t === 'inc_statement' || t === 'dec_statement';
}

export const dataRace: Rule = {
  id: 'data-race',
  title: 'Data race on a variable no lock guards',
  doc: 'A variable or field is written in one goroutine while another goroutine reads or writes it, nothing orders the two, and no lock guards it anywhere.',
  severity: 'warning',
  scope: 'package',
  requires: [SharedStateFact],
  run(pass) {
    const state = pass.get(SharedStateFact);
    for (const v of state.vars) {
      if (state.guards(v).size) continue; // locked somewhere: unguarded-access
      const conflicts = state.conflicts(v, false).filter((c) => !(v.type?.kind === 'map' && c.write.element) && !isCounterUpdate(c.write) && provenConcurrent(state, c));
      for (const { c, more, others } of groupConflicts(conflicts.map((c) => ({ c, side: c.write })))) {
        const { write, other } = c;
        pass.report({
          file: write.file,
          node: accessNode(write),
          message: `${v.name} is written ${sideContext(c, write)} while it is ${other.write ? 'written' : 'read'} ${sideContext(c, other)}, with no lock or other ordering`,
          related: [related(other, `conflicting ${other.write ? 'write' : 'read'} ${sideContext(c, other)}`), ...startsOf(c), ...more.map((m) => related(m, 'also written here')), ...alsoRacesWith(others)],
        });
      }
    }
  },
};
