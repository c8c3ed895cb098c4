// @ts-check
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', '.tap/**', 'bench/scratch/**'] },
  ...tseslint.configs.strict,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Built-ins, contrib and examples are written as a third party would: the public entry is all they get.
    files: ['extenders/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['**/src', '**/src/**'], message: "extenders import only the public entry 'neuronetes'" }] }],
      // A plugin's state lives in the instance create() makes (per config) or in ctx.state (per call).
      'no-restricted-syntax': [
        'error',
        ...[
          'Program > VariableDeclaration[kind="let"]',
          'Program > ExportNamedDeclaration > VariableDeclaration[kind="let"]',
          'Program > VariableDeclaration > VariableDeclarator > NewExpression[callee.name=/^(Weak)?Map$/]',
          'Program > ExportNamedDeclaration > VariableDeclaration > VariableDeclarator > NewExpression[callee.name=/^(Weak)?Map$/]',
        ].map((selector) => ({
          selector,
          message: 'no module-level mutable state in extenders: keep it in the instance create() makes, or in ctx.state for one call',
        })),
      ],
    },
  },
);
