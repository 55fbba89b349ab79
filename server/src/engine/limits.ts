// Which files racelens reads at all, and what it says about the others. Shared by every host.

/** Files larger than this are skipped: they are generated tables, not code a person races on. */
export const MAX_FILE_BYTES = 5 * 1024 * 1024;

/** Why a file of `size` (bytes, or characters of a text in memory) is too large to check. */
export function tooLarge(size: number): string | undefined {
  return size > MAX_FILE_BYTES ? `${(size / 1048576).toFixed(1)} MB is over the ${MAX_FILE_BYTES / 1048576} MB limit` : undefined;
}

/** Why a file's bytes are not checked, or undefined when they are. */
export function skipReason(size: number, hasNul: boolean): string | undefined {
  const large = tooLarge(size);
  if (large) return `skipped: ${large}`;
  if (hasNul) return 'skipped: binary file (contains NUL bytes)';
  return undefined;
}
