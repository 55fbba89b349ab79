// What happened to a file since a mark, for incremental checking (incremental.ts): its edits and
// reparses. Bounded: a reader that falls too far behind is told so, and checks the whole file.

/** An edit as the file applied it (offsets clamped). */
export interface LoggedEdit { kind: 'edit'; start: number; end: number; text: string }
/** An incremental reparse: the tree is a new one, whose subtrees may or may not be the old ones. */
export interface LoggedReparse { kind: 'reparse' }
export type LoggedChange = LoggedEdit | LoggedReparse;

const LIMIT = 512;

export class ChangeLog {
  private entries: LoggedChange[] = [];
  /** How many changes were logged before entries[0]. */
  private first = 0;

  /** The number of changes so far: a mark for since(). */
  get count(): number { return this.first + this.entries.length; }

  /** The changes since count was `mark`, oldest first; undefined when they are no longer known. */
  since(mark: number): readonly LoggedChange[] | undefined {
    if (mark < this.first || mark > this.count) return undefined;
    return this.entries.slice(mark - this.first);
  }

  add(change: LoggedChange): void {
    this.entries.push(change);
    if (this.entries.length > LIMIT) {
      const dropped = this.entries.length - LIMIT / 2;
      this.entries.splice(0, dropped);
      this.first += dropped;
    }
  }

  /** A change nobody can follow (a new text out of nowhere): every earlier mark becomes unknown. */
  reset(): void {
    this.first = this.count + 1;
    this.entries = [];
  }
}
