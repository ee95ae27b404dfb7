/** The engine's records need the state table: thrown when DRIFTGUARD_STATE_TABLE is not set. */
export class StateTableMissingError extends Error {
  override name = 'StateTableMissingError';
  constructor(what = 'trail baselines') {
    super(`DRIFTGUARD_STATE_TABLE is not set: ${what} are kept in the state table`);
  }
}
