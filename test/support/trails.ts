/** Trails on the emulator as someone would create them: a bucket CloudTrail may write to, and no baseline yet. */
import { readFileSync } from 'node:fs';
import { createAwsClients } from '../../lib/aws.js';
import type { CloudTrailEvent } from '../../lib/envelope.js';
import { loadSettings } from '../../lib/settings.js';
import { trailReenactments } from '../../scripts/reenact/trails.js';
import { testEndpoint } from './emulator.js';

/** A single-region trail named `name` in `region` (the CreateTrail reenactment, without the engine running). */
export async function trailWithoutBaseline(region: string, name: string, account = '123456789012') {
  const event = JSON.parse(readFileSync('events/cloudtrail-CreateTrail.json', 'utf8')) as CloudTrailEvent;
  event.detail.awsRegion = region;
  event.detail.requestParameters = {
    name,
    s3BucketName: `${name}-logs-${account}`,
    isMultiRegionTrail: false,
    includeGlobalServiceEvents: true,
  };
  await trailReenactments['aws.cloudtrail:CreateTrail']?.(event, {
    endpoint: testEndpoint(),
    account,
    notes: [],
    engine: { settings: loadSettings(), aws: createAwsClients() },
    keys: new Map(),
  });
}
