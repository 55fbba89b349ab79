// What the language server needs from where it runs: Node (files on disk, worker threads) or a
// browser web worker (files read through the client's workspace.fs). The server code itself
// imports neither.
import type { LoadedConfig } from '../engine/config';
import type { Finding } from '../engine/rule';

/** A file as racelens reads it: its text, or why it is not checked (too large, binary). */
export interface ReadFile { text?: string; skipped?: string }

export interface FileStamp { mtime: number; size: number }

/** Findings of one directory of closed files, analysed off the server's thread. */
export interface ClosedDirResult { dir: string; paths: string[]; findings: Finding[]; errors: string[] }

export interface ServerHost {
  /** Where the server runs, for the log: "Node" or "a web worker". */
  readonly runsIn: string;
  /** Loads web-tree-sitter and the Go grammar; `initializationOptions` may say where it is. */
  initGo(initializationOptions: unknown): Promise<unknown>;
  /** The path the engine uses for a document (a file path in Node, the URI itself in a browser). */
  toPath(uri: string): string;
  toUri(path: string): string;
  /** Whether a document lives in a workspace (and so has sibling files and a directory). */
  inWorkspace(uri: string): boolean;
  dirname(path: string): string;
  /** `path` relative to `root` with `/` separators, for exclude globs; undefined when outside it. */
  relative(root: string, path: string): string | undefined;
  /** The .go files directly inside a directory (full paths); [] when it is gone. */
  goFilesIn(dir: string): Promise<string[]>;
  /** Every .go file under a workspace folder, skipping vendor/, testdata/ and hidden folders. */
  goFilesUnder(folderUri: string): Promise<string[]>;
  stat(path: string): Promise<FileStamp | undefined>;
  /** A file's text, or why it is not checked (binary, gone); callers have checked its size. */
  readGoFile(path: string): Promise<ReadFile>;
  /** The `go` directive of the nearest go.mod at or above `dir`. */
  goVersionFor(dir: string): Promise<string | undefined>;
  /** The nearest .racelens.json at or above `dir`; throws with a message a user can act on. */
  loadConfig(dir: string): Promise<LoadedConfig>;
  /** Forgets cached go.mod versions and configs (one of them changed on disk). */
  forgetCaches(): void;
  /**
   * Analyses directories of closed files (their .go files, by directory) in parallel (Node worker
   * threads), calling back per directory. Absent where there are no threads: the server then
   * analyses them itself.
   */
  analyzeClosedDirs?(dirs: ReadonlyMap<string, readonly string[]>, ruleIds: readonly string[], onResult: (r: ClosedDirResult) => void): Promise<void>;
}
