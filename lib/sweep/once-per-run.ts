/**
 * A read of the whole state table that every region of a sweep needs (the keys in use, the trails' baselines): made
 * once per sweep run and shared by its regions' passes, where each region scanned the table again (a sweep of 17
 * regions read it 34 times). The reads live in the run's context (runSweep makes them; a guard serving the sweep
 * function's pages keeps them per run id, lib/sweep/page.ts keptRuns): a continuation, in another invocation, reads
 * again; a failed read is read again by the next pass. Without them it is read every time.
 * What the read sees is the table when the pass's first region starts: the log-group and trail passes run before the
 * keys pass, so the key usage they record is in its read; what events write during the pass is seen by the next run.
 */

/** The reads a sweep run shares, by what was read. */
export type SharedReads = Map<string, Promise<unknown>>;

export function oncePerRun<T>(what: string, reads: SharedReads | undefined, read: () => Promise<T>): Promise<T> {
  if (reads === undefined) return read();
  const kept = reads.get(what) as Promise<T> | undefined;
  if (kept !== undefined) return kept;
  const made = read();
  reads.set(what, made);
  made.catch(() => {
    if (reads.get(what) === made) reads.delete(what);
  });
  return made;
}
