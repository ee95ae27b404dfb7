/** The regions a sweep covers: the configured list, or every region enabled in the account (Account ListRegions). */
import { AccountClient, paginateListRegions } from '@aws-sdk/client-account';
import type { AwsClients } from '../aws.js';

const REGION = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;

export function parseRegions(text: string | undefined): string[] | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  const regions = text
    .split(',')
    .map((region) => region.trim())
    .filter(Boolean);
  const bad = regions.find((region) => !REGION.test(region));
  if (bad) throw new Error(`region "${bad}" is not an AWS region (like eu-west-1)`);
  return [...new Set(regions)];
}

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
  return regions.filter((name) => REGION.test(name)).sort();
}
