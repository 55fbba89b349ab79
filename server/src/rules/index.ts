// Every rule racelens ships, in documentation order. A rule is one file named after its id.
import type { Rule } from '../engine/rule';
import { appendWithoutPrealloc } from './append-without-prealloc';
import { concurrentMapAccess } from './concurrent-map-access';
import { gcDisabled } from './gc-disabled';
import { gomaxprocsHardcoded } from './gomaxprocs-hardcoded';
import { manualGc } from './manual-gc';
import { nonAtomicCounter } from './non-atomic-counter';
import { mapInsertDuringRange } from './map-insert-during-range';
import { nilInnerMap } from './nil-inner-map';
import { rangeAppendLostUpdate } from './range-append-lost-update';
import { sharedVarSwap } from './shared-var-swap';
import { syncmapCheckThenAct } from './syncmap-check-then-act';
import { unguardedAccess } from './unguarded-access';
import { unsafePointerCast } from './unsafe-pointer-cast';
import { unusedSuppression } from './unused-suppression';
import { writeUnderRlock } from './write-under-rlock';
import { waitgroupAddInGoroutine } from './waitgroup-add-in-goroutine';
import { contextBackgroundInHandler } from './context-background-in-handler';
import { recoverMissesGoroutine } from './recover-misses-goroutine';
import { testingFatalInGoroutine } from './testing-fatal-in-goroutine';
import { loopVarCapture } from './loop-var-capture';
import { goroutineLeakSend } from './goroutine-leak-send';
import { unstoppableGoroutine } from './unstoppable-goroutine';
import { rangeUnclosedChannel } from './range-unclosed-channel';
import { missingUnlock } from './missing-unlock';
import { doubleLock } from './double-lock';
import { lockOrderInversion } from './lock-order-inversion';
import { blockingUnderLock } from './blocking-under-lock';

export const allRules: readonly Rule[] = [
  // Maps and shared state
  concurrentMapAccess, unguardedAccess, writeUnderRlock, sharedVarSwap, nonAtomicCounter,
  rangeAppendLostUpdate, mapInsertDuringRange, nilInnerMap, syncmapCheckThenAct,
  // Goroutine lifecycle
  waitgroupAddInGoroutine, contextBackgroundInHandler, recoverMissesGoroutine, testingFatalInGoroutine, loopVarCapture,
  goroutineLeakSend, unstoppableGoroutine, rangeUnclosedChannel, missingUnlock,
  doubleLock, lockOrderInversion, blockingUnderLock,
  // Runtime misuse
  manualGc, gcDisabled, gomaxprocsHardcoded, unsafePointerCast, appendWithoutPrealloc,
  // Suppressions
  unusedSuppression,
];

export function ruleById(id: string): Rule | undefined {
  return allRules.find((r) => r.id === id);
}

export const DOCS_BASE = 'https://github.com/racelens/racelens/blob/main/docs/rules/';

/** The rule's documentation page (docs/rules/<id>.md). */
export function docsUrl(ruleId: string): string {
  return `${DOCS_BASE}${ruleId}.md`;
}
