import type { AnyRule } from './rule.js';

/** One Lambda function and the rules it runs. Its entry imports only its own guard, so bundles stay small. */
export interface Guard {
  /** Function key in serverless.yml (camelCase). */
  functionKey: string;
  /** Entry file in functions/ and the artifact's name (kebab-case). */
  file: string;
  description: string;
  rules: AnyRule[];
}
