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
    },
  },
);
