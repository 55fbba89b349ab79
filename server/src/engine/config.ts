// racelens configuration, shared by the CLI (.racelens.json) and the editor (settings + the same
// file): per-rule severity or "off", and path globs to exclude.
import type { Finding, Rule, Severity } from './rule';

export type RuleSetting = Severity | 'off';

export interface RacelensConfig {
  rules?: Record<string, RuleSetting>;
  /** Globs relative to the workspace or config root: `**` any path, `*` within a segment. */
  exclude?: string[];
}

/** Later configs override earlier ones, rule by rule; excludes add up. */
export function mergeConfigs(...configs: (RacelensConfig | undefined)[]): RacelensConfig {
  const out: RacelensConfig = { rules: {}, exclude: [] };
  for (const c of configs) {
    if (!c) continue;
    Object.assign(out.rules!, c.rules ?? {});
    out.exclude!.push(...(c.exclude ?? []));
  }
  return out;
}

/** The rules to run: "off" ones are left out. */
export function enabledRules(rules: readonly Rule[], config: RacelensConfig): Rule[] {
  return rules.filter((r) => config.rules?.[r.id] !== 'off');
}

/** The rule ids the config names that are not among `known` (typos, or rules since renamed). */
export function unknownRuleIds(config: RacelensConfig, known: readonly string[]): string[] {
  return Object.keys(config.rules ?? {}).filter((id) => !known.includes(id));
}

/** Findings with severities as configured. */
export function applySeverities(findings: Finding[], config: RacelensConfig): Finding[] {
  const rules = config.rules ?? {};
  return findings
    .filter((f) => rules[f.ruleId] !== 'off')
    .map((f) => (rules[f.ruleId] && rules[f.ruleId] !== f.severity ? { ...f, severity: rules[f.ruleId] as Severity } : f));
}

const globCache = new Map<string, RegExp>();

export function globToRegExp(glob: string): RegExp {
  let re = globCache.get(glob);
  if (re) return re;
  let src = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*' && glob[i + 1] === '*') {
      src += glob[i + 2] === '/' ? '(?:.*/)?' : '.*';
      i += glob[i + 2] === '/' ? 2 : 1;
    } else if (c === '*') src += '[^/]*';
    else if (c === '?') src += '[^/]';
    else src += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  // A pattern without a slash matches a name at any depth, like .gitignore.
  re = new RegExp(glob.includes('/') ? `^${src}(?:/.*)?$` : `(?:^|/)${src}(?:/.*)?$`);
  globCache.set(glob, re);
  return re;
}

/** Whether a path (relative to the config root, with `/` separators) is excluded. */
export function isExcluded(relativePath: string, config: RacelensConfig): boolean {
  return (config.exclude ?? []).some((g) => globToRegExp(g.replace(/^\.\//, '')).test(relativePath));
}

export const CONFIG_FILE = '.racelens.json';

/** A .racelens.json and the directory it applies from; `file` is absent when there is none. */
export interface LoadedConfig { config: RacelensConfig; root: string; file?: string }

const SETTINGS = new Set<RuleSetting>(['error', 'warning', 'info', 'off']);

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
