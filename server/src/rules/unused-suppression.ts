import type { Rule } from '../engine/rule';
import { UNUSED_SUPPRESSION } from '../engine/suppress';

/**
 * Stale `//racelens:ignore` comments. The engine reports them after all other rules ran
 * (engine/analyze.ts), since only then is it known which suppressions silenced something.
 */
export const unusedSuppression: Rule = {
  id: UNUSED_SUPPRESSION,
  title: 'Suppression that matches nothing',
  doc: 'A //racelens:ignore or //racelens:file-ignore comment that silences no finding: the code changed or the rule id is wrong. Remove it so that it cannot hide a future finding.',
  severity: 'info',
  scope: 'package',
  run() {
    // Reported by analyze() itself.
  },
};
