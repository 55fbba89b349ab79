// Which files racelens reads at all, and what it says about the others. Shared by every host.

/** Files larger than this are skipped: they are generated tables, not code a person races on. */
export const MAX_FILE_BYTES = 5 * 1024 * 1024;

/** Why a file's bytes are not checked, or undefined when they are. */
export function skipReason(size: number, hasNul: boolean): string | undefined {
  if (size > MAX_FILE_BYTES) return `skipped: ${(size / 1048576).toFixed(1)} MB is over the ${MAX_FILE_BYTES / 1048576} MB limit`;
  if (hasNul) return 'skipped: binary file (contains NUL bytes)';
  return undefined;
}
