// Imported first by main.ts: the flags are in force before any other module
// of the CLI runs (v8-flags.ts says which and why).
import { applyV8Flags } from './v8-flags';

applyV8Flags();
