/** The note the log-lines fixture gives line `i`: some non-ASCII text; one in 1,000 is longer than the logger's whole buffer. */
export function noteOf(i: number): string | undefined {
  if (i % 100 !== 7) return undefined;
  return 'é€😀'.repeat(i % 1000 === 7 ? 30_000 : 10 + (i % 17));
}
