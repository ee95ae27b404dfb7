/**
 * A local serverless plugin: packaging (package, deploy, deploy function) builds the bundles and zips the manifest
 * names (scripts/build.ts) before serverless checks that the artifacts exist, so a fresh clone needs no other step.
 */
const { loadTypeScript } = require('./load-typescript.cjs');

class DriftguardBuildPlugin {
  constructor(serverless, _options, { log }) {
    const build = async () => {
      const { buildAll } = loadTypeScript('build.ts');
      const sizes = await buildAll(serverless.serviceDir);
      log.notice(`driftguard: built ${sizes.map(({ file }) => `.build/${file}.zip`).join(', ')}`);
    };
    this.hooks = {
      'before:package:createDeploymentArtifacts': build,
      'before:package:function:package': build,
    };
  }
}

module.exports = DriftguardBuildPlugin;
