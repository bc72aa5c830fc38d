// Flat ESLint config for every workspace. Rules that ban something say why.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/build/**', '**/node_modules/**', 'api/src/gen/**', '**/*.d.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      // Product code logs through pino child loggers so every line is structured
      // and carries component/pod/connection context; console output is lost in a pod.
      'no-console': 'error',
      // Exiting from deep inside a module skips draining and log flushing: only main() may exit.
      'no-process-exit': 'off',
      'no-restricted-properties': ['error', {
        object: 'process', property: 'exit',
        message: 'Only a main entry point may exit the process (it must drain and flush logs first).',
      }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    // Entry points are where the process may exit.
    files: ['**/src/main.ts', '**/src/cli.ts', '**/src/**/cli/*.ts', '**/src/bench/**/*.ts'],
    rules: { 'no-restricted-properties': 'off' },
  },
  {
    // Tests, benchmarks and CLIs that talk to a person may print.
    files: ['**/*.test.ts', '**/src/bench/**/*.ts', 'e2e/src/**/*.ts', '**/src/main.ts', '**/src/cli.ts'],
    rules: { 'no-console': 'off' },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
);
