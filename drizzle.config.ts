import { defineConfig } from 'drizzle-kit'

/** `npm run db:generate -- --name <what>` writes the next migration to ./drizzle; review the SQL and commit it. */
export default defineConfig({
  schema: './src/db/schema/index.ts',
  out: './drizzle',
  dialect: 'postgresql',
})
