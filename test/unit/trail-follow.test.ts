/** Whether a trail's baseline may follow the trail as read after an accepted change: never to a weaker one. */
import { describe, expect, it } from 'vitest';
import { followVerdict, type TrailBaseline } from '../../lib/trail-baselines.js';
import { OTHER_BUCKET, trail } from './trail-fixtures.js';

const old: TrailBaseline = { config: trail(), capturedAt: '2026-12-01T05:00:00.000Z', capturedFrom: 'capture' };

describe('followVerdict', () => {
  it('follows a change that weakens nothing (another prefix, more insight)', () => {
    expect(followVerdict(old, trail({ s3KeyPrefix: 'elsewhere' }))).toEqual({ follow: true });
    expect(
      followVerdict(
        old,
        trail({ insightSelectors: [...old.config.insightSelectors, { InsightType: 'ApiErrorRateInsight' }] }),
      ),
    ).toEqual({ follow: true });
  });

  it('follows where there is no baseline to weaken', () => {
    expect(followVerdict(undefined, trail({ isLogging: false }))).toEqual({ follow: true });
  });

  it('keeps the baseline when the trail was weakened after the decision, and says what changed', () => {
    expect(followVerdict(old, trail({ isLogging: false, logFileValidationEnabled: false }))).toEqual({
      follow: false,
      why: 'the trail changed again meanwhile (logging on -> off, logFileValidationEnabled on -> off)',
    });
  });

  it('keeps the baseline when the trail now writes elsewhere', () => {
    const verdict = followVerdict(old, trail({ s3BucketName: OTHER_BUCKET }));
    expect(verdict).toEqual({ follow: false, why: expect.stringContaining(`s3BucketName`) });
  });
});
