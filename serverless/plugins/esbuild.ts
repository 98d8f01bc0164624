import path from 'node:path';
import type { Plugin } from 'esbuild';

/**
 * esbuild plugins of the function bundles (serverless-esbuild `plugins`, through serverless/esbuild-plugins.js).
 *
 * zod 4's classic and core entry points re-export every error-message locale (`z.locales`, ~40 languages),
 * which no tree-shaking can drop because `z` is a namespace object. The functions only ever use zod's default
 * English messages (set by zod itself from `locales/en.js`), so the locale index is replaced by one that
 * exports English alone: about a quarter of the register bundle, for no change in behaviour.
 */
const zodEnglishOnly: Plugin = {
  name: 'zod-english-only',
  setup(build) {
    const zodV4 = `${path.sep}zod${path.sep}v4${path.sep}`;
    build.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) => {
      if (!args.importer.includes(zodV4)) return undefined;
      const english = path.join(path.dirname(args.importer), '..', 'locales', 'en.js');
      return { path: english, namespace: 'zod-english-only', pluginData: { english } };
    });
    build.onLoad({ filter: /.*/, namespace: 'zod-english-only' }, (args) => ({
      contents: `export { default as en } from ${JSON.stringify(args.pluginData.english)};`,
      resolveDir: path.dirname(args.pluginData.english),
      loader: 'js',
    }));
  },
};

/**
 * In Lambda the execution role's credentials are always in the environment, and the SDK's default chain
 * tries the environment first: the rest of the chain (SSO, INI files, web identity, IMDS, STS, login; a
 * fifth of the lookup bundle) can never be reached there. The default provider is replaced by the
 * environment provider of the same SDK version (and so keeps its memoization and error when a variable is
 * missing).
 */
const lambdaEnvCredentials: Plugin = {
  name: 'lambda-env-credentials',
  setup(build) {
    build.onResolve({ filter: /^@aws-sdk\/credential-provider-node$/ }, (args) => {
      const manifest = require.resolve('@aws-sdk/credential-provider-node/package.json', { paths: [args.resolveDir] });
      return { path: manifest, namespace: 'lambda-env-credentials' };
    });
    build.onLoad({ filter: /.*/, namespace: 'lambda-env-credentials' }, (args) => ({
      contents: [
        "import { fromEnv } from '@aws-sdk/credential-provider-env';",
        'export const defaultProvider = (init) => fromEnv(init);',
      ].join('\n'),
      // Resolved from the replaced package, so the environment provider is the one it would have used.
      resolveDir: path.dirname(args.path),
      loader: 'js',
    }));
  },
};

export const esbuildPlugins: Plugin[] = [zodEnglishOnly, lambdaEnvCredentials];
