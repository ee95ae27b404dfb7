/**
 * Reenactments of the MFA triggers: an IAM user with a console password, an access key and an enabled virtual MFA
 * device, then the event's own call. The emulator cannot act as the root user, so root events create nothing.
 */
import {
  CreateAccessKeyCommand,
  CreateLoginProfileCommand,
  CreateUserCommand,
  CreateVirtualMFADeviceCommand,
  DeactivateMFADeviceCommand,
  DeleteVirtualMFADeviceCommand,
  EnableMFADeviceCommand,
  IAMClient,
  ListAccessKeysCommand,
  ListMFADevicesCommand,
  ListVirtualMFADevicesCommand,
} from '@aws-sdk/client-iam';
import type { CloudTrailEvent } from '../../lib/envelope.js';
import { emulatorClientConfig } from '../emulator/client.js';
import type { ReenactContext, Reenactment } from './reenactment.js';

/** The emulator's EnableMFADevice accepts any two six-digit codes. */
const CODES = { AuthenticationCode1: '123456', AuthenticationCode2: '654321' };
const ROOT_USER_NAME = 'AWS ROOT USER';

function iamFor(ctx: ReenactContext) {
  return new IAMClient(emulatorClientConfig(ctx.endpoint, 'us-east-1'));
}

const failsWith = (names: string[]) => (error: Error) => {
  if (!names.some((name) => error.name.startsWith(name))) throw error;
};

function stringParameter(event: CloudTrailEvent, name: string): string | undefined {
  const value = event.detail.requestParameters?.[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** The device's path and name from its ARN (arn:aws:iam::<account>:mfa/<path><name>). */
function virtualDevice(serialNumber: string): { path: string; name: string } {
  const match = /:mfa(\/(?:.*\/)?)([^/]+)$/.exec(serialNumber);
  if (!match?.[1] || !match[2]) throw new Error(`${serialNumber} is not a virtual MFA device ARN to reenact`);
  return { path: match[1], name: match[2] };
}

/**
 * The root user's own device: the request names the root user or its device, or the root user names no IAM user at
 * all. The root user acting on user1's device (userName user1, or the serial mfa/user1) is about user1.
 */
function isRootEvent(event: CloudTrailEvent): boolean {
  const named = stringParameter(event, 'userName');
  if (named) return named === ROOT_USER_NAME;
  const serial = stringParameter(event, 'serialNumber');
  if (serial?.endsWith(':mfa/root-account-mfa-device')) return true;
  return event.detail.userIdentity.type === 'Root' && serial === undefined;
}

/** "an AssumedRole", "a FederatedUser": an identity type as a sentence names it. */
function identityType(event: CloudTrailEvent): string {
  const { type } = event.detail.userIdentity;
  return `${/^[AEIOU]/.test(type) ? 'an' : 'a'} ${type}`;
}

/** The IAM user the event is about, as the rule reads it: named, else the device's name, else the caller. */
function userOf(event: CloudTrailEvent): string {
  const named = stringParameter(event, 'userName');
  if (named) return named;
  const serial = stringParameter(event, 'serialNumber');
  const byRoot = event.detail.userIdentity.type === 'Root';
  if (serial && (byRoot || event.detail.eventName === 'DeleteVirtualMFADevice')) return virtualDevice(serial).name;
  const caller = event.detail.userIdentity.userName;
  if (caller) return caller;
  throw new Error(`no IAM user to reenact on: the request names none and the caller is ${identityType(event)}`);
}

/** The user with a console password and an access key, created where missing. */
async function ensureUser(iam: IAMClient, userName: string, ctx: ReenactContext) {
  const created: string[] = [];
  await iam
    .send(new CreateUserCommand({ UserName: userName }))
    .then(() => created.push('the user'))
    .catch(failsWith(['EntityAlreadyExists']));
  await iam
    .send(new CreateLoginProfileCommand({ UserName: userName, Password: 'Reenact-Passw0rd!' }))
    .then(() => created.push('a console password'))
    .catch(failsWith(['EntityAlreadyExists']));
  const { AccessKeyMetadata = [] } = await iam.send(new ListAccessKeysCommand({ UserName: userName }));
  if (AccessKeyMetadata.length === 0) {
    const { AccessKey } = await iam.send(new CreateAccessKeyCommand({ UserName: userName }));
    created.push(`access key ${AccessKey?.AccessKeyId}`);
  }
  if (created.length > 0) ctx.notes.push(`created for IAM user ${userName}: ${created.join(', ')}`);
}

/** The virtual device of the serial number, created where missing (the emulator names it after the event). */
async function ensureVirtualDevice(iam: IAMClient, serialNumber: string, ctx: ReenactContext): Promise<string> {
  const { path, name } = virtualDevice(serialNumber);
  const { VirtualMFADevices = [] } = await iam.send(new ListVirtualMFADevicesCommand({}));
  const existing = VirtualMFADevices.find((device) => device.SerialNumber === serialNumber);
  if (existing?.SerialNumber) return existing.SerialNumber;
  const { VirtualMFADevice } = await iam.send(
    new CreateVirtualMFADeviceCommand({ VirtualMFADeviceName: name, Path: path }),
  );
  const created = VirtualMFADevice?.SerialNumber ?? serialNumber;
  ctx.notes.push(`created virtual MFA device ${created}`);
  return created;
}

async function devicesOf(iam: IAMClient, userName: string): Promise<string[]> {
  const { MFADevices = [] } = await iam.send(new ListMFADevicesCommand({ UserName: userName }));
  return MFADevices.map((device) => device.SerialNumber ?? '');
}

/** The user with the device enabled (as it was before the event deactivated or deleted it). */
async function ensureEnabledDevice(iam: IAMClient, userName: string, serialNumber: string, ctx: ReenactContext) {
  await ensureUser(iam, userName, ctx);
  const serial = await ensureVirtualDevice(iam, serialNumber, ctx);
  if (!(await devicesOf(iam, userName)).includes(serial)) {
    await iam.send(new EnableMFADeviceCommand({ UserName: userName, SerialNumber: serial, ...CODES }));
    ctx.notes.push(`enabled ${serial} for ${userName}`);
  }
  return serial;
}

function withSerial(event: CloudTrailEvent, serialNumber: string): CloudTrailEvent {
  const params = event.detail.requestParameters ?? {};
  if (params.serialNumber === serialNumber) return event;
  return { ...event, detail: { ...event.detail, requestParameters: { ...params, serialNumber } } };
}

function skipRoot(event: CloudTrailEvent, ctx: ReenactContext): CloudTrailEvent {
  ctx.notes.push(
    `nothing created: the emulator cannot act as the root user, and the engine must make no write for a root ${event.detail.eventName}`,
  );
  return event;
}

export const mfaReenactments: Record<string, Reenactment> = {
  async 'aws.iam:DeactivateMFADevice'(event, ctx) {
    if (isRootEvent(event)) return skipRoot(event, ctx);
    const iam = iamFor(ctx);
    const userName = userOf(event);
    const serial = await ensureEnabledDevice(iam, userName, String(stringParameter(event, 'serialNumber')), ctx);
    await iam.send(new DeactivateMFADeviceCommand({ UserName: userName, SerialNumber: serial }));
    return withSerial(event, serial);
  },

  async 'aws.iam:DeleteVirtualMFADevice'(event, ctx) {
    if (isRootEvent(event)) return skipRoot(event, ctx);
    const iam = iamFor(ctx);
    const userName = userOf(event);
    const serial = await ensureEnabledDevice(iam, userName, String(stringParameter(event, 'serialNumber')), ctx);
    // AWS refuses to delete a device still assigned (DeleteConflict): it is deactivated first, as the console does.
    await iam.send(new DeactivateMFADeviceCommand({ UserName: userName, SerialNumber: serial }));
    ctx.notes.push(`deactivated ${serial} of ${userName} first (a virtual device is deleted unassigned)`);
    await iam.send(new DeleteVirtualMFADeviceCommand({ SerialNumber: serial }));
    return withSerial(event, serial);
  },

  async 'aws.iam:EnableMFADevice'(event, ctx) {
    if (isRootEvent(event)) return skipRoot(event, ctx);
    const iam = iamFor(ctx);
    const userName = userOf(event);
    await ensureUser(iam, userName, ctx);
    const serial = await ensureVirtualDevice(iam, String(stringParameter(event, 'serialNumber')), ctx);
    if ((await devicesOf(iam, userName)).includes(serial)) {
      await iam.send(new DeactivateMFADeviceCommand({ UserName: userName, SerialNumber: serial }));
      ctx.notes.push(`deactivated ${serial} of ${userName} first, to enable it again`);
    }
    await iam.send(new EnableMFADeviceCommand({ UserName: userName, SerialNumber: serial, ...CODES }));
    return withSerial(event, serial);
  },

  async 'aws.signin:ConsoleLogin'(event, ctx) {
    const { type } = event.detail.userIdentity;
    if (type === 'Root') return skipRoot(event, ctx);
    if (type !== 'IAMUser') {
      ctx.notes.push(`nothing created: ${identityType(event)} sign-in has no IAM user behind it to create`);
      return event;
    }
    const iam = iamFor(ctx);
    const userName = userOf(event);
    const mfaUsed = String(event.detail.additionalEventData?.MFAUsed ?? '').toLowerCase() === 'yes';
    if (mfaUsed) {
      await ensureEnabledDevice(iam, userName, `arn:aws:iam::${ctx.account}:mfa/${userName}`, ctx);
    } else {
      await ensureUser(iam, userName, ctx);
    }
    ctx.notes.push(
      `a console sign-in cannot be made on the emulator: ${userName} has a console password${mfaUsed ? ' and an MFA device' : ' (and no MFA device is added: a user with one is always asked for it)'}`,
    );
    return event;
  },
};
