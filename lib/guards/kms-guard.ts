import type { Guard, GuardDeployment } from '../guard.js';
import { keyProtection } from '../rules/kms-key-protection.js';

export const kmsGuard: Guard = {
  functionKey: 'kmsGuard',
  file: 'kms-guard',
  rules: [keyProtection],
};

export const kmsGuardDeployment: GuardDeployment = {
  description: 'Keeps the KMS keys that encrypt log groups and trails alive, enabled, rotating and usable',
};
