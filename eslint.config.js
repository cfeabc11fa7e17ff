// The linter holds the layers drawn in ../shared/DESIGN.md and docs/architecture.md ("The layers the
// linter holds"): who may import whom, no import cycles, no promise left floating. Style is not linted here.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { tseslint, importX, createNodeResolver } from './tools/lint/index.js';

const TESTS = ['**/*.test.ts', '**/*.test.tsx'];

/** Every driver's own folder, e.g. src/drivers/routers/haproxy: a driver imports no other driver's folder. */
const driverFolders = ['targets', 'routers', 'metrics', 'notifiers'].flatMap((family) =>
  readdirSync(join(import.meta.dirname, 'src/drivers', family), { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => ({ family, folder: `./src/drivers/${family}/${e.name}` })),
);

const layerMessage = (layer, may) =>
  `${layer} may import ${may} only (docs/architecture.md, "The layers the linter holds")`;

/** Layer zones on resolved paths (relative to this file): `target` may not import from `from`, except the listed sub-paths. */
const zones = [
  // core: nothing outside core.
  { target: './src/core', from: './src', except: ['./core'], message: layerMessage('src/core', 'src/core') },
  {
    target: './src/core',
    from: ['./web', './test', './bench', './examples', './bin'],
    message: layerMessage('src/core', 'src/core'),
  },
  // spec: core.
  { target: './src/spec', from: './src', except: ['./core', './spec'], message: layerMessage('src/spec', 'src/core') },
  // drivers: core, their own folder, the drivers' shared files (types.ts, registry, helpers at the top of src/drivers and of each family).
  {
    target: './src/drivers',
    from: './src',
    // TODO(layers): registry.ts takes the type DriverSchemas from the spec's public module; it belongs with the drivers' types.
    except: ['./core', './drivers', './spec/index.ts', './proxy/proxy-info.ts'],
    message: layerMessage('src/drivers', 'src/core and their own folder'),
  },
  ...driverFolders
    .map(({ family, folder }) => ({
      target: folder,
      from: driverFolders.filter((d) => d.family === family && d.folder !== folder).map((d) => d.folder),
      message: `a driver imports no other driver's folder (${folder})`,
    }))
    .filter((zone) => zone.from.length > 0),
  // views: what crosses the wire, built from core state only.
  {
    target: './src/views',
    from: './src',
    except: ['./core', './views'],
    message: layerMessage('src/views', 'src/core'),
  },
  // store and proxy: core types.
  {
    target: './src/store',
    from: './src',
    except: ['./core', './store'],
    message: layerMessage('src/store', 'src/core'),
  },
  {
    target: './src/proxy',
    from: './src',
    except: ['./core', './proxy'],
    message: layerMessage('src/proxy', 'src/core'),
  },
  // engine and the capabilities beside it (auth, audit): nothing above them.
  ...['engine', 'auth', 'audit', 'flags', 'drills'].map((layer) => ({
    target: `./src/${layer}`,
    from: ['./src/api', './src/cli', './web'],
    message: `src/${layer} may not import the API, the CLI or the dashboard`,
  })),
  // api, cli, web: engine, spec and store through their public modules.
  {
    target: './src/api',
    from: './src/engine',
    except: ['./index.ts'],
    message: 'src/api imports the engine only through src/engine/index.ts',
  },
  {
    target: './src/cli',
    from: './src/engine',
    except: ['./spec-text.ts'],
    message: 'src/cli imports the engine only through the files allowed in eslint.config.js',
  },
  // The dashboard reads what crosses the wire (src/views/index.ts) and nothing else of the server.
  {
    target: './web/src',
    from: './src',
    except: ['./views/index.ts'],
    message: 'the dashboard imports src/views/index.ts only',
  },
  {
    target: './src/cli',
    from: './src/views',
    except: ['./index.ts'],
    message: 'src/cli imports the views only through src/views/index.ts',
  },
  ...['./src/api', './src/cli'].flatMap((target) => [
    {
      target,
      from: './src/spec',
      except: ['./index.ts'],
      message: `${target.slice(2)} imports the spec only through src/spec/index.ts`,
    },
    {
      target,
      from: './src/store',
      except: ['./types.ts', './sqlite/sqlite-store.ts', './postgres/store-admin.ts'],
      message: `${target.slice(2)} imports the store only through src/store/types.ts (and the SQLite or PostgreSQL store where a server is built)`,
    },
  ]),
];

export default tseslint.config(
  { ignores: ['**/node_modules/**', 'web/dist/**', 'tools/**', 'eslint.config.js', '**/*.js'] },
  {
    files: ['**/*.ts', '**/*.tsx'],
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { '@typescript-eslint': tseslint.plugin, 'import-x': importX },
    settings: {
      'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.tsx', '.js'] })],
      // import-x reads the imported files too (for no-cycle): tell it they are TypeScript.
      'import-x/extensions': ['.ts', '.tsx', '.js'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts', '.tsx'] },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // node:test's test()/describe() return promises the runner itself awaits and reports.
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite'] },
          ],
        },
      ],
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'import-x/no-restricted-paths': ['error', { zones, basePath: import.meta.dirname }],
    },
  },
  {
    // core: no Node built-ins, no YAML, no I/O library. Three pure libraries are allowed: zod (the unit schemas
    // the spec and the drivers' config schemas share), rrule-temporal (recurrence arithmetic for windows) and semver
    // (the ranges of dependsOn, core/graph/).
    files: ['src/core/**/*.ts'],
    ignores: TESTS,
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(?!\\.|zod$|rrule-temporal$|semver$)',
              message:
                'src/core imports nothing outside src/core: no node:*, no yaml, no I/O (zod, rrule-temporal and semver are the allowed pure libraries).',
            },
          ],
        },
      ],
    },
  },
  {
    // Tests may reach across layers to set up what they check (fixtures, a real store, a spec).
    files: TESTS,
    rules: { 'import-x/no-restricted-paths': 'off' },
  },
);
