// The esbuild plugins of the function bundles (serverless.yml `custom.esbuild.plugins`), loaded with require():
// they are TypeScript (serverless/plugins/esbuild.ts), run through tsx as serverless/deploy-config.js runs the
// configuration.
require('tsx/cjs');

module.exports = require('./plugins/esbuild.ts').esbuildPlugins;
