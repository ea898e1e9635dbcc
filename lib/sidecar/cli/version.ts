// A require the bundler resolves: in the CLI bundle (scripts/bundle.ts) the
// manifest is part of the file, so the command needs no package.json beside
// it; the unbundled modules read the one at the package root.
const manifest: unknown = require('../../../../package.json');

/** The package version. */
export function packageVersion(): string {
  return typeof manifest === 'object' && manifest !== null && 'version' in manifest && typeof manifest.version === 'string'
    ? manifest.version
    : 'unknown';
}
