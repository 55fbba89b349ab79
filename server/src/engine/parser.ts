// Loads web-tree-sitter and the Go grammar once; hands out parsers.
import { Parser, Language, Query } from 'web-tree-sitter';

let goLanguage: Language | undefined;

export interface GrammarSource {
  /** Where web-tree-sitter finds `web-tree-sitter.wasm` (a path in Node, a URL in a browser). */
  locateRuntime(fileName: string): string;
  /** The bytes of `web-tree-sitter.wasm`, when the host has them rather than a location. */
  runtime?: Uint8Array;
  /** The Go grammar: a path, URL or the bytes of `tree-sitter-go.wasm`. */
  goGrammar: string | Uint8Array;
}

export async function initGo(source: GrammarSource): Promise<Language> {
  if (goLanguage) return goLanguage;
  await Parser.init({ locateFile: (name: string) => source.locateRuntime(name), ...(source.runtime && { wasmBinary: source.runtime }) });
  goLanguage = await Language.load(source.goGrammar);
  return goLanguage;
}

export function go(): Language {
  if (!goLanguage) throw new Error('racelens: initGo() must be awaited before parsing');
  return goLanguage;
}

export function newGoParser(): Parser {
  const parser = new Parser();
  parser.setLanguage(go());
  return parser;
}

const compiled = new Map<string, Query>();

/** A query compiled once per process and reused by every file and rule. */
export function query(source: string): Query {
  let q = compiled.get(source);
  if (!q) {
    q = new Query(go(), source);
    compiled.set(source, q);
  }
  return q;
}
