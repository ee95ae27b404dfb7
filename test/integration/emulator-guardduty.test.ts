/**
 * The emulator's GuardDuty (scripts/emulator/guardduty_patches.py) answers as AWS does, through the SDK: one detector
 * per region, AWS's default features, UpdateDetector merging features, DeleteDetector of an unknown id refused, and the
 * calls moto lacks (ListFilters, IP sets, publishing destinations, administrator, disassociation).
 */
import {
  CreateDetectorCommand,
  CreateFilterCommand,
  CreateIPSetCommand,
  CreatePublishingDestinationCommand,
  DeleteDetectorCommand,
  DeletePublishingDestinationCommand,
  DescribePublishingDestinationCommand,
  DisassociateFromAdministratorAccountCommand,
  EnableOrganizationAdminAccountCommand,
  GetAdministratorAccountCommand,
  GetDetectorCommand,
  GetIPSetCommand,
  GuardDutyClient,
  ListFiltersCommand,
  ListPublishingDestinationsCommand,
  UpdateDetectorCommand,
  UpdateIPSetCommand,
} from '@aws-sdk/client-guardduty';
import { describe, expect, it } from 'vitest';
import { emulatorClientConfig } from '../../scripts/provision.js';
import { testEndpoint } from '../support/emulator.js';

/** Each test in a region of its own: no reset, no leftovers. */
const client = (region: string) => new GuardDutyClient(emulatorClientConfig(testEndpoint(), region));

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: Error & { $metadata?: { httpStatusCode?: number } }) => ({
      name: error.name,
      message: error.message,
      status: error.$metadata?.httpStatusCode,
    }),
  );

describe('GuardDuty on the emulator', () => {
  it('one detector per region, default features, merged updates, unknown ids refused', async () => {
    const gd = client('eu-north-1');
    const { DetectorId } = await gd.send(
      new CreateDetectorCommand({ Enable: true, Features: [{ Name: 'S3_DATA_EVENTS', Status: 'DISABLED' }] }),
    );
    expect(await failure(gd.send(new CreateDetectorCommand({ Enable: true })))).toEqual({
      name: 'BadRequestException',
      message: 'The request is rejected because a detector already exists for the current account.',
      status: 400,
    });
    await gd.send(
      new UpdateDetectorCommand({ DetectorId, Features: [{ Name: 'RUNTIME_MONITORING', Status: 'ENABLED' }] }),
    );
    const { Features = [] } = await gd.send(new GetDetectorCommand({ DetectorId }));
    // GetDetector lists the foundational sources too (always on), beside the features the write calls accept.
    expect(Object.fromEntries(Features.map((f) => [f.Name, f.Status]))).toEqual({
      CLOUD_TRAIL: 'ENABLED',
      DNS_LOGS: 'ENABLED',
      FLOW_LOGS: 'ENABLED',
      S3_DATA_EVENTS: 'DISABLED',
      EKS_AUDIT_LOGS: 'ENABLED',
      EBS_MALWARE_PROTECTION: 'ENABLED',
      RDS_LOGIN_EVENTS: 'ENABLED',
      LAMBDA_NETWORK_LOGS: 'ENABLED',
      RUNTIME_MONITORING: 'ENABLED',
    });
    await gd.send(new DeleteDetectorCommand({ DetectorId }));
    expect(await failure(gd.send(new DeleteDetectorCommand({ DetectorId })))).toEqual({
      name: 'BadRequestException',
      message: 'The request is rejected because the input detectorId is not owned by the current account.',
      status: 400,
    });
  });

  it('filters, IP sets, publishing destinations, the administrator and disassociation', async () => {
    const gd = client('eu-south-1');
    const { DetectorId } = await gd.send(new CreateDetectorCommand({ Enable: true }));
    await gd.send(
      new CreateFilterCommand({ DetectorId, Name: 'quiet', Action: 'ARCHIVE', FindingCriteria: { Criterion: {} } }),
    );
    expect((await gd.send(new ListFiltersCommand({ DetectorId }))).FilterNames).toEqual(['quiet']);

    const { IpSetId } = await gd.send(
      new CreateIPSetCommand({
        DetectorId,
        Name: 'office',
        Format: 'TXT',
        Location: 'https://x/ips.txt',
        Activate: false,
      }),
    );
    await gd.send(new UpdateIPSetCommand({ DetectorId, IpSetId, Activate: true }));
    expect(await gd.send(new GetIPSetCommand({ DetectorId, IpSetId }))).toMatchObject({
      Name: 'office',
      Status: 'ACTIVE',
    });

    const properties = {
      DestinationArn: 'arn:aws:s3:::findings',
      KmsKeyArn: 'arn:aws:kms:eu-south-1:123456789012:key/k',
    };
    const { DestinationId } = await gd.send(
      new CreatePublishingDestinationCommand({ DetectorId, DestinationType: 'S3', DestinationProperties: properties }),
    );
    expect((await gd.send(new ListPublishingDestinationsCommand({ DetectorId }))).Destinations).toEqual([
      { DestinationId, DestinationType: 'S3', Status: 'PUBLISHING' },
    ]);
    expect(
      (await gd.send(new DescribePublishingDestinationCommand({ DetectorId, DestinationId }))).DestinationProperties,
    ).toEqual(properties);
    await gd.send(new DeletePublishingDestinationCommand({ DetectorId, DestinationId }));
    expect((await gd.send(new ListPublishingDestinationsCommand({ DetectorId }))).Destinations).toEqual([]);

    await gd.send(new EnableOrganizationAdminAccountCommand({ AdminAccountId: '210987654321' }));
    expect((await gd.send(new GetAdministratorAccountCommand({ DetectorId }))).Administrator).toMatchObject({
      AccountId: '210987654321',
      RelationshipStatus: 'ENABLED',
    });
    await gd.send(new DisassociateFromAdministratorAccountCommand({ DetectorId }));
    expect((await gd.send(new GetAdministratorAccountCommand({ DetectorId }))).Administrator).toBeUndefined();
  });
});
