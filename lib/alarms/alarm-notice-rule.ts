/** The EventBridge pattern of the alarm notice: the engine's activity alarms, by exact name, entering ALARM. */
import { ALARM_SOURCE, ALARM_STATE_CHANGE } from './alarm-event.js';

export function alarmNoticePattern(alarmNames: readonly string[]): Record<string, unknown> {
  return {
    source: [ALARM_SOURCE],
    'detail-type': [ALARM_STATE_CHANGE],
    detail: { alarmName: [...alarmNames], state: { value: ['ALARM'] } },
  };
}
