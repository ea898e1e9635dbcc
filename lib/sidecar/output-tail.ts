// The end of a command's output, bounded in memory and in the log: a command
// that prints a megabyte, or never prints a newline, must neither grow the
// sidecar nor flood the log. Keeps the last whole lines, each cut to a
// length, and counts what it dropped.

export class OutputTail {
  readonly #lines: string[] = [];
  #partial = '';
  #dropped = 0;

  constructor(private readonly maxLines: number, private readonly maxChars: number) {}

  /** Adds output as it arrives; lines may be split across chunks. */
  push(chunk: string): void {
    const parts = (this.#partial + chunk).split('\n');
    this.#partial = this.#cut(parts.pop() ?? '');
    for (const line of parts) this.#keep(line);
  }

  /** The lines kept (the last, unterminated one included), and how many before them were dropped. */
  finish(): { readonly lines: readonly string[]; readonly dropped: number } {
    if (this.#partial !== '') this.#keep(this.#partial);
    this.#partial = '';
    return { lines: [...this.#lines], dropped: this.#dropped };
  }

  #keep(line: string): void {
    this.#lines.push(this.#cut(line.replace(/\r$/, '')));
    if (this.#lines.length > this.maxLines) {
      this.#lines.shift();
      this.#dropped++;
    }
  }

  /** A line past maxChars keeps its start and says how much was cut. */
  #cut(line: string): string {
    return line.length <= this.maxChars ? line : `${line.slice(0, this.maxChars)}... (${line.length - this.maxChars} more characters)`;
  }
}
