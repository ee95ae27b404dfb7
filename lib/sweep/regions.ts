/** The regions a sweep covers: the configured list, or every region enabled in the account (Account ListRegions). */
import { AccountClient, paginateListRegions } from '@aws-sdk/client-account';
import type { AwsClients } from '../aws.js';
import { REGION_PATTERN } from '../settings.js';

// The list's reader lives with the settings that use it (DRIFTGUARD_FORWARD_REGIONS); the CLI and sweep use it here.
export { parseRegions } from '../settings.js';

/** Enabled and enabled-by-default regions (opted-in ones included, disabled ones not). */
export async function enabledRegions(aws: AwsClients, home: string): Promise<string[]> {
  const regions: string[] = [];
  const pages = paginateListRegions(
    { client: aws.client(AccountClient, home) },
    { RegionOptStatusContains: ['ENABLED', 'ENABLED_BY_DEFAULT'] },
  );
  for await (const page of pages) {
    for (const region of page.Regions ?? []) if (region.RegionName) regions.push(region.RegionName);
  }
  return regions.filter((name) => REGION_PATTERN.test(name)).sort();
}
