// What serverless.yml reads with `${file(./serverless/deploy-config.js):NAME}`. osls loads this file with
// require(); the deploy configuration itself is TypeScript (serverless/config/), run through tsx as
// bin/registrar.cjs runs the CLI, so it needs no build step.
require('tsx/cjs');

module.exports = require('./config/index.ts').resolvers;
