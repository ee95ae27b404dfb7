/** The regions a sweep covers: the configured list, or every region enabled in the account (EC2 DescribeRegions). */
import { DescribeRegionsCommand, EC2Client } from '@aws-sdk/client-ec2';
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

export async function enabledRegions(aws: AwsClients, home: string): Promise<string[]> {
  const { Regions = [] } = await aws.client(EC2Client, home).send(new DescribeRegionsCommand({ AllRegions: false }));
  return Regions.map((r) => String(r.RegionName))
    .filter((name) => REGION.test(name))
    .sort();
}
