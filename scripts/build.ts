/** Builds one minified ESM bundle per guard (AWS SDK included) and its zip artifact, plus serverless.yml's manifest. */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { GUARDS } from '../lib/registry.js';
import { createZip } from './zip.js';

export const BUILD_DIR = '.build';

export function artifactPath(file: string): string {
  return join(BUILD_DIR, `${file}.zip`);
}

export async function buildAll(): Promise<{ file: string; bytes: number; zipBytes: number }[]> {
  rmSync(BUILD_DIR, { recursive: true, force: true });
  mkdirSync(BUILD_DIR, { recursive: true });
  await build({
    entryPoints: ['scripts/serverless-manifest.ts'],
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    packages: 'external',
    outfile: join(BUILD_DIR, 'serverless-manifest.cjs'),
    // serverless calls module.exports when it is a function.
    footer: { js: 'module.exports = module.exports.default;' },
    logLevel: 'error',
  });
  const sizes = [];
  // One artifact per function: each guard, and the sweep.
  for (const file of [...GUARDS.map((guard) => guard.file), 'sweep']) {
    const result = await build({
      entryPoints: [`functions/${file}.ts`],
      bundle: true,
      minify: true,
      platform: 'node',
      target: 'node22',
      format: 'esm',
      // The SDK's ESM build tree-shakes better and loads faster than its CommonJS one.
      mainFields: ['module', 'main'],
      // Lambda's credentials are in its environment: the node default chain's other providers stay out.
      alias: { '@aws-sdk/credential-provider-node': './lib/lambda-credentials.ts' },
      legalComments: 'none',
      write: false,
      // Some bundled CommonJS dependencies call require(); ESM output needs one.
      banner: { js: "import{createRequire as __cr}from'node:module';const require=__cr(import.meta.url);" },
      logLevel: 'error',
    });
    const code = Buffer.from(result.outputFiles[0]?.contents ?? []);
    const dir = join(BUILD_DIR, file);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'index.mjs'), code);
    const zip = createZip([{ name: 'index.mjs', data: code }]);
    writeFileSync(artifactPath(file), zip);
    sizes.push({ file, bytes: code.length, zipBytes: zip.length });
  }
  return sizes;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const sizes = await buildAll();
  for (const { file, bytes, zipBytes } of sizes) {
    console.log(`${file}: bundle ${(bytes / 1024).toFixed(1)} KB, zip ${(zipBytes / 1024).toFixed(1)} KB`);
  }
}
