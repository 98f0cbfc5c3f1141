// Backstage's own ESLint configuration (from @backstage/cli, installed by the dev app workspace).
module.exports = require('@backstage/cli/config/eslint-factory')(__dirname, {
  ignorePatterns: [
    'dist/',
    'dev/app/',
    '.data/',
    'coverage/',
    'skeletons/',
    'test/browser/artifacts/',
  ],
});
