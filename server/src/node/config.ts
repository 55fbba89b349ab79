// Reads .racelens.json: the repository's racelens configuration, honoured by the CLI and the editor.
import * as fs from 'fs';
import * as path from 'path';
import type { RacelensConfig, RuleSetting } from '../engine/config';

export const CONFIG_FILE = '.racelens.json';
const SETTINGS = new Set<RuleSetting>(['error', 'warning', 'info', 'off']);

export interface LoadedConfig { config: RacelensConfig; root: string; file?: string }

/** Validates parsed JSON; throws an Error with a message a user can act on. */
export function parseConfig(text: string, file: string): RacelensConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new Error(`${file}: not valid JSON (${(e as Error).message})`);
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new Error(`${file}: expected an object`);
  const { rules, exclude, ...rest } = raw as Record<string, unknown>;
  const unknown = Object.keys(rest).filter((k) => k !== '$schema');
  if (unknown.length) throw new Error(`${file}: unknown key ${unknown.map((k) => `"${k}"`).join(', ')} (expected "rules" and "exclude")`);
  const config: RacelensConfig = {};
  if (rules !== undefined) {
    if (!rules || typeof rules !== 'object' || Array.isArray(rules)) throw new Error(`${file}: "rules" must map rule ids to error, warning, info or off`);
    for (const [id, v] of Object.entries(rules)) {
      if (!SETTINGS.has(v as RuleSetting)) throw new Error(`${file}: rule "${id}" is set to ${JSON.stringify(v)}; use error, warning, info or off`);
    }
    config.rules = rules as Record<string, RuleSetting>;
  }
  if (exclude !== undefined) {
    if (!Array.isArray(exclude) || exclude.some((g) => typeof g !== 'string')) throw new Error(`${file}: "exclude" must be a list of glob strings`);
    config.exclude = exclude;
  }
  return config;
}

/** The nearest .racelens.json at or above `dir`; an empty config rooted at `dir` when none. */
export function loadConfig(dir: string): LoadedConfig {
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    const file = path.join(d, CONFIG_FILE);
    if (fs.existsSync(file)) return { config: parseConfig(fs.readFileSync(file, 'utf8'), file), root: d, file };
    if (path.dirname(d) === d) return { config: {}, root: path.resolve(dir) };
  }
}

/** A path relative to the config root, with `/` separators, for exclude globs. */
export function relativeToRoot(root: string, file: string): string {
  return path.relative(root, file).split(path.sep).join('/');
}
