// An osls plugin (serverless.yml `plugins`), loaded with require(): the plugin itself is TypeScript
// (serverless/plugins/offline-schedules.ts), run through tsx as serverless/deploy-config.js runs the configuration.
require('tsx/cjs');

module.exports = require('./plugins/offline-schedules.ts').OfflineSchedules;
