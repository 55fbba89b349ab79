// Quick-fix "Wrap in mutex": placeholder until the fix builder lands.
import type { Fix } from '../rule';
import type { SharedVar } from './accesses';
import type { SharedStateModel } from './model';

export function wrapInMutexFixes(_model: SharedStateModel, _v: SharedVar): Fix[] {
  return [];
}
