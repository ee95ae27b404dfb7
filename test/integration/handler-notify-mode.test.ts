/**
 * Notify mode (DRIFTGUARD_MODE=notify) through each guard's handler, for every rule: no write but the engine's own
 * records (its idempotency record, the SNS publish), one "planned" notice naming what would be done, and the
 * resource read back from the emulator unchanged.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { freshEngine, readNotices } from '../support/emulator.js';
import {
  CallRecorder,
  contextFor,
  guardHandler,
  isEventRecord,
  outsideStateTable,
  stateTableItems,
  writeCalls,
} from '../support/handler-harness.js';
import { MFA_RELEASE_SCENARIO, RULE_SCENARIOS } from '../support/rule-scenarios.js';

const operation = (api: string) => api.split(':')[1];

describe.each([...RULE_SCENARIOS, MFA_RELEASE_SCENARIO])('notify mode through the handler: $label', (scenario) => {
  beforeEach(async () => {
    await freshEngine({ DRIFTGUARD_MODE: 'notify' });
  });

  it('writes nothing, sends one planned notice naming the fix, and leaves the resource as it was', async () => {
    // Prepare
    const event = await scenario.prepare();
    // What setting up sent (the release's quarantine, made in enforce mode) is not this event's notice.
    await readNotices();
    const before = await scenario.readState(event);
    const recordsBefore = (await stateTableItems()).filter((item) => !isEventRecord(item));
    const recorder = new CallRecorder();

    // Act: the handler reads DRIFTGUARD_MODE at creation, as a cold start does.
    const result = await guardHandler(scenario.guard, recorder)(event, contextFor(scenario.guard, event));

    // Assess
    expect(result.outcome).toBe('planned');
    expect(result.actions.map(({ api }) => operation(api))).toContain(operation(scenario.fix));
    const writes = writeCalls(recorder.calls);
    expect(outsideStateTable(writes)).toEqual(['SNS:Publish']);
    // The table's writes are the engine's own records of this event only: nothing else in it changed.
    expect((await stateTableItems()).filter((item) => !isEventRecord(item))).toEqual(recordsBefore);
    const notices = await readNotices();
    expect(notices).toHaveLength(1);
    const [notice] = notices;
    expect(notice?.attributes.outcome).toBe('planned');
    expect(notice?.subject).toContain('would do:');
    expect(notice?.document).toMatchObject({ outcome: 'planned', event: { id: event.detail.eventID } });
    const planned = (notice?.document.actions ?? []) as { api: string }[];
    expect(planned.map(({ api }) => api)).toEqual(result.actions.map(({ api }) => api));
    expect(await scenario.readState(event)).toEqual(before);
    expect(scenario.isFixed(before)).toBe(false);
  });
});
