// A stream that a reader may close early: `racelens check ./... | head -1` must end quietly,
// not with an EPIPE stack trace.
import type { Writable } from 'stream';

export class Output {
  private closed = false;

  constructor(private readonly stream: Writable) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EPIPE' && e.code !== 'ERR_STREAM_DESTROYED') throw e;
      this.closed = true; // the reader has gone: the rest of the output has nobody to read it
    });
  }

  write(text: string): void {
    if (!this.closed && text) this.stream.write(text);
  }
}
