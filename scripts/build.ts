/** Builds one minified ESM bundle per function (AWS SDK included) and its zip artifact, the ones the manifest names. */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build, type Plugin } from 'esbuild';
import { ALARM_NOTICE_FILE } from '../lib/manifest.js';
import { GUARDS } from '../lib/registry.js';
import { sweepPlan } from '../lib/sweep/plan.js';
import { bundlePlugins, refuseUndefinedImports } from './bundle-plugins.js';
import { createZip } from './zip.js';

export const BUILD_DIR = '.build';

export function artifactPath(file: string): string {
  return join(BUILD_DIR, `${file}.zip`);
}

/** The artifacts of every function the manifest deploys: each guard, the sweep, the backup and the alarm notice. */
export const FUNCTION_FILES = [...GUARDS.map((guard) => guard.file), 'sweep', 'backup', ALARM_NOTICE_FILE];

/**
 * lib/sweep/plan.ts as the data it derives from the registry: the sweep's bundle gets the guards' passes and events
 * without their rules' code (the guards run their own pages).
 */
export function sweepPlanLiteral(): Plugin {
  return {
    name: 'driftguard-sweep-plan',
    setup(builder) {
      builder.onLoad({ filter: /[\\/]lib[\\/]sweep[\\/]plan\.ts$/ }, () => ({
        contents: `export const SWEEP_PLAN = ${JSON.stringify(sweepPlan())};`,
        loader: 'js',
      }));
    },
  };
}

/**
 * Builds into <root>/.build (root: the service's folder; the serverless plugin passes its own), or into buildDir
 * (the bundle tests build into a temporary folder). The folder is emptied first.
 */
export async function buildAll(
  root = process.cwd(),
  buildDir = join(root, BUILD_DIR),
): Promise<{ file: string; bytes: number; zipBytes: number }[]> {
  rmSync(buildDir, { recursive: true, force: true });
  mkdirSync(buildDir, { recursive: true });
  const sizes = [];
  for (const file of FUNCTION_FILES) {
    const result = await build({
      absWorkingDir: root,
      entryPoints: [`functions/${file}.ts`],
      bundle: true,
      minify: true,
      platform: 'node',
      target: 'node22',
      format: 'esm',
      // The SDK's ESM build tree-shakes better and loads faster than its CommonJS one.
      mainFields: ['module', 'main'],
      alias: {
        // Lambda's credentials are in its environment: the node default chain's other providers stay out.
        '@aws-sdk/credential-provider-node': './lib/lambda-credentials.ts',
      },
      // Rewrites of SDK parts no function uses, so tree shaking drops them (each explained in bundle-plugins.ts).
      plugins: [sweepPlanLiteral(), ...bundlePlugins(root)],
      legalComments: 'none',
      write: false,
      // Some bundled CommonJS dependencies call require(); ESM output needs one.
      banner: { js: "import{createRequire as __cr}from'node:module';const require=__cr(import.meta.url);" },
      logLevel: 'error',
    });
    refuseUndefinedImports(file, result.warnings);
    const code = Buffer.from(result.outputFiles[0]?.contents ?? []);
    const dir = join(buildDir, file);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'index.mjs'), code);
    const zip = createZip([{ name: 'index.mjs', data: code }]);
    writeFileSync(join(buildDir, `${file}.zip`), zip);
    sizes.push({ file, bytes: code.length, zipBytes: zip.length });
  }
  return sizes;
}

// Without top-level await: the serverless plugin loads this file as CommonJS (scripts/load-typescript.cjs).
if (import.meta.url === `file://${process.argv[1]}`) {
  buildAll().then((sizes) => {
    for (const { file, bytes, zipBytes } of sizes) {
      console.log(`${file}: bundle ${(bytes / 1024).toFixed(1)} KB, zip ${(zipBytes / 1024).toFixed(1)} KB`);
    }
  });
}
