import { SharedStateFact, type Access, type SharedState, type SharedVar } from '../../engine/analysis/shared-state';
import { accessNode, alsoRacesWith, assumption, groupConflicts, related, selfConflict, selfReason, sideContext, startsOf } from '../../engine/concurrency/describe';
import { NoRewrite, rewriteAccesses, versionAtLeast } from '../../engine/concurrency/rewrite-accesses';
import { ensureImport } from '../../engine/edits';
import type { FileEdit, Fix, Rule } from '../../engine/rule';

/** Go integer type → the sync/atomic type (Go 1.19+) and function suffix. */
const ATOMIC: Record<string, { type: string; fn: string; signed: boolean }> = {
  int32: { type: 'Int32', fn: 'Int32', signed: true },
  int64: { type: 'Int64', fn: 'Int64', signed: true },
  uint32: { type: 'Uint32', fn: 'Uint32', signed: false },
  uint64: { type: 'Uint64', fn: 'Uint64', signed: false },
  uintptr: { type: 'Uintptr', fn: 'Uintptr', signed: false },
  int: { type: 'Int64', fn: '', signed: true },
};

function isCounterUpdate(a: Access): boolean {
  const p = a.expr.parent;
  if (p?.type === 'inc_statement' || p?.type === 'dec_statement') return true;
  const stmt = p?.type === 'expression_list' ? p.parent : null;
  return stmt?.type === 'assignment_statement' && /^[-+]=$/.test(stmt.childForFieldName('operator')?.text ?? '');
}

/**
 * atomic.Int64 and friends when go.mod says 1.19+, else atomic.AddInt64(&n, 1) with matching
 * types. Declarations with an initial value, unsigned decrements and plain `int` without typed
 * atomics get no fix.
 */
function atomicCounterFix(state: SharedState, v: SharedVar): Fix[] {
  const kind = ATOMIC[v.type!.text];
  const typed = versionAtLeast(state.pkg.goVersion, '1.19');
  if (!kind || (!typed && !kind.fn)) return [];
  const accesses = v.accesses;
  if (accesses.some((a) => !a.unit)) return [];
  const declFile = state.pkg.fileOf(v.decl!)!;
  const edits: FileEdit[] = [];
  const atomicName = (file: Access['file']) => {
    const imp = ensureImport(file, 'sync/atomic');
    if (imp.edit && !edits.some((e) => e.path === file.path && e.start === imp.edit!.start && e.newText === imp.edit!.newText)) edits.push({ ...imp.edit, path: file.path });
    return imp.name;
  };
  const isInt = v.type!.text === 'int';
  try {
    edits.push(...rewriteAccesses(v, accesses, typed ? {
      read: (e) => (isInt ? `int(${e}.Load())` : `${e}.Load()`),
      assign: (e, rhs) => `${e}.Store(${isInt ? `int64(${rhs})` : rhs})`,
      update: (e, op, k) => {
        if (op === '-' && !kind.signed) throw new NoRewrite('unsigned decrement');
        const amount = isInt && k !== '1' ? `int64(${k})` : k;
        return `${e}.Add(${op === '-' ? (/^[\w.]+$/.test(amount) ? `-${amount}` : `-(${amount})`) : amount})`;
      },
    } : {
      read: (e, a) => `${atomicName(a.file)}.Load${kind.fn}(&${e})`,
      assign: (e, rhs, a) => `${atomicName(a.file)}.Store${kind.fn}(&${e}, ${rhs})`,
      update: (e, op, k, a) => {
        if (op === '-' && !kind.signed) throw new NoRewrite('unsigned decrement');
        return `${atomicName(a.file)}.Add${kind.fn}(&${e}, ${op === '-' ? (/^[\w.]+$/.test(k) ? `-${k}` : `-(${k})`) : k})`;
      },
    }, state.pkg.files));
  } catch (e) {
    if (e instanceof NoRewrite) return [];
    throw e;
  }
  if (typed) {
    // The declaration's type becomes the atomic type; an initial value has nowhere to go.
    const typeNode = v.decl!.childForFieldName('type');
    if (!typeNode || v.decl!.childForFieldName('value') || v.decl!.childrenForFieldName('name').length !== 1) return [];
    // gofmt aligns trailing comments of neighbouring lines by type width: leave those alone.
    const line = declFile.positionAt(typeNode.startIndex).line;
    const near = declFile.text.slice(declFile.lines.lineStart(line - 4), declFile.lines.lineStart(line + 5));
    if (/\S[ \t]+\/\//.test(near)) return [];
    const name = atomicName(declFile);
    edits.push({ path: declFile.path, start: typeNode.startIndex, end: typeNode.endIndex, newText: `${name}.${kind.type}` });
  }
  const title = typed ? `Use atomic.${kind.type}` : `Use atomic.Add${kind.fn}`;
  return [{ title, edits, isPreferred: true, safe: true }];
}

export const nonAtomicCounter: Rule = {
  id: 'non-atomic-counter',
  title: 'Counter updated without synchronisation',
  doc: 'n++ or n += k on a shared integer from goroutines or handlers, with no lock: concurrent increments are lost. Use sync/atomic (atomic.Int64, or atomic.AddInt64 before Go 1.19).',
  severity: 'warning',
  scope: 'package',
  requires: [SharedStateFact],
  run(pass) {
    const state = pass.get(SharedStateFact);
    for (const v of state.vars) {
      if (v.kind === 'local' || v.type?.kind !== 'basic' || !(v.type.text in ATOMIC)) continue;
      const conflicts = state.conflicts(v);
      if (!conflicts.length || state.guards(v).size) continue; // locked elsewhere: unguarded-access reports it
      const updates = conflicts.filter((c) => isCounterUpdate(c.write)).map((c) => ({ c, side: c.write }));
      let fixes: Fix[] | undefined;
      for (const { c, more, others } of groupConflicts(updates)) {
        const { write, other } = c;
        fixes ??= atomicCounterFix(state, v);
        pass.report({
          file: write.file,
          node: accessNode(write).parent ?? write.expr,
          message: (selfConflict(c)
            ? `${v.name} is updated ${sideContext(c, write)}, which runs concurrently with itself, without a lock or atomic: increments are lost`
            : `${v.name} is updated ${sideContext(c, write)} while it is ${other.write ? 'updated' : 'read'} ${sideContext(c, other)}, without a lock or atomic: updates are lost`) + selfReason(c) + assumption(c),
          related: [related(other, `${other.write ? 'conflicting update' : 'conflicting read'} ${sideContext(c, other)}`), ...startsOf(c), ...more.map((m) => related(m, 'also updated here')), ...alsoRacesWith(others)],
          fixes,
        });
      }
    }
  },
};
