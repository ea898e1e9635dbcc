// node-gyp-build ships no types; these are the calls we make.
declare module 'node-gyp-build' {
  /** Loads the addon for `root`: build/Release, build/Debug, then prebuilds/ (only prebuilds/ under PREBUILDS_ONLY=1). */
  function load(root: string): unknown;
  namespace load {
    /** The file `load(root)` would require, without loading it. */
    function path(root: string): string;
  }
  export = load;
}
