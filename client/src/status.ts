// The status-bar item's text and tooltip, from the server's status notification. No vscode
// import, so that it can be tested in Node.
import type { Status } from '../../server/src/protocol';

const plural = (n: number, noun: string) => `${n} ${noun}${n === 1 ? '' : 's'}`;

/** The icon follows the worst severity found: error, then warning, then info; a check when clean. */
export function statusLabel(s: Status | undefined, running: boolean): { text: string; tooltip: string } {
  if (!running) return { text: '$(error) racelens', tooltip: 'The racelens server is not running. Run "racelens: Restart Server".' };
  if (!s || s.state === 'scanning') return { text: '$(loading~spin) racelens', tooltip: 'racelens is checking the workspace' };
  if (s.state === 'disabled') return { text: '$(circle-slash) racelens', tooltip: 'racelens is disabled (racelens.enable)' };
  const total = s.errors + s.warnings + s.infos;
  const icon = s.stale ? '$(sync~spin)' : s.errors ? '$(error)' : s.warnings ? '$(warning)' : s.infos ? '$(info)' : '$(check)';
  // A file whose reparse ran out of time while typing keeps its earlier findings until typing pauses.
  const stale = s.stale ? ` Re-checking ${plural(s.stale, 'file')}: shown as before the last edits.` : '';
  return {
    text: total ? `${icon} racelens ${total}` : `${icon} racelens`,
    tooltip: `racelens: ${plural(s.errors, 'error')}, ${plural(s.warnings, 'warning')}, ${s.infos} info.${stale} Click to open Problems.`,
  };
}
