/** The sweep's pure parts: rate limits, regions, the digest notice. */
import { AccountClient, ListRegionsCommand } from '@aws-sdk/client-account';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createAwsClients } from '../../lib/aws.js';
import { DEFAULT_RATE_LIMITS, parseRateLimits, rateLimited, TokenBucket } from '../../lib/sweep/rate-limit.js';
import { enabledRegions, parseRegions } from '../../lib/sweep/regions.js';
import { digestNotice, type SweepReport } from '../../lib/sweep/sweep.js';

const testClients = () => createAwsClients({ maxAttempts: 1, credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });

describe('rate limits', () => {
  it.each([
    [undefined, DEFAULT_RATE_LIMITS],
    ['', DEFAULT_RATE_LIMITS],
    ['off', undefined],
    ['DescribeLogGroups=2, *=20', { ...DEFAULT_RATE_LIMITS, DescribeLogGroups: 2, '*': 20 }],
  ])('parses %j', (text, expected) => {
    expect(parseRateLimits(text)).toEqual(expected);
  });

  it.each(['DescribeLogGroups', 'DescribeLogGroups=0', '=5', 'X=fast'])('refuses %j, naming the entry', (text) => {
    expect(() => parseRateLimits(text)).toThrow(`rate limit "${text}" is invalid`);
  });

  describe('a token bucket', () => {
    beforeEach(() => {
      vi.useFakeTimers({ now: 0 });
    });
    afterEach(() => {
      vi.useRealTimers();
    });

    /** Starts `count` takes one after another, and records the fake clock when each one is granted. */
    function takeInTurn(bucket: TokenBucket, count: number): number[] {
      const grantedAt: number[] = [];
      void (async () => {
        for (let i = 0; i < count; i++) {
          await bucket.take();
          grantedAt.push(Date.now());
        }
      })();
      return grantedAt;
    }

    it('grants a full bucket at once, then one take per 1/rate seconds', async () => {
      const grantedAt = takeInTurn(new TokenBucket(20), 30);
      await vi.advanceTimersByTimeAsync(0);
      expect(grantedAt).toEqual(Array(20).fill(0));
      await vi.advanceTimersByTimeAsync(49);
      expect(grantedAt).toHaveLength(20);
      await vi.advanceTimersByTimeAsync(1);
      expect(grantedAt).toHaveLength(21);
      await vi.advanceTimersByTimeAsync(450);
      expect(grantedAt.slice(20)).toEqual([50, 100, 150, 200, 250, 300, 350, 400, 450, 500]);
    });

    it('refills while idle, up to its rate and no more', async () => {
      const bucket = new TokenBucket(4);
      const first = takeInTurn(bucket, 4);
      await vi.advanceTimersByTimeAsync(0);
      expect(first).toEqual([0, 0, 0, 0]);
      await vi.advanceTimersByTimeAsync(10_000);
      const second = takeInTurn(bucket, 6);
      await vi.advanceTimersByTimeAsync(500);
      expect(second).toEqual([10_000, 10_000, 10_000, 10_000, 10_250, 10_500]);
    });
  });

  it('puts every call of a client through its API’s bucket in its region', async () => {
    const aws = rateLimited(testClients(), { DescribeLogGroups: 1000 });
    const client = aws.client(CloudWatchLogsClient, 'eu-west-1');
    expect(client.middlewareStack.identify()).toContainEqual(expect.stringMatching(/^driftguardRateLimit/));
    expect(aws.client(CloudWatchLogsClient, 'eu-west-1')).toBe(client);
  });

  it('leaves the clients as they are when off', () => {
    const aws = testClients();
    expect(rateLimited(aws, undefined)).toBe(aws);
  });
});

describe('regions', () => {
  it('parses a list, without duplicates', () => {
    expect(parseRegions(' eu-west-1,us-east-1 ,eu-west-1')).toEqual(['eu-west-1', 'us-east-1']);
    expect(parseRegions('')).toBeUndefined();
  });

  it('refuses a name that is not a region', () => {
    expect(() => parseRegions('eu-west-1,mars')).toThrow('region "mars" is not an AWS region');
  });

  it('lists the enabled regions, page by page', async () => {
    const account = mockClient(AccountClient);
    account
      .on(ListRegionsCommand)
      .resolvesOnce({ Regions: [{ RegionName: 'us-east-1' }], NextToken: 'next' })
      .resolvesOnce({ Regions: [{ RegionName: 'af-south-1' }] });
    expect(await enabledRegions(testClients(), 'us-east-1')).toEqual(['af-south-1', 'us-east-1']);
    expect(account.commandCalls(ListRegionsCommand)[0]?.args[0].input).toMatchObject({
      RegionOptStatusContains: ['ENABLED', 'ENABLED_BY_DEFAULT'],
    });
    account.restore();
  });
});

describe('the digest notice', () => {
  const report: SweepReport = {
    sweepId: 'sweep-1',
    startedAt: '2026-11-22T00:00:00Z',
    finishedAt: '2026-11-22T00:10:00Z',
    regions: ['us-east-1', 'eu-west-1'],
    mode: 'enforce',
    dryRun: false,
    complete: true,
    seen: { 'log-groups': 12, trails: 1 },
    counts: {
      'log-group-encryption-retention': { remediated: 3, compliant: 9 },
      'cloudtrail-trail-integrity': { 'needs-human': 1 },
    },
    first: {
      'log-group-encryption-retention#remediated': [
        {
          rule: 'log-group-encryption-retention',
          outcome: 'remediated',
          region: 'eu-west-1',
          resource: '/a',
          reason: 'retention: none',
          actions: ['retention none -> 365 days'],
        },
      ],
      'log-group-encryption-retention#compliant': [],
    },
  };

  it('counts per rule and outcome, lists the first items, and says where the full report is', () => {
    const notice = digestNotice(report, '123456789012');
    expect(notice.subject).toBe('[driftguard] sweep of 2 regions: 3 fixed, 1 need a human, 0 failed');
    expect(notice.severity).toBe('high');
    expect(notice.attributes).toEqual({ severity: 'high', rule: 'sweep', outcome: 'digest', account: '123456789012' });
    expect(notice.text).toContain('log-group-encryption-retention: 3 remediated, 9 compliant');
    expect(notice.text).toContain('  - eu-west-1 /a: retention: none (retention none -> 365 days)');
    expect(notice.text).not.toContain('#compliant:');
    expect(notice.text).toContain('npm run sweep -- --json');
  });

  it('is high when something of high severity was fixed, low when only lesser things were', () => {
    const quiet = { ...report, counts: { x: { remediated: 2 } } };
    expect(digestNotice({ ...quiet, severest: 'medium' }, '123456789012').severity).toBe('low');
    expect(digestNotice({ ...quiet, severest: 'high' }, '123456789012').severity).toBe('high');
    expect(digestNotice({ ...quiet, severest: 'critical' }, '123456789012').attributes.severity).toBe('high');
  });

  it('says what it would fix in notify mode', () => {
    const notify = { ...report, mode: 'notify' as const, counts: { x: { planned: 4 } } };
    expect(digestNotice(notify, '123456789012').subject).toBe(
      '[driftguard] sweep of 2 regions: 4 to fix, 0 need a human, 0 failed',
    );
  });
});
