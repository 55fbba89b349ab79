// Every rule racelens ships, in documentation order. A rule is one file named after its id.
import type { Rule } from '../engine/rule';
import { gcDisabled } from './gc-disabled';
import { gomaxprocsHardcoded } from './gomaxprocs-hardcoded';
import { manualGc } from './manual-gc';
import { unsafePointerCast } from './unsafe-pointer-cast';

export const allRules: readonly Rule[] = [manualGc, gcDisabled, gomaxprocsHardcoded, unsafePointerCast];

export function ruleById(id: string): Rule | undefined {
  return allRules.find((r) => r.id === id);
}

export const DOCS_BASE = 'https://github.com/racelens/racelens/blob/main/docs/rules/';

/** The rule's documentation page (docs/rules/<id>.md). */
export function docsUrl(ruleId: string): string {
  return `${DOCS_BASE}${ruleId}.md`;
}
