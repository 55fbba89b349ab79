import type { Node } from 'web-tree-sitter';
import { matchesOnAnchoredLines } from '../../engine/anchored';
import { waitsInText } from '../../engine/goroutines';
import type { Package } from '../../engine/package';
import { query } from '../../engine/parser';
import type { Fix, Rule } from '../../engine/rule';
import { declaredNames, findLocalDeclaration, freshNameIn, outermostFunction } from '../../engine/scope';
import type { SourceFile } from '../../engine/source-file';
import { typeOfExpr } from '../../engine/types';
import { unparen, within } from '../../engine/syntax';

const GO_OR_DEFER = /(?<![\w$.])(go|defer)(?=\s+\(?\s*func\b)/g;
const GROUP_GO = /\.\s*Go\s*\(\s*func\b/g;
/** `for k, v := range` / `for v := range`: the last name declared (the value, or a channel's element). */
const RANGE_HEADER = /(?<![\w$.])for\s+(?:[\w$]+\s*,\s*)?([\w$]+)\s*:=\s*range(?![\w$])/g;
const ADDR_QUERY = '(unary_expression operator: "&" operand: (identifier) @v) @addr';
const IDENTIFIERS = '(identifier) @id';
const FUNCTIONS = new Set(['function_declaration', 'method_declaration', 'func_literal']);
const CASES = new Set(['expression_case', 'default_case', 'type_case', 'communication_case']);
const BREAK_SCOPES = new Set(['for_statement', 'expression_switch_statement', 'type_switch_statement', 'select_statement']);

type Mode = 'off' | 'vet' | 'full';

/** Go < 1.22 shares one variable per loop. No go.mod: only what go vet's loopclosure reports. */
function modeOf(pkg: Package): Mode {
  if (pkg.goVersion === undefined) return 'vet';
  // A go.mod without a `go` line means go 1.16 to the go command.
  const m = /^(\d+)\.(\d+)/.exec(pkg.goVersion || '1.16');
  if (!m) return 'vet';
  const major = Number(m[1]), minor = Number(m[2]);
  return major > 1 || (major === 1 && minor >= 22) ? 'off' : 'full';
}

function versionNote(pkg: Package): string {
  if (pkg.goVersion === undefined) return 'before Go 1.22';
  return pkg.goVersion ? `before Go 1.22 (go.mod says go ${pkg.goVersion})` : 'before Go 1.22 (go.mod has no go line: go 1.16)';
}

function lastStatement(list: Node): Node | null {
  for (let i = list.namedChildCount - 1; i >= 0; i--) {
    const c = list.namedChild(i);
    if (c && c.type !== 'comment' && c.type !== 'empty_statement') return c;
  }
  return null;
}

/** The statement as its block lists it: `L: for ...` is listed as the labeled statement. */
function listed(stmt: Node): Node {
  while (stmt.parent?.type === 'labeled_statement') stmt = stmt.parent;
  return stmt;
}

/**
 * The loops whose body ends with `stmt`: the last statement of the body, or recursively the last
 * statement of an if/else, switch or select case (or inner loop) that is itself last (go vet's rule).
 */
function loopsEndingWith(stmt: Node): Node[] {
  const loops: Node[] = [];
  let item = listed(stmt);
  for (;;) {
    const list = item.parent;
    if (list?.type !== 'statement_list' || lastStatement(list)?.id !== item.id) return loops;
    const owner = list.parent;
    if (!owner) return loops;
    if (owner.type === 'block') {
      const p = owner.parent;
      if (p?.type === 'for_statement' && p.childForFieldName('body')?.id === owner.id) {
        loops.push(p);
        item = listed(p);
      } else if (p?.type === 'if_statement') {
        let top = p;
        while (top.parent?.type === 'if_statement') top = top.parent;
        item = listed(top);
      } else {
        return loops;
      }
    } else if (CASES.has(owner.type) && owner.parent) {
      item = listed(owner.parent);
    } else {
      return loops;
    }
  }
}

/** The `for` loops of the same function whose body holds `stmt`, innermost first. */
function loopsAround(stmt: Node): Node[] {
  const loops: Node[] = [];
  for (let n = stmt.parent; n && !FUNCTIONS.has(n.type); n = n.parent) {
    if (n.type === 'for_statement' && n.childForFieldName('body') && within(stmt, n.childForFieldName('body')!)) loops.push(n);
  }
  return loops;
}

/** Something after `stmt` in the same iteration waits for other goroutines (`wg.Wait()`, a receive, a select). */
function waitsLaterInIteration(stmt: Node, loop: Node): boolean {
  const body = loop.childForFieldName('body');
  for (let s: Node | null = stmt; s && body && s.id !== body.id; s = s.parent) {
    if (s.parent?.type !== 'statement_list') continue;
    for (let next = s.nextNamedSibling; next; next = next.nextNamedSibling) if (waitsInText(next.text)) return true;
  }
  return false;
}

interface LoopVars { loop: Node; names: Node[]; range?: Node; threeClause: boolean }

/** The variables a `for` statement declares per loop (`:=` in a range or 3-clause header). */
function loopVars(loop: Node): LoopVars | undefined {
  for (const c of loop.namedChildren) {
    if (c?.type === 'range_clause') {
      if (!c.children.some((x) => x?.type === ':=')) return undefined;
      const names = (c.childForFieldName('left')?.namedChildren ?? []).filter((n): n is Node => n?.type === 'identifier');
      return { loop, names, range: c.childForFieldName('right') ?? undefined, threeClause: false };
    }
    if (c?.type === 'for_clause') {
      const init = c.childForFieldName('initializer');
      if (init?.type !== 'short_var_declaration') return undefined;
      const names = (init.childForFieldName('left')?.namedChildren ?? []).filter((n): n is Node => n?.type === 'identifier');
      return { loop, names, threeClause: true };
    }
  }
  return undefined;
}

/** A struct literal's field name (`T{v: 1}`) is not a use of a variable; a map literal's key is. */
function isFieldKey(id: Node): boolean {
  const el = id.parent;
  if (el?.type !== 'literal_element' || el.parent?.type !== 'keyed_element') return false;
  if (el.parent.childForFieldName('key')?.id !== el.id) return false;
  const lit = el.parent.parent?.parent;
  return !(lit?.type === 'composite_literal' && lit.childForFieldName('type')?.type === 'map_type');
}

/** The name being declared (`i := 0`, `for i := range`, `var i`, a parameter), not a use of an outer i. */
function isDeclarationSite(id: Node): boolean {
  const p = id.parent;
  if (!p) return false;
  if (p.type === 'var_spec' || p.type === 'const_spec' || p.type === 'parameter_declaration' || p.type === 'variadic_parameter_declaration') {
    return p.childrenForFieldName('name').some((n) => n?.id === id.id);
  }
  if (p.type === 'expression_list') {
    const owner = p.parent;
    if (owner?.childForFieldName('left')?.id !== p.id) return false;
    if (owner.type === 'short_var_declaration') return true;
    if (owner.type === 'range_clause') return owner.children.some((c) => c?.type === ':=');
    if (owner.type === 'receive_statement') return owner.children.some((c) => c?.type === ':=');
  }
  return false;
}

/** References in `node` to the variable `name` declared by `decl`. */
function referencesTo(node: Node, name: string, decl: Node): Node[] {
  return query(IDENTIFIERS).captures(node).map((c) => c.node)
    .filter((n) => n.text === name && !isFieldKey(n) && !isDeclarationSite(n) && findLocalDeclaration(n, name)?.id === decl.id);
}

/** `x = ...`, `x.f = ...`, `x[i] = ...`, `x++`, `&x`, `x.m()`: x may change (or escape) here. */
function mayChange(ref: Node, methodCallsToo: boolean): boolean {
  let n = ref;
  for (let p = n.parent; p; n = p, p = p.parent) {
    if (p.type === 'selector_expression' && p.childForFieldName('operand')?.id === n.id) {
      const call = p.parent;
      if (methodCallsToo && call?.type === 'call_expression' && call.childForFieldName('function')?.id === p.id) return true;
      continue;
    }
    if ((p.type === 'index_expression' && p.childForFieldName('operand')?.id === n.id) || p.type === 'parenthesized_expression') continue;
    break;
  }
  const p = n.parent;
  if (!p) return false;
  if (p.type === 'inc_statement' || p.type === 'dec_statement') return true;
  if (p.type === 'unary_expression' && p.childForFieldName('operator')?.text === '&') return true;
  if (p.type === 'expression_list' && (p.parent?.type === 'assignment_statement' || p.parent?.type === 'short_var_declaration')) {
    return p.parent.childForFieldName('left')?.id === p.id;
  }
  if (p.type === 'range_clause' && p.childForFieldName('left')?.id === n.id) return true;
  return false;
}

/** Where a statement goes at the top of a loop body, and its indentation; undefined when the body is on one line. */
function bodyInsertion(file: SourceFile, loop: Node): { at: number; indent: string } | undefined {
  const body = loop.childForFieldName('body');
  const list = body?.namedChildren.find((c) => c?.type === 'statement_list');
  const first = list?.namedChild(0);
  if (!body || !first) return undefined;
  const eol = file.text.indexOf('\n', body.startIndex);
  if (eol === -1 || eol >= first.startIndex) return undefined;
  const afterBrace = file.text.slice(body.startIndex + 1, eol).trim();
  if (afterBrace && !afterBrace.startsWith('//')) return undefined;
  const lineStart = file.lines.lineStart(file.positionAt(first.startIndex).line);
  const indent = file.text.slice(lineStart, first.startIndex);
  if (indent.trim() !== '') return undefined;
  return { at: eol + 1, indent };
}

/** "Copy v := v at the start of the loop body", one line per variable, when that compiles and means the same. */
function copyFix(file: SourceFile, info: LoopVars, names: string[]): Fix | undefined {
  const ins = bodyInsertion(file, info.loop);
  if (!ins) return undefined;
  const body = info.loop.childForFieldName('body')!;
  const list = body.namedChildren.find((c) => c?.type === 'statement_list');
  const declared = new Set((list?.namedChildren ?? []).flatMap((s) => (s ? declaredNames(s) : [])));
  if (names.some((n) => declared.has(n))) return undefined;
  // In a 3-clause loop the body may advance the variable itself; a copy would stop that.
  if (info.threeClause && names.some((n) => referencesTo(body, n, info.loop).some((r) => mayChange(r, false)))) return undefined;
  const eol = file.text.includes('\r\n') ? '\r\n' : '\n';
  return {
    title: `Copy ${names.map((n) => `${n} := ${n}`).join(', ')} at the start of the loop body`,
    edits: [{ path: file.path, start: ins.at, end: ins.at, newText: names.map((n) => `${ins.indent}${n} := ${n}${eol}`).join('') }],
    isPreferred: true,
  };
}

/** The func literal a go/defer statement or errgroup `g.Go(func() error {...})` runs, with a label. */
function closureOf(stmt: Node, file: SourceFile, pkg: Package): { lit: Node; what: string } | undefined {
  if (stmt.type === 'go_statement' || stmt.type === 'defer_statement') {
    const call = stmt.namedChild(0);
    const fn = call?.type === 'call_expression' ? call.childForFieldName('function') : null;
    const lit = fn ? unparen(fn) : null;
    if (lit?.type !== 'func_literal') return undefined;
    return { lit, what: stmt.type === 'go_statement' ? 'the goroutine' : 'the deferred call' };
  }
  if (stmt.type !== 'expression_statement') return undefined;
  const call = stmt.namedChild(0);
  const fn = call?.type === 'call_expression' ? call.childForFieldName('function') : null;
  if (fn?.type !== 'selector_expression' || fn.childForFieldName('field')?.text !== 'Go') return undefined;
  const args = call!.childForFieldName('arguments')?.namedChildren.filter((a) => a && a.type !== 'comment') ?? [];
  const lit = args.length === 1 ? args[0]! : null;
  if (lit?.type !== 'func_literal' || lit.childForFieldName('parameters')?.namedChildCount !== 0) return undefined;
  if (lit.childForFieldName('result')?.text !== 'error') return undefined;
  // errgroup.Group.Go, known from the import; a receiver of a known other type is something else.
  if (!file.imports.some((s) => s.path === 'errgroup' || s.path.endsWith('/errgroup'))) return undefined;
  const operand = fn.childForFieldName('operand')!;
  const t = typeOfExpr(operand, file, pkg);
  const shown = t?.kind === 'pointer' ? t.elem : t;
  if (shown && shown.kind !== 'unknown' && !/errgroup\.Group$/.test(shown.text)) return undefined;
  return { lit, what: `the ${file.textOf(operand)}.Go callback` };
}

/** True when, after `stmt`, the loop is left before the next iteration can overwrite the variable. */
function leavesLoopAfter(stmt: Node, loop: Node): boolean {
  const body = loop.childForFieldName('body');
  let breakable = true;
  for (let s: Node | null = stmt; s && body && s.id !== body.id; s = s.parent) {
    if (s.parent?.type === 'statement_list') {
      for (let next = s.nextNamedSibling; next; next = next.nextNamedSibling) {
        if (next.type === 'return_statement' || next.type === 'goto_statement') return true;
        if (next.type === 'break_statement' && (breakable || next.namedChildCount > 0)) return true;
        if (next.type === 'continue_statement' && next.namedChildCount > 0) return true;
        if (next.type === 'expression_statement' && /^panic\s*\(/.test(next.text)) return true;
      }
    }
    if (s.id !== stmt.id && BREAK_SCOPES.has(s.type)) breakable = false;
  }
  return false;
}


function rootIdentifier(expr: Node): Node | null {
  let n: Node | null = unparen(expr);
  while (n) {
    if (n.type === 'identifier') return n;
    if (n.type === 'selector_expression') n = n.childForFieldName('operand');
    else if (n.type === 'index_expression') n = n.childForFieldName('operand');
    else if (n.type === 'parenthesized_expression') n = n.namedChild(0);
    else if (n.type === 'unary_expression' && n.childForFieldName('operator')?.text === '*') n = n.childForFieldName('operand');
    else return null;
  }
  return null;
}

/** The destination `&v` is stored into when it outlives the iteration: `xs = append(xs, &v)`, `m[k] = &v`. */
function storedInto(addr: Node, loop: Node): Node | undefined {
  const p = addr.parent;
  let dest: Node | null = null;
  let stmt: Node | null = null;
  if (p?.type === 'argument_list') {
    const call = p.parent;
    const fn = call?.childForFieldName('function');
    if (call?.type !== 'call_expression' || fn?.type !== 'identifier' || fn.text !== 'append' || findLocalDeclaration(fn, 'append')) return undefined;
    if (p.namedChild(0)?.id === addr.id) return undefined;
    const list = call.parent;
    stmt = list?.parent ?? null;
    if (list?.type !== 'expression_list' || stmt?.type !== 'assignment_statement' || stmt.childForFieldName('right')?.id !== list.id) return undefined;
    const i = list.namedChildren.findIndex((c) => c?.id === call.id);
    dest = stmt.childForFieldName('left')?.namedChild(i) ?? null;
  } else if (p?.type === 'expression_list' && p.parent?.type === 'assignment_statement' && p.parent.childForFieldName('right')?.id === p.id) {
    stmt = p.parent;
    if (stmt.childForFieldName('operator')?.text !== '=') return undefined;
    const i = p.namedChildren.findIndex((c) => c?.id === addr.id);
    dest = stmt.childForFieldName('left')?.namedChild(i) ?? null;
    if (dest?.type !== 'index_expression' && dest?.type !== 'identifier') return undefined;
  } else {
    return undefined;
  }
  if (!dest || !stmt) return undefined;
  const root = rootIdentifier(dest);
  if (!root || root.text === '_') return undefined;
  const decl = findLocalDeclaration(root, root.text);
  if (decl && within(decl, loop)) return undefined; // lives and dies with the iteration
  if (dest.type === 'identifier') {
    // `best = &v`: a local pointer that is read after the loop holds whichever element came last.
    if (!decl) return undefined;
    let fn: Node | null = loop.parent;
    while (fn && !FUNCTIONS.has(fn.type)) fn = fn.parent;
    const usedAfter = !!fn && query(IDENTIFIERS).captures(fn).some((c) => c.node.text === root.text
      && c.node.startIndex >= loop.endIndex && findLocalDeclaration(c.node, root.text)?.id === decl.id);
    if (!usedAfter) return undefined;
  }
  return stmt;
}

export const loopVarCapture: Rule = {
  id: 'loop-var-capture',
  title: 'Loop variable shared across iterations',
  doc: 'Before Go 1.22 a loop has one variable for all iterations: a goroutine or deferred closure that captures it, or a stored &v, sees the last iteration\'s value. Copy it with v := v (or use &s[i]), or move the module to go 1.22.',
  severity: 'warning',
  run(pass) {
    const mode = modeOf(pass.pkg);
    if (mode === 'off') return;
    const note = versionNote(pass.pkg);
    for (const file of pass.files) {
      if (!/(?<![\w$.])for(?![\w$])/.test(file.text)) continue;

      // 1. A closure run later (go, defer, g.Go) as the loop body's last statement captures a loop variable.
      const candidates: Node[] = [];
      for (const m of file.text.matchAll(GO_OR_DEFER)) {
        const stmt = file.root.descendantForIndex(m.index!, m.index! + m[1].length)?.parent;
        if ((stmt?.type === 'go_statement' || stmt?.type === 'defer_statement') && stmt.startIndex === m.index) candidates.push(stmt);
      }
      for (const m of file.matchesWith('Go', GROUP_GO)) {
        const at = m.index! + m[0].indexOf('Go');
        const stmt = file.root.descendantForIndex(at, at + 2)?.parent?.parent?.parent;
        if (stmt?.type === 'expression_statement') candidates.push(stmt);
      }
      for (const stmt of candidates) {
        const loops = loopsEndingWith(stmt);
        // go vet stops there; a closure earlier in the body races just the same unless the rest of the
        // iteration waits for it (a goroutine) or leaves the loop.
        for (const loop of loopsAround(stmt)) {
          if (loops.some((l) => l.id === loop.id) || leavesLoopAfter(stmt, loop)) continue;
          if (stmt.type !== 'defer_statement' && waitsLaterInIteration(stmt, loop)) continue;
          loops.push(loop);
        }
        if (!loops.length) continue;
        const closure = closureOf(stmt, file, pass.pkg);
        if (!closure) continue;
        const body = closure.lit.childForFieldName('body');
        if (!body) continue;
        for (const loop of loops) {
          const info = loopVars(loop);
          if (!info) continue;
          const captured = info.names.filter((n) => n.text !== '_')
            .map((n) => ({ name: n.text, refs: referencesTo(body, n.text, loop) }))
            .filter((c) => c.refs.length > 0);
          if (!captured.length) continue;
          const names = captured.map((c) => c.name);
          const first = captured.flatMap((c) => c.refs).sort((a, b) => a.startIndex - b.startIndex)[0];
          const fix = copyFix(file, info, names);
          const list = names.join(', ');
          const one = names.length === 1;
          pass.report({
            file,
            node: first,
            message: `loop variable${one ? '' : 's'} ${list} ${one ? 'is' : 'are'} captured by ${closure.what}, which runs after the iteration moves on: ${note} the loop has ${names.map((n) => `one ${n}`).join(' and ')} for all iterations, so ${closure.what} may see a later value; copy ${names.map((n) => `${n} := ${n}`).join(', ')} in the loop body or pass ${one ? names[0] : 'them'} as ${one ? 'an argument' : 'arguments'}`,
            related: [{ path: file.path, start: loop.startIndex, end: loop.startIndex + 3, message: `${list} ${one ? 'is' : 'are'} declared by this loop` }],
            fixes: fix ? [fix] : [],
          });
        }
      }

      // 2. `&v` of a range variable kept beyond the iteration (go.mod says < 1.22).
      if (mode !== 'full') continue;
      // Only `&name` of a name some range clause declares: `for k, v := range` / `for v := range`.
      const rangeNames = new Set<string>();
      for (const r of file.matchesWith('range', RANGE_HEADER)) rangeNames.add(r[1]);
      if (!rangeNames.size) continue;
      const anchor = new RegExp(`(?<![&\\w$])&\\s*(?:${[...rangeNames].map((n) => n.replace(/\$/g, '\\$')).join('|')})(?![\\w$])`, 'g');
      for (const m of matchesOnAnchoredLines(file, ADDR_QUERY, anchor)) {
        const addr = m.captures.find((c) => c.name === 'addr')?.node;
        const v = m.captures.find((c) => c.name === 'v')?.node;
        if (!addr || !v || v.text === '_') continue;
        // Cheap first: is there an enclosing range loop that declares v at all?
        let candidate = false;
        for (let n = addr.parent; n && !candidate; n = n.parent) {
          if (n.type === 'function_declaration' || n.type === 'method_declaration' || n.type === 'source_file') break;
          if (n.type === 'for_statement') candidate = !!loopVars(n)?.names.some((x) => x.text === v.text);
        }
        if (!candidate) continue;
        const loop = findLocalDeclaration(v, v.text);
        if (loop?.type !== 'for_statement') continue;
        const info = loopVars(loop);
        if (!info?.range || info.threeClause) continue;
        const idx = info.names.findIndex((n) => n.text === v.text);
        const valueVar = idx === 1 || (idx === 0 && info.names.length === 1 && typeOfExpr(info.range, file, pass.pkg)?.kind === 'chan');
        if (!valueVar) continue;
        // In a closure the pointer may be taken once per goroutine; leave that to the capture check.
        let inClosure = false;
        for (let n = addr.parent; n && n.id !== loop.id; n = n.parent) if (n.type === 'func_literal') inClosure = true;
        if (inClosure) continue;
        const stmt = storedInto(addr, loop);
        if (!stmt || leavesLoopAfter(stmt, loop)) continue;

        const fixes: Fix[] = [];
        const sliceFix = elementFix(file, pass.pkg, info, v, addr);
        if (sliceFix) fixes.push(sliceFix);
        const copy = copyFix(file, info, [v.text]);
        if (copy) fixes.push({ ...copy, isPreferred: !sliceFix });
        const rangeText = file.textOf(info.range).length <= 40 && !file.textOf(info.range).includes('\n') ? file.textOf(info.range) : 'the ranged collection';
        pass.report({
          file,
          node: addr,
          message: `&${v.text} is the address of the loop variable ${v.text}, which ${note} is one variable for the whole loop: every pointer stored here points at it, and it ends up holding the last element of ${rangeText}; ${sliceFix ? `use ${sliceFix.title.replace(/^Use /, '')} or ` : ''}copy ${v.text} := ${v.text} in the loop body`,
          related: [{ path: file.path, start: v.startIndex, end: v.endIndex, message: `${v.text} is declared once for the loop at line ${file.positionAt(loop.startIndex).line + 1}` }],
          fixes,
        });
      }
    }
  },
};

/** `&s[i]` instead of `&v` when ranging over a slice variable and v is never changed in the body. */
function elementFix(file: SourceFile, pkg: Package, info: LoopVars, v: Node, addr: Node): Fix | undefined {
  const range = info.range && unparen(info.range);
  if (range?.type !== 'identifier' || info.names.length !== 2) return undefined;
  if (typeOfExpr(range, file, pkg)?.kind !== 'slice') return undefined;
  const body = info.loop.childForFieldName('body');
  if (!body) return undefined;
  // v must hold s[i] wherever the pointer is taken: never assigned, addressed elsewhere or given a method call.
  if (referencesTo(body, v.text, info.loop).some((r) => r.id !== v.id && mayChange(r, true))) return undefined;
  // s must be the same variable at &v and never reassigned in the loop.
  const sDecl = findLocalDeclaration(range, range.text);
  const sAtAddr = findLocalDeclaration(addr, range.text);
  if ((sDecl?.id ?? -1) !== (sAtAddr?.id ?? -1)) return undefined;
  if (sDecl ? referencesTo(body, range.text, sDecl).some((r) => mayChange(r, false))
    : query(IDENTIFIERS).captures(body).some((c) => c.node.text === range.text && mayChange(c.node, false))) return undefined;
  const key = info.names[0];
  const edits: Fix['edits'] = [];
  let index = key.text;
  if (index === '_') {
    const outer = outermostFunction(info.loop);
    if (!outer) return undefined;
    index = freshNameIn(outer, 'i');
  } else {
    if (findLocalDeclaration(addr, index)?.id !== info.loop.id) return undefined;
    if (referencesTo(body, index, info.loop).some((r) => mayChange(r, false))) return undefined;
  }
  // `for _, v := range s` becomes `for i, v := range s`, or `for i := range s` when &v was v's only use.
  const vUsedElsewhere = referencesTo(body, v.text, info.loop).some((r) => r.id !== v.id);
  if (!vUsedElsewhere) edits.push({ path: file.path, start: key.startIndex, end: info.names[1].endIndex, newText: index });
  else if (key.text === '_') edits.push({ path: file.path, start: key.startIndex, end: key.endIndex, newText: index });
  const target = `&${range.text}[${index}]`;
  edits.push({ path: file.path, start: addr.startIndex, end: addr.endIndex, newText: target });
  return { title: `Use ${target}`, edits, isPreferred: true };
}
