// node-gyp-build ships no types; this is the one call we make.
declare module 'node-gyp-build' {
  function load(root: string): unknown;
  export = load;
}
