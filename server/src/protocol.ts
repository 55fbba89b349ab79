// The messages between the extension's clients and the language server, beyond LSP itself.

/** Server → client notification: the counts behind the status-bar item. */
export const STATUS = 'racelens/status';

export interface Status {
  state: 'scanning' | 'ready' | 'disabled';
  errors: number;
  warnings: number;
  infos: number;
  /** Open files whose findings are from before their last edits: being re-checked (absent from older servers). */
  stale?: number;
}

// Requests the browser server sends its client to read the workspace: a web worker has no file
// system, so the client answers them with vscode.workspace.fs. URIs are strings throughout.

/**
 * [uri, type] entries of a directory, or null when it does not exist; type is vscode.FileType
 * (1 file, 2 directory, 64 symlink). Full URIs, spelled by the client as VS Code spells them.
 */
export const READ_DIRECTORY = 'racelens/readDirectory';
/** { mtime, size } of a file, or null when it does not exist. */
export const STAT = 'racelens/stat';
/** A file's text (UTF-8), or null when it does not exist. */
export const READ_FILE = 'racelens/readFile';
/** Every .go file under a workspace folder, vendor/, testdata/ and node_modules/ left out. */
export const FIND_GO_FILES = 'racelens/findGoFiles';

export interface UriParams { uri: string }

/**
 * Where the grammars are, passed in initializationOptions besides the settings: a URL the worker
 * can fetch (vscode.dev, github.dev), or else the .wasm files themselves in base64 (an extension
 * installed on a remote, e.g. code-server, whose vscode-remote: URIs a worker cannot fetch).
 */
export interface BrowserInitOptions {
  grammarsUri?: string;
  grammars?: { runtime: string; go: string };
}

export const GRAMMAR_FILES = { runtime: 'web-tree-sitter.wasm', go: 'tree-sitter-go.wasm' } as const;
