// Go tools count columns in bytes of UTF-8; the engine (like LSP and web-tree-sitter) counts
// UTF-16 code units. These convert a file's UTF-16 positions and offsets to bytes for output.
import { LineIndex, type Position } from '../engine/text';

interface Indexed { text: string; lines: LineIndex; lineBytes: number[] }

export class ByteColumns {
  private readonly files = new Map<string, Indexed | undefined>();

  /** `readText` gives a file's text as analysed, or undefined when it cannot be read. */
  constructor(private readonly readText: (path: string) => string | undefined) {}

  private indexed(path: string): Indexed | undefined {
    if (!this.files.has(path)) {
      const text = this.readText(path);
      this.files.set(path, text === undefined ? undefined : { text, lines: new LineIndex(text), lineBytes: [] });
    }
    return this.files.get(path);
  }

  /** The byte offset of a line's start, counted once per line and remembered. */
  private lineStartByte(file: Indexed, line: number): number {
    const known = file.lineBytes;
    if (known[0] === undefined) known[0] = 0;
    for (let l = known.length; l <= line; l++) {
      known[l] = known[l - 1] + Buffer.byteLength(file.text.slice(file.lines.lineStart(l - 1), file.lines.lineStart(l)));
    }
    return known[line];
  }

  /** The 1-based byte column of a 0-based UTF-16 position (the UTF-16 one when the file is gone). */
  column(path: string, pos: Position): number {
    const file = this.indexed(path);
    if (!file) return pos.character + 1;
    const start = file.lines.lineStart(pos.line);
    return Buffer.byteLength(file.text.slice(start, start + pos.character)) + 1;
  }

  /** The 0-based byte offset of a UTF-16 offset. */
  offset(path: string, utf16Offset: number): number {
    const file = this.indexed(path);
    if (!file) return utf16Offset;
    const pos = file.lines.positionAt(utf16Offset);
    return this.lineStartByte(file, pos.line) + this.column(path, pos) - 1;
  }
}
