// Reads .racelens.json: the repository's racelens configuration, honoured by the CLI and the editor.
import * as fs from 'fs';
import * as path from 'path';
import { CONFIG_FILE, parseConfig, type LoadedConfig } from '../engine/config';

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
