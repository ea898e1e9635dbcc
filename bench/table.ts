// Results as Markdown tables: readable in a terminal, pasted as-is into
// docs/benchmarks.md.

export type Cell = string | number | undefined;

export interface Table {
  readonly title: string;
  readonly columns: readonly string[];
  readonly rows: readonly (readonly Cell[])[];
  /** Lines printed under the table: what was measured and how. */
  readonly notes?: readonly string[];
}

export function formatNumber(value: number, digits = 2): string {
  if (!Number.isFinite(value)) return '-';
  if (Math.abs(value) >= 1000) return Math.round(value).toLocaleString('en-US');
  return value.toFixed(digits);
}

/** Kibibytes (as /proc gives memory) in MiB, one decimal; undefined reads as not measured. */
export function formatMiB(kb: number | undefined): string {
  return formatNumber((kb ?? Number.NaN) / 1024, 1);
}

/** Bytes in MB as podman and registries count them (10^6), so a total reads as `podman images` shows it; `digits` decimals. */
export function formatMB(bytes: number, digits = 2): string {
  return formatNumber(bytes / 1e6, digits);
}

function cellText(cell: Cell): string {
  if (cell === undefined) return '-';
  if (typeof cell === 'string') return cell;
  return Number.isInteger(cell) ? formatNumber(cell, 0) : formatNumber(cell);
}

export function renderTable(table: Table): string {
  const header = table.columns;
  const body = table.rows.map((row) => header.map((_, index) => cellText(row[index])));
  const widths = header.map((title, index) => Math.max(title.length, ...body.map((row) => (row[index] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    `| ${cells.map((cell, index) => (index === 0 ? cell.padEnd(widths[index] ?? 0) : cell.padStart(widths[index] ?? 0))).join(' | ')} |`;
  const rule = `|${widths.map((width, index) => (index === 0 ? `-${'-'.repeat(width)}-` : `-${'-'.repeat(width)}:`)).join('|')}|`;
  const out = [`### ${table.title}`, '', line(header), rule, ...body.map(line)];
  if (table.notes !== undefined && table.notes.length > 0) out.push('', ...table.notes);
  return out.join('\n');
}
