import { SharedStateFact, type Access, type Conflict, type SharedState, type SharedVar } from '../../engine/analysis/shared-state';
import { accessNode, alsoRacesWith, assumption, groupConflicts, related, selfReason, sideContext, startsOf } from '../../engine/concurrency/describe';
import { NoRewrite, rewriteAccesses, versionAtLeast } from '../../engine/concurrency/rewrite-accesses';
import { wrapInMutexFixes } from '../../engine/concurrency/wrap-in-mutex';
import { planLoadOnce } from '../../engine/concurrency/load-once';
import type { FuncUnit } from '../../engine/analysis/functions';
import { ensureImport } from '../../engine/edits';
import type { FileEdit, Fix, Rule } from '../../engine/rule';

const SWAPPABLE = new Set(['pointer', 'slice', 'map', 'interface']);

/** `cfg = newConfig` with nothing of cfg on the right: a wholesale replacement. */
function isSwap(a: Access): boolean {
  if (!a.write || a.element || a.expr.parent?.type !== 'expression_list') return false;
  const stmt = a.expr.parent.parent;
  if (stmt?.type !== 'assignment_statement' || stmt.childForFieldName('operator')?.text !== '=') return false;
  const right = stmt.childForFieldName('right');
  return !!right && !new RegExp(`(?<![\\w$.])${a.v.name}(?![\\w$])`).test(a.file.textOf(right));
}

/**
 * A package variable or shared field of pointer, slice, map or interface type that is only ever
 * replaced wholesale (element writes or read-modify-writes belong to other rules).
 */
function onlySwapped(v: SharedVar): boolean {
  if (v.kind === 'local' || !v.type || !SWAPPABLE.has(v.type.kind)) return false;
  return v.accesses.some((a) => a.write) && !v.accesses.some((a) => a.write && !isSwap(a));
}

/** A conflict this rule reports: a wholesale replacement racing with a read. */
export function isSwapRace(c: Conflict): boolean {
  return onlySwapped(c.write.v) && isSwap(c.write) && !c.other.write;
}

function capitalized(name: string): string {
  return name[0].toUpperCase() + name.slice(1);
}

/**
 * "Switch to atomic.Pointer[T]" (go.mod ≥ 1.19, pointer types) or "Switch to atomic.Value" with a
 * nil-safe accessor: every read becomes Load, every write Store, across the package.
 */
function atomicFix(state: SharedState, v: SharedVar): Fix[] {
  if (v.kind !== 'pkgvar' || !v.type || v.type.kind === 'interface') return [];
  const spec = v.decl!;
  const decl = spec.parent!;
  if (decl.type !== 'var_declaration' || spec.childrenForFieldName('name').length !== 1) return [];
  const accesses = v.accesses;
  if (accesses.some((a) => !a.unit)) return []; // read by another package-level initialiser
  const file = state.pkg.fileOf(spec)!;
  const atomic = ensureImport(file, 'sync/atomic');
  const typeText = v.type.text;
  const init = spec.childForFieldName('value')?.namedChild(0);
  const usePointer = v.type.kind === 'pointer' && versionAtLeast(state.pkg.goVersion, '1.19');
  const accessor = usePointer ? '' : (() => {
    let name = `load${capitalized(v.name)}`;
    while (state.pkg.decls.has(name)) name += '_';
    return name;
  })();
  const nilSafe = (rhs: string) => (rhs === 'nil' && !usePointer ? `(${typeText})(nil)` : rhs);
  // One load per function (per loop body), not one per field: no torn reads.
  const taken = (u: FuncUnit, n: string) => new RegExp(`(?<![\\w$])${n}(?![\\w$])`).test(u.file.text.slice(u.outermost.start, u.outermost.end)) || state.pkg.decls.has(n);
  const once = planLoadOnce(accesses.filter((a) => !a.write), accesses.filter((a) => a.write), usePointer ? `${v.name}.Load()` : `${accessor}()`,
    (u) => { let n = `${v.name}Now`; while (taken(u, n)) n += '_'; return n; });
  let edits: FileEdit[];
  try {
    edits = rewriteAccesses(v, accesses, {
      read: (expr, a) => once.localFor.get(a) ?? (usePointer ? `${expr}.Load()` : `${accessor}()`),
      assign: (expr, rhs) => `${expr}.Store(${nilSafe(rhs)})`,
    }, state.pkg.files);
  } catch (e) {
    if (e instanceof NoRewrite) return [];
    throw e;
  }
  edits.push(...once.inserts);
  const atomicType = usePointer ? `${atomic.name}.Pointer[${typeText.slice(1)}]` : `${atomic.name}.Value`;
  const lines = [`var ${v.name} ${atomicType} // holds ${typeText}; replace it with Store, never mutate what Load returns`];
  if (!usePointer) {
    lines.push('', `// ${accessor} returns the current ${v.name}, or its zero value before the first Store.`,
      `func ${accessor}() ${typeText} {`, `\tv, _ := ${v.name}.Load().(${typeText})`, '\treturn v', '}');
  }
  if (init) lines.push('', 'func init() {', `\t${v.name}.Store(${nilSafe(file.textOf(init))})`, '}');
  edits.push({ path: file.path, start: decl.startIndex, end: decl.endIndex, newText: lines.join('\n') });
  if (atomic.edit) edits.push({ ...atomic.edit, path: file.path });
  const title = usePointer ? `Switch to atomic.Pointer[${typeText.slice(1)}]` : 'Switch to atomic.Value';
  return [{ title, edits, isPreferred: true, safe: true }];
}

export const sharedVarSwap: Rule = {
  id: 'shared-var-swap',
  title: 'Shared value replaced under concurrent readers',
  doc: 'A package-level pointer, slice, map or interface is replaced wholesale (a config or rule reload) while goroutines or handlers read it, with no lock. Readers can see a half-written value. Publish it with atomic.Value or atomic.Pointer and treat it as immutable.',
  severity: 'warning',
  scope: 'package',
  requires: [SharedStateFact],
  run(pass) {
    const state = pass.get(SharedStateFact);
    for (const v of state.vars) {
      // Package-level variables, and fields of structs that goroutines or handlers share.
      if (!onlySwapped(v)) continue;
      // With no lock on v anywhere, exported methods alone are no evidence that a reader runs concurrently.
      const conflicts = state.conflicts(v, false);
      if (!conflicts.length || state.guards(v).size) continue; // locked somewhere: unguarded-access territory
      const swaps = conflicts.filter(isSwapRace).map((c) => ({ c, side: c.write }));
      let fixes: Fix[] | undefined;
      for (const { c, more, others } of groupConflicts(swaps)) {
        const { write, other } = c;
        if (!fixes) {
          // Atomic publication is preferred; where it is not offered (fields, interfaces), the mutex is.
          const atomic = atomicFix(state, v);
          fixes = [...atomic, ...wrapInMutexFixes(state, v).map((f) => ({ ...f, isPreferred: atomic.length === 0 }))];
        }
        pass.report({
          file: write.file,
          node: accessNode(write).parent?.parent ?? write.expr,
          message: `${v.name} is replaced ${sideContext(c, write)} while it is read ${sideContext(c, other)}, with no lock: readers may see a torn or stale value; publish it with atomic.Value or atomic.Pointer${selfReason(c)}${assumption(c)}`,
          related: [related(other, `read ${sideContext(c, other)}`), ...startsOf(c), ...more.map((m) => related(m, 'also replaced here')), ...alsoRacesWith(others)],
          fixes,
        });
      }
    }
  },
};
