// Test helpers for the analysis core: a one-file package from Go source, with its facts.
import type { Parser } from 'web-tree-sitter';
import { FactStore } from '../../server/src/engine/fact';
import { Package } from '../../server/src/engine/package';
import { SourceFile } from '../../server/src/engine/source-file';
import { forgetTrees } from '../../server/src/engine/tree-cache';
import { FunctionsFact, type FuncUnit } from '../../server/src/engine/analysis/functions';

export interface TestPackage {
  pkg: Package;
  facts: FactStore;
  file: SourceFile;
  /** The unit of a function or method: `name` or `Type.name`. */
  unit(name: string): FuncUnit;
  /** The offset of the `n`-th occurrence (from 0) of `marker` in the text. */
  at(marker: string, n?: number): number;
  dispose(): void;
}

export function testPackage(p: Parser, text: string, path = '/fixture/a.go'): TestPackage {
  const file = SourceFile.parse(p, path, text);
  const pkg = new Package('/fixture', file.packageName ?? 'p', [file]);
  const facts = new FactStore(pkg);
  return {
    pkg, facts, file,
    unit(name) {
      const [a, b] = name.includes('.') ? name.split('.') : [undefined, name];
      const u = facts.get(FunctionsFact).all.find((x) => x.name === b && x.recvType === a);
      if (!u) throw new Error(`no function ${name}`);
      return u;
    },
    at(marker, n = 0) {
      let i = -1;
      for (let k = 0; k <= n; k++) {
        i = text.indexOf(marker, i + 1);
        if (i < 0) throw new Error(`no occurrence ${n} of ${marker}`);
      }
      return i;
    },
    dispose() {
      forgetTrees([file.tree]);
      file.dispose();
    },
  };
}
