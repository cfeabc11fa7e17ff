// The linter's plugins. typescript-eslint needs TypeScript's JavaScript compiler API, which the repo's
// TypeScript 7 (the native port) does not ship; this workspace holds TypeScript 6.0 for the linter alone.
// npm hoists some of typescript-eslint's helpers (ts-api-utils) to the root, where `typescript` is 7, so
// every `typescript` the linter's process resolves is sent here, to 6.0, before the plugins load.
import { registerHooks, createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const typescript6 = pathToFileURL(createRequire(import.meta.url).resolve('typescript')).href;
registerHooks({
  resolve(specifier, context, nextResolve) {
    if (specifier === 'typescript') return { url: typescript6, format: 'commonjs', shortCircuit: true };
    return nextResolve(specifier, context);
  },
});

const { default: tseslint } = await import('typescript-eslint');
const { importX, createNodeResolver } = await import('eslint-plugin-import-x');
export { tseslint, importX, createNodeResolver };
