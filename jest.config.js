/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: [
    '<rootDir>/actions',
    '<rootDir>/smoke',
    '<rootDir>/cli',
    '<rootDir>/test',
    '<rootDir>/dev',
    '<rootDir>/tools',
  ],
  transform: {
    '^.+\\.(t|j)sx?$': ['@swc/jest', { jsc: { target: 'es2022' } }],
  },
  testPathIgnorePatterns: ['/node_modules/', '/dist/', '/.data/', '/dev/app/'],
  testTimeout: 60000,
  reporters: ['default', '<rootDir>/test/support/summaryReporter.js'],
};
