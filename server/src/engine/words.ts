// Wording shared by the CLI and the language server: counts with the right plural, and the
// nearest known name for a mistyped one.

/** "1 package", "2 packages"; `plural` for irregular nouns. */
export function counted(n: number, noun: string, plural = `${noun}s`): string {
  return `${n} ${n === 1 ? noun : plural}`;
}

/** Levenshtein distance between two short strings. */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length];
}

/** The known name closest to `word`, when it is close enough to be a typo of it. */
export function closestName(word: string, known: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const name of known) {
    const d = distance(word, name);
    if (d < bestDistance) { best = name; bestDistance = d; }
  }
  return bestDistance <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

/** `unknown rule "x"; did you mean "y"?`, or without the question when nothing is close. */
export function unknownRuleMessage(id: string, known: Iterable<string>): string {
  const guess = closestName(id, known);
  return `unknown rule "${id}"${guess ? `; did you mean "${guess}"?` : ''}`;
}
