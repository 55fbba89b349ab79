// The engine's public surface. Plain library: no LSP, no file system.
export { analyze, type AnalysisResult, type RuleFailure } from './analyze';
export { Package, groupIntoPackages } from './package';
export { initGo, newGoParser, type GrammarSource } from './parser';
export type { Finding, Fix, FileEdit, Rule, Severity } from './rule';
export { SourceFile, type TextChange } from './source-file';
export { applyEdits, editsOverlap, LineIndex, type Position, type Range, type TextEdit } from './text';
