/**
 * The `n` first rows of a table in report order — largest score first, ties by key — without
 * sorting the whole table with a comparator: the scores are sorted as numbers to find the n-th
 * largest, and only the rows at or above it are sorted with the comparator. Same rows in the
 * same order as `rows.sort(compare).slice(0, n)`, in a fraction of the time for big tables
 * (a report wants the top 20 of up to 110,000 conversations).
 */

/** Report order: larger `score` first, then smaller `key` (keys are unique within a table). */
export function topRows<T>(rows: T[], n: number, score: (row: T) => number, key: (row: T) => string): T[] {
  const compare = (x: T, y: T): number => {
    const kx = key(x);
    const ky = key(y);
    return score(y) - score(x) || (kx < ky ? -1 : kx > ky ? 1 : 0);
  };
  if (rows.length <= n || n <= 0) return n <= 0 ? [] : rows.sort(compare);
  const scores = new Float64Array(rows.length);
  for (let i = 0; i < rows.length; i++) scores[i] = score(rows[i]!);
  const threshold = scores.slice().sort()[rows.length - n]!;
  const picked: T[] = [];
  for (let i = 0; i < rows.length; i++) if (scores[i]! >= threshold) picked.push(rows[i]!);
  return picked.sort(compare).slice(0, n);
}
