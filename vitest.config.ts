import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two cores: integration tests spawn node processes, so keep parallel workers low.
    maxWorkers: 2,
    pool: 'forks'
  }
})
