// Editor settings (racelens.*) merged with the repository's .racelens.json.
import { KEYSTROKE_PARSE_MS } from '../engine/parse-budget';
import { mergeConfigs, type LoadedConfig, type RacelensConfig, type RuleSetting } from '../engine/config';

export interface Settings {
  enable: boolean;
  run: 'onType' | 'onSave';
  rules: Record<string, RuleSetting>;
  exclude: string[];
  debounceMs: number;
  /**
   * How long a keystroke's reparse may take before the file is shown as stale and re-checked once
   * typing pauses. Not a user setting: initializationOptions only (tests set 0).
   */
  reparseBudgetMs: number;
}

export const DEFAULT_SETTINGS: Settings = { enable: true, run: 'onType', rules: {}, exclude: [], debounceMs: 25, reparseBudgetMs: KEYSTROKE_PARSE_MS };

export function readSettings(raw: unknown, base: Settings = DEFAULT_SETTINGS): Settings {
  const r = (raw ?? {}) as Partial<Settings>;
  return {
    enable: typeof r.enable === 'boolean' ? r.enable : base.enable,
    run: r.run === 'onSave' || r.run === 'onType' ? r.run : base.run,
    rules: r.rules && typeof r.rules === 'object' ? r.rules : base.rules,
    exclude: Array.isArray(r.exclude) ? r.exclude.filter((g) => typeof g === 'string') : base.exclude,
    debounceMs: typeof r.debounceMs === 'number' && r.debounceMs >= 0 ? r.debounceMs : base.debounceMs,
    reparseBudgetMs: typeof r.reparseBudgetMs === 'number' && r.reparseBudgetMs >= 0 ? r.reparseBudgetMs : base.reparseBudgetMs,
  };
}

/** Per-directory effective configuration: .racelens.json, then the editor settings on top. */
export class ConfigResolver {
  private readonly cache = new Map<string, Promise<LoadedConfig | Error>>();

  constructor(
    private settings: Settings,
    private readonly load: (dir: string) => Promise<LoadedConfig>,
    private readonly onError: (message: string) => void,
  ) {}

  update(settings: Settings): void {
    this.settings = settings;
  }

  /** Forget cached .racelens.json files (one changed). */
  clear(): void {
    this.cache.clear();
  }

  async forDir(dir: string): Promise<{ config: RacelensConfig; root: string }> {
    let loading = this.cache.get(dir);
    if (!loading) {
      loading = this.load(dir).catch((e: Error) => {
        this.onError(e.message);
        return e;
      });
      this.cache.set(dir, loading);
    }
    const loaded = await loading;
    const file = loaded instanceof Error ? { config: {}, root: dir } : loaded;
    return {
      config: mergeConfigs(file.config, { rules: this.settings.rules, exclude: this.settings.exclude }),
      root: file.root,
    };
  }
}
