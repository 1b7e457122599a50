import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'coverage/**', 'node_modules/**'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        { selector: 'ExportDefaultDeclaration', message: 'No default exports' },
        { selector: "TSParameterProperty[accessibility='private']", message: 'Use #private fields' },
        { selector: "PropertyDefinition[accessibility='private']", message: 'Use #private fields' },
        { selector: "MethodDefinition[accessibility='private']", message: 'Use #private methods' },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    files: ['spec/**/*.ts', 'bench/**/*.ts', 'demo/**/*.ts'],
    rules: { 'max-params': 'off' },
  },
);
