// How the go tool sees a source tree, for every host that walks one (the CLI and the Node server,
// the web worker, the web client): which folders it leaves out, and go.mod's go directive.

/** Folders no walk enters, besides those whose name starts with `.` or `_` (the go tool ignores them). */
export const SKIPPED_DIRS: readonly string[] = ['vendor', 'testdata', 'node_modules'];

/** Whether a walk leaves out a folder of this name. */
export function skipsDir(name: string): boolean {
  return SKIPPED_DIRS.includes(name) || name.startsWith('.') || name.startsWith('_');
}

/** The glob of files in skipped folders, for file searches (vscode.workspace.findFiles). */
export const SKIPPED_DIRS_GLOB = `**/{${SKIPPED_DIRS.join(',')}}/**`;

/** The `go` directive of a go.mod text ("1.21", "1.22.3"), or '' when it has none. */
export function goDirective(goMod: string): string {
  return /^go\s+(\d+\.\d+(?:\.\d+)?)\s*$/m.exec(goMod)?.[1] ?? '';
}
