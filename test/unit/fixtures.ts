/** Shared unit-test fixtures: the sample events as parsed envelopes, and settings built from variables. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isAlarmStateChange } from '../../lib/alarms/alarm-event.js';
import { type CloudTrailEvent, parseCloudTrailEvent } from '../../lib/envelope.js';
import { loadSettings, type Settings } from '../../lib/settings.js';

export const ACCOUNT = '123456789012';
export const EVENTS_DIR = join(import.meta.dirname, '../../events');
/** Test-only records (other accounts, services without a rule): kept out of events/, which the demo replays. */
export const FIXTURE_EVENTS_DIR = join(import.meta.dirname, '../fixtures/events');

export function eventFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((file) => file.endsWith('.json'))
    .sort()
    .map((file) => join(dir, file));
}

/** The CloudTrail samples of a folder: events/ also holds alarm state changes (the alarm notice's). */
export function cloudTrailEventFiles(dir: string): string[] {
  return eventFiles(dir).filter((file) => !isAlarmStateChange(JSON.parse(readFileSync(file, 'utf8'))));
}

/** A sample's raw JSON, typed loosely so that tests can break any field on purpose. */
export interface RawEvent {
  [field: string]: unknown;
  detail: { [field: string]: unknown };
}

/** The raw JSON of a sample in events/, by its name without extension. */
export function rawSample(name: string): RawEvent {
  return JSON.parse(readFileSync(join(EVENTS_DIR, `${name}.json`), 'utf8')) as RawEvent;
}

/** The raw event's requestParameters, to change one of them. */
export function params(raw: RawEvent): Record<string, unknown> {
  return raw.detail.requestParameters as Record<string, unknown>;
}

export function sample(name: string): CloudTrailEvent {
  return parseCloudTrailEvent(rawSample(name));
}

/** A sample with changes applied to a fresh copy of its raw JSON, then parsed. */
export function sampleWith(name: string, change: (raw: RawEvent) => void): CloudTrailEvent {
  const raw = rawSample(name);
  change(raw);
  return parseCloudTrailEvent(raw);
}

export function settingsOf(env: Record<string, string> = {}): Settings {
  return loadSettings(env);
}
