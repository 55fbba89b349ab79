import type { Node } from 'web-tree-sitter';
import { matchesOnAnchoredLines } from '../../engine/anchored';
import { wholeLines } from '../../engine/edits';
import { query } from '../../engine/parser';
import type { Fix, Rule } from '../../engine/rule';
import { findLocalDeclaration } from '../../engine/scope';
import type { SourceFile } from '../../engine/source-file';
import { typeOfExpr } from '../../engine/types';
import { enclosingFunction, escapeRegExp, within } from '../../engine/syntax';

/** `x.Add(args)` as a statement of its own. */
const ADD_STATEMENT = `(expression_statement
  (call_expression
    function: (selector_expression operand: (_) @wg field: (field_identifier) @method)
    arguments: (argument_list) @args) @call) @stmt`;

/** Every candidate has `.Add(` on its line: the query runs on those lines only. */
const ANCHOR = /\.\s*Add\s*\(/g;
const GO_KEYWORD = /(?<![\w$.])go(?=\s+[\w(])/g;
const IDENTIFIERS = '(identifier) @id';
/** The `go func() {...}()` statement whose literal is `lit`, if it is one. */
function goStatementOf(lit: Node): Node | null {
  const call = lit.parent;
  if (call?.type !== 'call_expression' || call.childForFieldName('function')?.id !== lit.id) return null;
  return call.parent?.type === 'go_statement' ? call.parent : null;
}

/** True when a `go` statement occurs anywhere in `node` (found by text, confirmed in the tree). */
function startsGoroutines(file: SourceFile, node: Node): boolean {
  const text = file.text.slice(node.startIndex, node.endIndex);
  for (const m of text.matchAll(GO_KEYWORD)) {
    const at = node.startIndex + m.index!;
    if (file.root.descendantForIndex(at, at + 2)?.parent?.type === 'go_statement') return true;
  }
  return false;
}

/** The identifier at the root of `x`, `x.f.g`, `(*x).f`; null for anything else. */
function rootIdentifier(expr: Node): Node | null {
  let n: Node | null = expr;
  while (n) {
    if (n.type === 'identifier') return n;
    if (n.type === 'selector_expression') n = n.childForFieldName('operand');
    else if (n.type === 'parenthesized_expression') n = n.namedChild(0);
    else if (n.type === 'unary_expression' && n.childForFieldName('operator')?.text === '*') n = n.childForFieldName('operand');
    else return null;
  }
  return null;
}

/** A `return` in `stmts` that returns from `lit` itself (not from a nested literal). */
function returnsFrom(stmts: Node[], lit: Node): boolean {
  for (const s of stmts) {
    const found = s.type === 'return_statement' ? [s] : s.descendantsOfType('return_statement');
    if (found.some((r) => r && enclosingFunction(r)?.id === lit.id)) return true;
  }
  return false;
}

/** `// ...` comments alone on the lines right above `stmt`, in order. */
function leadingComments(file: SourceFile, stmt: Node): Node[] {
  const out: Node[] = [];
  let line = file.positionAt(stmt.startIndex).line;
  for (let prev = stmt.previousNamedSibling; prev?.type === 'comment'; prev = prev.previousNamedSibling) {
    const pos = file.positionAt(prev.startIndex);
    if (!file.textOf(prev).startsWith('//') || pos.line !== line - 1) break;
    if (file.text.slice(file.lines.lineStart(pos.line), prev.startIndex).trim() !== '') break;
    out.unshift(prev);
    line = pos.line;
  }
  return out;
}

/** A `// ...` comment after `stmt` on the same line. */
function trailingComment(file: SourceFile, stmt: Node): Node | null {
  const next = stmt.nextNamedSibling;
  if (next?.type !== 'comment' || !file.textOf(next).startsWith('//')) return null;
  return file.positionAt(next.startIndex).line === file.positionAt(stmt.endIndex).line ? next : null;
}

function handshake(file: SourceFile, lit: Node, add: Node, goStmt: Node, wgText: string): boolean {
  const spawner = enclosingFunction(goStmt);
  if (!spawner) return false;
  const wg = escapeRegExp(wgText);
  // The signal must leave before Done: anywhere after the Add when Done is deferred.
  const litText = file.text.slice(lit.startIndex, lit.endIndex);
  const dones = [...litText.matchAll(new RegExp(`(?<![\\w$.])(defer\\s+)?${wg}\\s*\\.\\s*Done\\s*\\(`, 'g'))];
  const deferred = dones.some((d) => d[1]);
  const doneAt = dones.length ? lit.startIndex + dones[0].index! : lit.endIndex;
  // The spawner must receive it before it waits.
  let after = file.text.slice(goStmt.endIndex, spawner.endIndex);
  const wait = new RegExp(`(?<![\\w$.])${wg}\\s*\\.\\s*Wait\\s*\\(`).exec(after);
  if (wait) after = after.slice(0, wait.index);
  for (const send of lit.descendantsOfType('send_statement')) {
    if (!send || send.startIndex < add.endIndex || (!deferred && send.startIndex > doneAt)) continue;
    const ch = send.childForFieldName('channel');
    if (!ch) continue;
    const name = escapeRegExp(file.textOf(ch));
    if (new RegExp(`<-\\s*${name}(?![\\w$])|\\brange\\s+${name}(?![\\w$])`).test(after)) return true;
  }
  return false;
}

function moveFix(file: SourceFile, stmt: Node, goStmt: Node, wgText: string): Fix[] {
  const text = file.text;
  const goLineStart = file.lines.lineStart(file.positionAt(goStmt.startIndex).line);
  const indent = text.slice(goLineStart, goStmt.startIndex);
  if (indent.trim() !== '') return []; // the go statement shares its line with other code
  const stmtLineStart = file.lines.lineStart(file.positionAt(stmt.startIndex).line);
  const aloneOnLine = text.slice(stmtLineStart, stmt.startIndex).trim() === '';
  const trailing = aloneOnLine ? trailingComment(file, stmt) : null;
  const end = trailing ? trailing.endIndex : stmt.endIndex;
  const restOfLine = text.slice(end, text.indexOf('\n', end) === -1 ? text.length : text.indexOf('\n', end));
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  let lines: string[];
  let del: { start: number; end: number };
  if (aloneOnLine && restOfLine.trim() === '') {
    const above = leadingComments(file, stmt);
    const start = above.length ? above[0].startIndex : stmt.startIndex;
    del = wholeLines(text, start, end);
    lines = [...above.map((c) => file.textOf(c)), file.textOf(stmt) + (trailing ? ` ${file.textOf(trailing)}` : '')];
  } else {
    // `go func() { wg.Add(1); defer wg.Done(); ... }()` on one line: remove `wg.Add(1); `.
    let e = stmt.endIndex;
    while (text[e] === ' ' || text[e] === '\t') e++;
    if (text[e] !== ';') return [];
    e++;
    while (text[e] === ' ' || text[e] === '\t') e++;
    del = { start: stmt.startIndex, end: e };
    lines = [file.textOf(stmt)];
  }
  if (lines.some((l) => l.includes('\n'))) return [];
  const insert = lines.map((l) => `${indent}${l}${eol}`).join('');
  return [{
    title: `Move ${wgText}.Add before the go statement`,
    edits: [
      { path: file.path, start: goLineStart, end: goLineStart, newText: insert },
      { path: file.path, start: del.start, end: del.end, newText: '' },
    ],
    isPreferred: true,
  }];
}

export const waitgroupAddInGoroutine: Rule = {
  id: 'waitgroup-add-in-goroutine',
  title: 'WaitGroup.Add inside the goroutine',
  doc: 'wg.Add runs inside the goroutine it accounts for, so wg.Wait() can return before the goroutine has started and counted itself. Call wg.Add before the go statement.',
  severity: 'warning',
  scope: 'declaration',
  run(pass) {
    for (const file of pass.files) {
      if (!file.contains('Done')) continue;
      for (const m of matchesOnAnchoredLines(file, ADD_STATEMENT, ANCHOR, pass.spans(file))) {
        const cap = (name: string) => m.captures.find((c) => c.name === name)?.node;
        const stmt = cap('stmt'), call = cap('call'), wg = cap('wg'), method = cap('method'), args = cap('args');
        if (!stmt || !call || !wg || !method || !args || method.text !== 'Add') continue;
        const argList = args.namedChildren.filter((a): a is Node => !!a && a.type !== 'comment');
        if (argList.length !== 1) continue;
        // wg.Add(-1) is a Done in disguise.
        if (argList[0].type === 'unary_expression' && argList[0].childForFieldName('operator')?.text === '-') continue;

        // Directly in a goroutine's literal: not in a nested literal, not in a loop of the goroutine.
        const lit = enclosingFunction(stmt);
        if (lit?.type !== 'func_literal' || !lit.childForFieldName('body')) continue;
        const goStmt = goStatementOf(lit);
        if (!goStmt) continue;
        let inLoop = false;
        for (let n = stmt.parent; n && n.id !== lit.id; n = n.parent) if (n.type === 'for_statement') inLoop = true;
        if (inLoop) continue;
        // Adding for goroutines this goroutine starts itself is the right place.
        if (startsGoroutines(file, lit.childForFieldName('body')!)) continue;

        const t = typeOfExpr(wg, file, pass.pkg);
        if (!(t?.kind === 'waitgroup' || (t?.kind === 'pointer' && t.elem?.kind === 'waitgroup'))) continue;
        const root = rootIdentifier(wg);
        if (!root) continue;
        const decl = findLocalDeclaration(root, root.text);
        const isParam = decl?.id === lit.id;
        if (decl && !isParam && within(decl, lit)) continue; // a WaitGroup of the goroutine's own
        if (isParam) {
          // go func(wg *sync.WaitGroup) {...}(&wg): the argument must come from outside.
          const params = lit.childForFieldName('parameters')?.namedChildren.filter((p) => p?.type === 'parameter_declaration') ?? [];
          let index = -1, i = 0;
          for (const p of params) {
            const names = p!.childrenForFieldName('name');
            for (const n of names.length ? names : [null]) {
              if (n?.text === root.text) index = i;
              i++;
            }
          }
          const goArgs = lit.parent!.childForFieldName('arguments')?.namedChildren.filter((a) => a && a.type !== 'comment') ?? [];
          if (index < 0 || index >= goArgs.length || params.some((p) => p!.type === 'variadic_parameter_declaration')) continue;
        }
        // The goroutine accounts for itself: it calls Done on the same WaitGroup.
        const wgText = file.textOf(wg);
        const done = new RegExp(`(?<![\\w$.])${escapeRegExp(wgText)}\\s*\\.\\s*Done\\s*\\(\\s*\\)`);
        if (!done.test(file.text.slice(lit.startIndex, lit.endIndex))) continue;

        // A handshake: the goroutine signals on a channel after its Add and the spawner receives
        // from it before going on, so the Add happens before the spawner's Wait.
        if (handshake(file, lit, stmt, goStmt, file.textOf(wg))) continue;

        let fixes: Fix[] = [];
        const body = lit.childForFieldName('body')!;
        const list = stmt.parent;
        const direct = list?.type === 'statement_list' && list.parent?.id === body.id;
        const before = direct ? list!.namedChildren.filter((s): s is Node => !!s && s.endIndex <= stmt.startIndex && s.type !== 'comment') : [];
        const argsFromOutside = query(IDENTIFIERS).captures(args).every((c) => {
          const d = findLocalDeclaration(c.node, c.node.text);
          return !d || !within(d, lit);
        });
        if (direct && !isParam && goStmt.parent?.type === 'statement_list' && argsFromOutside && !returnsFrom(before, lit)) {
          fixes = moveFix(file, stmt, goStmt, wgText);
        }
        pass.report({
          file,
          node: call,
          message: `${file.textOf(call)} runs inside the goroutine it accounts for: ${wgText}.Wait() may return before this goroutine has started; call ${wgText}.Add before the go statement`,
          related: [{ path: file.path, start: goStmt.startIndex, end: goStmt.startIndex + 2, message: 'the goroutine is started here' }],
          fixes,
        });
      }
    }
  },
};
