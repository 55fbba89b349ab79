// A Go package as the analyser sees it: the files of one directory with the same package clause.
// An external test package (`foo_test`) is a package of its own, as in the go tool.
import type { Node } from 'web-tree-sitter';
import type { SourceFile } from './source-file';
import { cachedType } from './tree-cache';

export class Package {
  private declIndex?: Map<string, Node[]>;

  constructor(
    readonly dir: string,
    readonly name: string,
    readonly files: SourceFile[],
    /** The `go` directive of the nearest go.mod, e.g. "1.21"; undefined when there is none. */
    readonly goVersion?: string,
  ) {}

  private readonly memos = new Map<string, unknown>();

  /**
   * A value computed once per package from its files (types-lite's tables): it lives and dies with
   * this Package, which an analysis builds afresh. Analyses that rules share are facts (fact.ts).
   */
  memo<T>(key: string, build: () => T): T {
    if (!this.memos.has(key)) this.memos.set(key, build());
    return this.memos.get(key) as T;
  }

  /** Stores a memo early, so that a build that refers to its own value sees it. */
  memoSet(key: string, value: unknown): void { this.memos.set(key, value); }

  /** The file a node of this package belongs to. */
  fileOf(node: Node): SourceFile | undefined {
    // By tree, checked against the file's current tree (a reparse gives it a new one).
    const known = this.byTree.get(node.tree);
    if (known?.tree === node.tree) return known;
    const file = this.files.find((f) => f.tree === node.tree);
    if (file) this.byTree.set(node.tree, file);
    return file;
  }

  private readonly byTree = new WeakMap<Node['tree'], SourceFile>();

  /** Package-level declarations by name (funcs, vars, consts, types), across all files. */
  get decls(): Map<string, Node[]> {
    if (this.declIndex) return this.declIndex;
    const index = new Map<string, Node[]>();
    const add = (name: Node | null, decl: Node) => {
      const text = name?.text;
      if (text === undefined || text === '_') return;
      const list = index.get(text);
      if (list) list.push(decl); else index.set(text, [decl]);
    };
    for (const file of this.files) {
      for (const decl of file.topLevel) {
        switch (cachedType(decl)) {
          case 'function_declaration':
            add(decl.childForFieldName('name'), decl);
            break;
          case 'var_declaration':
          case 'const_declaration':
            for (const spec of specsOf(decl, file.textOf(decl), VALUE_SPECS)) {
              if (spec) for (const n of spec.childrenForFieldName('name')) add(n, spec);
            }
            break;
          case 'type_declaration':
            for (const spec of specsOf(decl, file.textOf(decl), TYPE_SPECS)) {
              if (spec) add(spec.childForFieldName('name'), spec);
            }
            break;
        }
      }
    }
    return (this.declIndex = index);
  }
}

const VALUE_SPECS = ['var_spec', 'const_spec'];
const TYPE_SPECS = ['type_spec', 'type_alias'];

/**
 * The specs of a top-level declaration and any nested in it (descendantsOfType's answer). Only a
 * function literal nests declarations, and only a syntax error hides specs elsewhere: without
 * either, the specs are the declaration's children (or its var_spec_list's), cheaper to read.
 */
function specsOf(decl: Node, text: string, types: string[]): (Node | null)[] {
  if (text.includes('func') || decl.hasError) return decl.descendantsOfType(types);
  const out: Node[] = [];
  for (const child of decl.namedChildren) {
    if (!child) continue;
    const type = cachedType(child);
    if (types.includes(type)) out.push(child);
    else if (type === 'var_spec_list') for (const spec of child.namedChildren) if (spec && types.includes(cachedType(spec))) out.push(spec);
  }
  return out;
}

function dirOf(path: string): string {
  const i = Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\'));
  return i === -1 ? '.' : path.slice(0, i);
}

/** Groups files into packages by directory and package clause; files without a clause are dropped. */
export function groupIntoPackages(files: readonly SourceFile[], goVersionOf?: (dir: string) => string | undefined): Package[] {
  const groups = new Map<string, { dir: string; name: string; files: SourceFile[] }>();
  for (const file of files) {
    const name = file.packageName;
    if (!name) continue;
    const dir = dirOf(file.path);
    const key = `${dir}\u0000${name}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { dir, name, files: [] }));
    g.files.push(file);
  }
  return [...groups.values()].map((g) => new Package(g.dir, g.name, g.files, goVersionOf?.(g.dir)));
}
