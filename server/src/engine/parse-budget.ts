// Bounding a reparse: web-tree-sitter calls a progress callback every hundred or so parser steps
// and gives up (parse() returns null) when it answers true. The editor bounds the reparse of each
// keystroke so that heavy error recovery cannot block it; the CLI parses without a bound.

/** When a parse should give up. */
export interface ParseBudget { exhausted(): boolean }

/** A budget of `ms` milliseconds of wall time from now. */
export function timeBudget(ms: number): ParseBudget {
  const end = performance.now() + ms;
  return { exhausted: () => performance.now() >= end };
}

/** The budget of one keystroke's reparse in the editor; a reparse that needs longer finishes when typing pauses. */
export const KEYSTROKE_PARSE_MS = 12;
