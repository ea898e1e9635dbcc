// The end of a command's output, bounded in memory and in the log: a command
// that prints a megabyte, or never prints a newline, must neither grow the
// sidecar nor flood the log. Keeps the last whole lines, each cut to a
// length, and counts what it dropped.

export class OutputTail {
  readonly #lines: string[] = [];
  /** The start of the line being received, at most maxChars + 1 characters, and its whole length. */
  #partial = '';
  #partialLength = 0;
  #dropped = 0;

  constructor(private readonly maxLines: number, private readonly maxChars: number) {}

  /** Adds output as it arrives; lines may be split across chunks. */
  push(chunk: string): void {
    chunk.split('\n').forEach((piece, index) => {
      if (index > 0) this.#endLine();
      this.#partialLength += piece.length;
      const room = this.maxChars + 1 - this.#partial.length;
      if (room > 0) this.#partial += piece.slice(0, room);
    });
  }

  /** The lines kept (the last, unterminated one included), and how many before them were dropped. */
  finish(): { readonly lines: readonly string[]; readonly dropped: number } {
    if (this.#partialLength > 0) this.#endLine();
    return { lines: [...this.#lines], dropped: this.#dropped };
  }

  #endLine(): void {
    let text = this.#partial;
    let length = this.#partialLength;
    if (length === text.length && text.endsWith('\r')) {
      text = text.slice(0, -1);
      length--;
    }
    // A line past maxChars keeps its start and says how much was cut.
    this.#lines.push(length <= this.maxChars ? text : `${text.slice(0, this.maxChars)}... (${length - this.maxChars} more characters)`);
    if (this.#lines.length > this.maxLines) {
      this.#lines.shift();
      this.#dropped++;
    }
    this.#partial = '';
    this.#partialLength = 0;
  }
}
