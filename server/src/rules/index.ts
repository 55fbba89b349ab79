// Every rule racelens ships, in documentation order. A rule is one file named after its id.
import type { Rule } from '../engine/rule';
import { appendWithoutPrealloc } from './runtime/append-without-prealloc';
import { concurrentMapAccess } from './shared-state/concurrent-map-access';
import { gcDisabled } from './runtime/gc-disabled';
import { gomaxprocsHardcoded } from './runtime/gomaxprocs-hardcoded';
import { manualGc } from './runtime/manual-gc';
import { nonAtomicCounter } from './shared-state/non-atomic-counter';
import { mapInsertDuringRange } from './shared-state/map-insert-during-range';
import { nilInnerMap } from './shared-state/nil-inner-map';
import { rangeAppendLostUpdate } from './shared-state/range-append-lost-update';
import { sharedVarSwap } from './shared-state/shared-var-swap';
import { syncmapCheckThenAct } from './shared-state/syncmap-check-then-act';
import { dataRace } from './shared-state/data-race';
import { unguardedAccess } from './shared-state/unguarded-access';
import { unsafePointerCast } from './runtime/unsafe-pointer-cast';
import { unusedSuppressionRule } from './unused-suppression';
import { writeUnderRlock } from './shared-state/write-under-rlock';
import { waitgroupAddInGoroutine } from './goroutines/waitgroup-add-in-goroutine';
import { contextBackgroundInHandler } from './goroutines/context-background-in-handler';
import { recoverMissesGoroutine } from './goroutines/recover-misses-goroutine';
import { testingFatalInGoroutine } from './goroutines/testing-fatal-in-goroutine';
import { loopVarCapture } from './goroutines/loop-var-capture';
import { sendOnClosedChannel } from './goroutines/send-on-closed-channel';
import { testingLogAfterTest } from './goroutines/testing-log-after-test';
import { channelFieldRace } from './goroutines/channel-field-race';
import { goroutineLeakSend } from './goroutines/goroutine-leak-send';
import { goroutineLeakRecv } from './goroutines/goroutine-leak-recv';
import { unstoppableGoroutine } from './goroutines/unstoppable-goroutine';
import { rangeUnclosedChannel } from './goroutines/range-unclosed-channel';
import { channelNoPartner } from './goroutines/channel-no-partner';
import { waitNeverReleased } from './goroutines/wait-never-released';
import { waitgroupMisuse } from './goroutines/waitgroup-misuse';
import { missingUnlock } from './locks/missing-unlock';
import { doubleLock } from './locks/double-lock';
import { lockOrderInversion } from './locks/lock-order-inversion';
import { blockingUnderLock } from './locks/blocking-under-lock';

export const allRules: readonly Rule[] = [
  // Maps and shared state
  concurrentMapAccess, unguardedAccess, dataRace, writeUnderRlock, sharedVarSwap, nonAtomicCounter,
  rangeAppendLostUpdate, mapInsertDuringRange, nilInnerMap, syncmapCheckThenAct,
  // Goroutine lifecycle
  waitgroupAddInGoroutine, waitgroupMisuse, contextBackgroundInHandler, recoverMissesGoroutine, testingFatalInGoroutine, testingLogAfterTest, loopVarCapture,
  sendOnClosedChannel, channelFieldRace, goroutineLeakSend, goroutineLeakRecv, unstoppableGoroutine, rangeUnclosedChannel, channelNoPartner, waitNeverReleased, missingUnlock,
  doubleLock, lockOrderInversion, blockingUnderLock,
  // Runtime misuse
  manualGc, gcDisabled, gomaxprocsHardcoded, unsafePointerCast, appendWithoutPrealloc,
  // Suppressions
  unusedSuppressionRule(() => ruleIds),
];

const ruleIds: ReadonlySet<string> = new Set(allRules.map((r) => r.id));

export function ruleById(id: string): Rule | undefined {
  return allRules.find((r) => r.id === id);
}

export const DOCS_BASE = 'https://github.com/racelens/racelens/blob/main/docs/rules/';

/** The rule's documentation page (docs/rules/<id>.md). */
export function docsUrl(ruleId: string): string {
  return `${DOCS_BASE}${ruleId}.md`;
}
