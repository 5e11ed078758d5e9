/** Most pieces and tasks in one batch (larger lists are run in several batches). */
export const MAX_PIECES = 4096;
export const MAX_TASKS = 256;

/**
 * A node: module's specifier that bundlers leave alone (a literal in import() is resolved at
 * bundle time, and fails for browser targets); only called where Node's modules exist.
 */
export function nodeModule(name: string): string {
  return name;
}
