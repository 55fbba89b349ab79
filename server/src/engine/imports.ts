// The import table of one file: which local names refer to which packages.
import type { Node } from 'web-tree-sitter';

export interface ImportSpec {
  path: string;
  /** The name code uses: the explicit alias, or the package's default name. */
  local: string;
  dot: boolean;
  blank: boolean;
  node: Node;
}

/** Default package name for an import path: the last element, minus a /vN or .vN major suffix. */
export function defaultPackageName(importPath: string): string {
  const parts = importPath.split('/');
  let last = parts[parts.length - 1];
  if (/^v\d+$/.test(last) && parts.length > 1) last = parts[parts.length - 2];
  last = last.replace(/\.v\d+$/, '');
  return last.replace(/^go-/, '').replace(/[^A-Za-z0-9_]/g, '_');
}

export function readImports(root: Node): ImportSpec[] {
  const specs: ImportSpec[] = [];
  // Sibling by sibling: imports come first, so the thousands of declarations after them are not read.
  for (let decl = root.firstNamedChild; decl; decl = decl.nextNamedSibling) {
    if (decl.type === 'package_clause' || decl.type === 'comment') continue;
    if (decl.type !== 'import_declaration') break; // imports precede all other declarations
    for (const spec of decl.descendantsOfType('import_spec')) {
      if (!spec) continue;
      const pathNode = spec.childForFieldName('path');
      if (!pathNode) continue;
      const path = pathNode.text.replace(/^["`]|["`]$/g, '');
      const nameNode = spec.childForFieldName('name');
      const name = nameNode?.text;
      specs.push({
        path,
        local: name && name !== '.' && name !== '_' ? name : defaultPackageName(path),
        dot: name === '.',
        blank: name === '_',
        node: spec,
      });
    }
  }
  return specs;
}
