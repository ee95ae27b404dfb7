import type { Guard } from '../guard.js';
import { logGroupEncryptionRetention } from '../rules/log-group-encryption-retention.js';

export const logGroupGuard: Guard = {
  functionKey: 'logGroupGuard',
  file: 'log-group-guard',
  description: 'Encrypts log groups with a customer KMS key and keeps their retention within bounds',
  rules: [logGroupEncryptionRetention],
};
