// The last step before findings are shown, shared by the CLI, the language server and fix-all:
// rules turned off dropped, severities as configured, excluded files dropped, one order.
import { applySeverities, isExcluded, type RacelensConfig } from './config';
import type { Finding } from './rule';

/** The one order of findings everywhere: path, then position, then rule id, then message. */
export function compareFindings(a: Finding, b: Finding): number {
  if (a.path !== b.path) return a.path < b.path ? -1 : 1;
  return a.start - b.start || a.end - b.end || compareText(a.ruleId, b.ruleId) || compareText(a.message, b.message);
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * What the user sees of `findings` under `config`. `relativePath` gives a path relative to the
 * config's root (with `/` separators), or undefined for a path outside it, which no glob excludes.
 */
export function finalize(findings: readonly Finding[], config: RacelensConfig, relativePath?: (path: string) => string | undefined): Finding[] {
  const excluded = (p: string) => {
    if (!relativePath || !config.exclude?.length) return false;
    const rel = relativePath(p);
    return rel !== undefined && isExcluded(rel, config);
  };
  return applySeverities([...findings], config).filter((f) => !excluded(f.path)).sort(compareFindings);
}
