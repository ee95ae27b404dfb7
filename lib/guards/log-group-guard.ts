import type { Guard, GuardDeployment } from '../guard.js';
import { logGroupEncryptionRetention } from '../rules/log-group-encryption-retention.js';

export const logGroupGuard: Guard = {
  functionKey: 'logGroupGuard',
  file: 'log-group-guard',
  rules: [logGroupEncryptionRetention],
};

export const logGroupGuardDeployment: GuardDeployment = {
  description: 'Encrypts log groups with a customer KMS key and keeps their retention within bounds',
};
