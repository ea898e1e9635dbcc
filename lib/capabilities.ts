// Reads this process's effective capabilities, to explain an EPERM precisely.
import { readFileSync } from 'node:fs';

/** capability(7): CAP_KILL bypasses the uid check of kill(2). */
export const CAP_KILL = 5;

export function hasEffectiveCapability(capability: number, statusText?: string): boolean {
  let text = statusText;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/self/status', 'utf8');
    } catch {
      return false;
    }
  }
  const match = /^CapEff:\s*([0-9a-f]+)$/m.exec(text);
  if (match?.[1] === undefined) return false;
  return ((BigInt(`0x${match[1]}`) >> BigInt(capability)) & 1n) === 1n;
}
