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
