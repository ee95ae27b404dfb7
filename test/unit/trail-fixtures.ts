/** A trail as its baseline knows it (logging everything, encrypted, validated, sent to CloudWatch Logs), and parts. */
import type { EventSelector } from '@aws-sdk/client-cloudtrail';
import type { TrailConfig } from '../../lib/trails.js';
import { ACCOUNT } from './fixtures.js';

export const NAME = 'org-audit-trail';
export const REGION = 'eu-west-1';
export const TRAIL_ARN = `arn:aws:cloudtrail:${REGION}:${ACCOUNT}:trail/${NAME}`;
export const BUCKET = 'org-audit-logs-123456789012';
export const OTHER_BUCKET = 'exfil-logs-123456789012';
export const KEY = 'arn:aws:kms:eu-west-1:123456789012:key/11111111-1111-4111-8111-111111111111';
export const OTHER_KEY = 'arn:aws:kms:eu-west-1:123456789012:key/22222222-2222-4222-8222-222222222222';
export const LOG_GROUP = 'arn:aws:logs:eu-west-1:123456789012:log-group:cloudtrail/org-audit:*';
export const LOG_ROLE = 'arn:aws:iam::123456789012:role/cloudtrail-to-logs';

export function management(overrides: Partial<EventSelector> = {}): EventSelector {
  return {
    ReadWriteType: 'All',
    IncludeManagementEvents: true,
    DataResources: [],
    ExcludeManagementEventSources: [],
    ...overrides,
  };
}

export function trail(overrides: Partial<TrailConfig> = {}): TrailConfig {
  return {
    name: NAME,
    trailArn: TRAIL_ARN,
    homeRegion: REGION,
    s3BucketName: BUCKET,
    s3KeyPrefix: 'audit',
    includeGlobalServiceEvents: true,
    isMultiRegionTrail: true,
    logFileValidationEnabled: true,
    cloudWatchLogsLogGroupArn: LOG_GROUP,
    cloudWatchLogsRoleArn: LOG_ROLE,
    kmsKeyId: KEY,
    isOrganizationTrail: false,
    eventSelectors: [management()],
    insightSelectors: [],
    tags: [{ Key: 'team', Value: 'security' }],
    isLogging: true,
    ...overrides,
  };
}
