import type { Logger } from '@aws-lambda-powertools/logger';
import type { CustomResourceRequest } from './custom-resource.js';
import type { AnyRule, RuleContext } from './rule.js';

/** Lambda's attempts at an event: the first and maximumRetryAttempts more (scripts/serverless-manifest.ts). */
export const LAMBDA_ATTEMPTS = 3;

/** One Lambda function and the rules it runs. Its entry imports only its own guard, so bundles stay small. */
export interface Guard {
  /** Function key in serverless.yml (camelCase). */
  functionKey: string;
  /** Entry file in functions/ and the artifact's name (kebab-case). */
  file: string;
  rules: AnyRule[];
  /** Serves a CloudFormation custom resource of the stack (e.g. the deploy-time baseline capture); says what it did. */
  customResource?(request: CustomResourceRequest, ctx: RuleContext, logger: Logger): Promise<string>;
}

/**
 * What the manifest deploys with a guard: a separate export of the guard's file, so that the template's text and
 * resources stay out of the function's bundle (the registry joins the two).
 */
export interface GuardDeployment {
  description: string;
  /** Environment variables of this guard's function only (CloudFormation values allowed). */
  environment?: Record<string, unknown>;
  /** CloudFormation resources the guard's rules need beside the function (e.g. a managed policy), by logical id. */
  resources?(names: { stage: string }): Record<string, unknown>;
}

/** A guard as the registry has it: what its function runs and what the manifest deploys with it. */
export type DeployedGuard = Guard & GuardDeployment;
