// Reads the sidecar's /metrics as a scraper would, into samples a test can
// look up by `name{labels}`.
import assert from 'node:assert/strict';

/** Prometheus text -> `name{labels}` -> value, for the samples (comments skipped). */
export function parseMetrics(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    samples.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return samples;
}

export async function scrape(base: string): Promise<Map<string, number>> {
  const response = await fetch(`${base}/metrics`);
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  return parseMetrics(await response.text());
}
