import { createAlarmNoticeHandler } from '../lib/alarms/alarm-notice-handler.js';
import { ALARM_NOTICE_DEFAULTS } from '../lib/alarms/engine-alarms.js';

export const handler = createAlarmNoticeHandler(ALARM_NOTICE_DEFAULTS);
