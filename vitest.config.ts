import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // One file per core (vitest's default leaves one core idle): most files wait on processes and databases.
    maxWorkers: '100%',
    globalSetup: ['test/support/build-once.ts'],
    // Engines made by tests log failed executions at warn; tests that read logs pass their own logger.
    // Component secrets are stored encrypted: engines on Postgres need a key (a test key, never a real one).
    env: { HARMONIA_LOG_LEVEL: 'error', HARMONIA_SECRET_KEY: 'dGVzdCBrZXkgb2YgdGhlIGhhcm1vbmlhIHN1aXRlISE=' },
  },
})
