// Finds grammars/ (the copied .wasm files) from wherever the code runs: dist/, out/ or source.
import * as fs from 'fs';
import * as path from 'path';
import { initGo } from '../engine/parser';

export function grammarDir(from = __dirname): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'grammars');
    if (fs.existsSync(path.join(candidate, 'tree-sitter-go.wasm'))) return candidate;
    if (path.dirname(dir) === dir) break;
  }
  throw new Error(`racelens: grammars/tree-sitter-go.wasm not found above ${from}; run "npm run build"`);
}

export function initGoForNode(): ReturnType<typeof initGo> {
  const dir = grammarDir();
  return initGo({
    locateRuntime: (name) => path.join(dir, name),
    goGrammar: fs.readFileSync(path.join(dir, 'tree-sitter-go.wasm')),
  });
}
