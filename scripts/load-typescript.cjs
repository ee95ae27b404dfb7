/**
 * Loads a TypeScript module of this repository into serverless's (CommonJS) process: bundled in memory by esbuild,
 * its packages left to node_modules, and compiled as a module here. Nothing is written to disk.
 */
const Module = require('node:module');
const path = require('node:path');
const { buildSync } = require('esbuild');

function loadTypeScript(file) {
  const filename = path.resolve(__dirname, file);
  const { outputFiles } = buildSync({
    entryPoints: [filename],
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    packages: 'external',
    write: false,
    logLevel: 'error',
  });
  const loaded = new Module(filename, module);
  loaded.filename = filename;
  loaded.paths = Module._nodeModulePaths(path.dirname(filename));
  loaded._compile(outputFiles[0].text, filename);
  return loaded.exports;
}

module.exports = { loadTypeScript };
