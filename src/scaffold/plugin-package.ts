/**
 * `neuronetes plugin new <type> <name>`: an npm package holding one plugin — package.json, the
 * TypeScript configs, the plugin, a test through `neuronetes/testing`, a README — that builds
 * (`npm run build`) and passes its test (`npm test`) as written.
 */
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { isPluginName } from '../plugins/registry.ts';
import { PLUGIN_TYPES, type PluginType } from '../plugins/types.ts';
import { PLUGIN_LIST_KEYS } from '../config/schema.ts';
import { PLUGIN_TEMPLATES } from './plugin-templates.ts';

/** Version ranges the package asks for, taken from the running neuronetes' own package.json. */
export interface ScaffoldVersions {
  readonly neuronetes: string;
  readonly typebox: string;
  readonly typescript: string;
  readonly typesNode: string;
}

export class ScaffoldError extends Error {
  override readonly name = 'ScaffoldError';
}

export function checkPluginType(type: string | undefined): PluginType {
  if (!(PLUGIN_TYPES as readonly (string | undefined)[]).includes(type)) {
    throw new ScaffoldError(`plugin type must be one of ${PLUGIN_TYPES.join(', ')}, not ${JSON.stringify(type ?? '')}`);
  }
  return type as PluginType;
}

export function checkPluginName(name: string | undefined): string {
  if (name === undefined || !isPluginName(name)) {
    throw new ScaffoldError(
      `plugin name ${JSON.stringify(name ?? '')} is not valid: use lower-case letters, digits, '-' or '.', starting and ending with a letter or digit (at most 63)`,
    );
  }
  return name;
}

/** `gpu-fit.v2` → `gpuFitV2`; a leading digit gets a `plugin` prefix. */
function identifierOf(name: string): string {
  const camel = name.replace(/[-.]+([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
  return /^[0-9]/.test(camel) ? `plugin${camel}` : camel;
}

/** The settings shared with examples/plugin-package: strict, ESM, tests run by Node's type stripping. */
export const PLUGIN_TSCONFIG = {
  compilerOptions: {
    target: 'es2024',
    lib: ['es2024'],
    module: 'nodenext',
    moduleResolution: 'nodenext',
    types: ['node'],
    strict: true,
    noUncheckedIndexedAccess: true,
    exactOptionalPropertyTypes: true,
    verbatimModuleSyntax: true,
    erasableSyntaxOnly: true,
    allowImportingTsExtensions: true,
    rewriteRelativeImportExtensions: true,
    declaration: true,
    skipLibCheck: true,
    noEmit: true,
  },
  include: ['src', 'test'],
};

export const PLUGIN_TSCONFIG_BUILD = {
  extends: './tsconfig.json',
  compilerOptions: { noEmit: false, rootDir: 'src', outDir: 'dist' },
  include: ['src'],
};

const json = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;

function packageJson(type: PluginType, name: string, v: ScaffoldVersions): object {
  return {
    name: `neuronetes-${name}`,
    version: '0.1.0',
    description: `A NeuroNetes ${type} plugin: ${name}`,
    type: 'module',
    engines: { node: '>=24' },
    exports: { '.': { types: './dist/index.d.ts', default: './dist/index.js' } },
    files: ['dist'],
    scripts: {
      build: 'tsc -p tsconfig.build.json',
      typecheck: 'tsc --noEmit -p .',
      test: "node --test 'test/**/*.test.ts'",
      prepack: 'npm run build',
    },
    // The plugin runs in the service's process, with the service's registry and TypeBox.
    peerDependencies: { neuronetes: v.neuronetes, typebox: v.typebox },
    devDependencies: { '@types/node': v.typesNode, neuronetes: v.neuronetes, typebox: v.typebox, typescript: v.typescript },
  };
}

function readme(type: PluginType, name: string): string {
  return `# neuronetes-${name}

A NeuroNetes ${type} plugin, \`${name}\`. As generated, it ${PLUGIN_TEMPLATES[type].summary}:
replace \`src/index.ts\` and its test with your own.

    npm install
    npm run build      # tsc → dist/
    npm run typecheck  # sources and tests
    npm test           # node --test, with neuronetes/testing

Load it in NeuroNetes (install the package beside the service, or give the path of \`dist/index.js\`):

\`\`\`yaml
plugins:
  - neuronetes-${name}
${PLUGIN_LIST_KEYS[type]}:
  - name: ${name}
    config: {}   # the keys of the config schema in src/index.ts
\`\`\`

\`neuronetes check-config --config <file>\` checks the \`config:\` block against the schema.
`;
}

/** The package's files, path → text. */
export function pluginPackage(type: PluginType, name: string, versions: ScaffoldVersions): Map<string, string> {
  const template = PLUGIN_TEMPLATES[type];
  const ident = identifierOf(name);
  // One pass, so a name that spells IDENT or NAME is not replaced again.
  const fill = (text: string): string => text.replace(/IDENT|NAME/g, (m) => (m === 'IDENT' ? ident : name));
  return new Map([
    ['package.json', json(packageJson(type, name, versions))],
    ['tsconfig.json', json(PLUGIN_TSCONFIG)],
    ['tsconfig.build.json', json(PLUGIN_TSCONFIG_BUILD)],
    ['src/index.ts', fill(template.source)],
    [`test/${name}.test.ts`, fill(template.test)],
    ['README.md', readme(type, name)],
  ]);
}

/** Writes the files into `dir`, which must be missing or empty: nothing of yours is overwritten. */
export async function writePluginPackage(dir: string, files: ReadonlyMap<string, string>): Promise<void> {
  const existing = await readdir(dir).catch((e: unknown) => {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  });
  if (existing.length > 0) throw new ScaffoldError(`${dir} is not empty; give a new folder with --dir`);
  for (const [path, text] of files) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), text);
  }
}
