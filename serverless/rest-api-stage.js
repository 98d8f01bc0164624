// An osls plugin (serverless.yml `plugins`), loaded with require(): the plugin itself is TypeScript
// (serverless/plugins/rest-api-stage.ts), run through tsx as serverless/deploy-config.js runs the configuration.
require('tsx/cjs');

module.exports = require('./plugins/rest-api-stage.ts').RestApiStage;
