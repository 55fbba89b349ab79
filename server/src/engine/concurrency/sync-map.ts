// Alternative quick-fix "Switch to sync.Map" for a package-level map used only through get, set,
// delete and range. Anything else (len, m[k]++, passing the map around, a non-empty literal,
// a range body that jumps out) gets no fix rather than a rewrite that could change behaviour.
import type { Node } from 'web-tree-sitter';
import { ensureImport } from '../edits';
import type { FileEdit, Fix } from '../rule';
import type { Access, SharedState, SharedVar } from '../analysis/shared-state';

class NoSyncMap extends Error {}

function capitalized(name: string): string {
  return name[0].toUpperCase() + name.slice(1);
}

export function syncMapFixes(model: SharedState, v: SharedVar): Fix[] {
  try {
    return [build(model, v)];
  } catch (e) {
    if (e instanceof NoSyncMap) return [];
    throw e;
  }
}

function build(model: SharedState, v: SharedVar): Fix {
  if (v.kind !== 'pkgvar' || v.type?.kind !== 'map' || !v.type.key || !v.type.elem) throw new NoSyncMap('not a package map');
  const spec = v.decl!;
  const decl = spec.parent!;
  const init = spec.childForFieldName('value')?.namedChild(0);
  const emptyInit = !init || (init.type === 'call_expression' && init.childForFieldName('function')?.text === 'make')
    || (init.type === 'composite_literal' && init.childForFieldName('body')?.namedChildCount === 0);
  if (decl.type !== 'var_declaration' || spec.childrenForFieldName('name').length !== 1 || !emptyInit) throw new NoSyncMap('declaration');
  const K = v.type.key.text, V = v.type.elem.text;
  // sync.Map holds interface values: an untyped constant would be stored as int, string, ...,
  // not as K or V. Converting basic types keeps keys equal and assertions true.
  const asK = (x: string) => (v.type!.key!.kind === 'basic' ? `${K}(${x})` : x);
  const asV = (x: string) => (v.type!.elem!.kind === 'basic' ? `${V}(${x})` : x);
  const getter = `load${capitalized(v.name)}`;
  let needGet = false, needGetOk = false;
  const edits: FileEdit[] = [];
  const edit = (a: Access, node: Node, text: string) => edits.push({ path: a.file.path, start: node.startIndex, end: node.endIndex, newText: text });
  for (const a of v.accesses) {
    if (!a.unit) throw new NoSyncMap('used by an initialiser');
    const p = a.expr.parent!;
    const t = (n: Node) => a.file.textOf(n);
    if (p.type === 'index_expression' && p.childForFieldName('operand')?.id === a.expr.id) {
      const key = t(p.childForFieldName('index')!);
      const list = p.parent;
      const stmt = list?.parent;
      if (list?.type === 'expression_list' && stmt?.type === 'assignment_statement' && stmt.childForFieldName('left')?.id === list.id) {
        if (stmt.childForFieldName('operator')?.text !== '=' || list.namedChildCount !== 1) throw new NoSyncMap('compound update');
        edit(a, stmt, `${v.name}.Store(${asK(key)}, ${asV(t(stmt.childForFieldName('right')!))})`);
      } else if (list?.type === 'expression_list' && stmt?.type === 'short_var_declaration' && stmt.childForFieldName('left')!.namedChildCount === 2) {
        needGetOk = true;
        edit(a, p, `${getter}OK(${key})`);
      } else if (p.parent?.type === 'inc_statement' || p.parent?.type === 'dec_statement') {
        throw new NoSyncMap('increment');
      } else {
        needGet = true;
        edit(a, p, `${getter}(${key})`);
      }
    } else if (p.type === 'argument_list' && p.parent?.childForFieldName('function')?.text === 'delete') {
      edit(a, p.parent!, `${v.name}.Delete(${asK(t(p.namedChild(1)!))})`);
    } else if (p.type === 'range_clause') {
      const loop = p.parent!;
      const body = loop.childForFieldName('body')!;
      if (body.descendantsOfType(['return_statement', 'break_statement', 'continue_statement', 'goto_statement']).length) throw new NoSyncMap('range body jumps');
      const vars = p.childForFieldName('left')?.namedChildren ?? [];
      const [k, val] = [vars[0]?.text ?? '_', vars[1]?.text ?? '_'];
      const binds = [k !== '_' ? `${k} := key.(${K})` : '', val !== '_' ? `${val} := value.(${V})` : ''].filter(Boolean);
      const indent = /[ \t]*$/.exec(a.file.text.slice(0, loop.startIndex))![0];
      const inner = t(body).slice(1, -1).replace(/\n[ \t]*$/, '');
      // A name the body never mentions would be unused in the literal: keep the compiler happy.
      const uses = [k, val].filter((n) => n !== '_' && !new RegExp(`(?<![\\w$.])${n}(?![\\w$])`).test(inner)).map((n) => `_ = ${n}`);
      const head = [...binds, ...uses].map((l) => `\n${indent}\t${l}`).join('');
      edit(a, loop, `${v.name}.Range(func(key, value interface{}) bool {${head}${inner}\n${indent}\treturn true\n${indent}})`);
    } else {
      throw new NoSyncMap('used as a value');
    }
  }
  const file = model.pkg.fileOf(spec)!;
  const sync = ensureImport(file, 'sync');
  const lines = [`var ${v.name} ${sync.name}.Map // ${K} → ${V}`];
  if (needGet) lines.push('', `// ${getter} returns the value stored for k, or the zero ${V}.`, `func ${getter}(k ${K}) ${V} {`, `\tv, _ := ${v.name}.Load(k)`, `\tt, _ := v.(${V})`, '\treturn t', '}');
  if (needGetOk) lines.push('', `// ${getter}OK is ${getter} with the comma-ok of a map index.`, `func ${getter}OK(k ${K}) (${V}, bool) {`, `\tv, ok := ${v.name}.Load(k)`, `\tt, _ := v.(${V})`, '\treturn t, ok', '}');
  edits.push({ path: file.path, start: decl.startIndex, end: decl.endIndex, newText: lines.join('\n') });
  if (sync.edit) edits.push({ ...sync.edit, path: file.path });
  return { title: `Switch to sync.Map`, edits };
}
