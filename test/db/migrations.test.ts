import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { sql } from 'drizzle-orm'
import { afterAll, describe, expect, it } from 'vitest'
import { MIGRATIONS_FOLDER, type DatabaseHandle } from '../../src/db/client.js'
import * as schema from '../../src/db/schema/index.js'
import { createSqlStore } from '../../src/db/sql.store.js'
import { drivers, rows } from '../support/db.js'

/**
 * The committed migrations (drizzle/) against real databases on both drivers:
 * - they apply to an empty database, and applying them again is a no-op;
 * - upgrade in place: starting from a database made by the first migration alone, with data written in that first
 *   schema, each later migration is applied in turn (a copy of drizzle/ whose journal lists the first N entries),
 *   and the current store still reads the data. With one migration this is "reopen and read"; every migration added
 *   later is exercised by the same loop.
 */

type Journal = { entries: Array<{ idx: number; tag: string; when: number }> }

const journal = JSON.parse(await readFile(join(MIGRATIONS_FOLDER, 'meta', '_journal.json'), 'utf8')) as Journal
const TABLES = [
  'audit_log',
  'checkpoints',
  'components',
  'execution_commands',
  'execution_events',
  'execution_signals',
  'execution_state',
  'executions',
  'nodes',
  'schedule_ticks',
  'subscription_cursors',
  'subscriptions',
  'task_executions',
  'task_items',
  'template_versions',
  'templates',
  'timers',
  'workflow_versions',
  'workflows',
]

const temporary: string[] = []
afterAll(async () => {
  await Promise.all(temporary.map((dir) => rm(dir, { recursive: true, force: true })))
})

/** A copy of drizzle/ whose journal lists only its first `n` migrations. */
async function firstMigrations(n: number): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'harmonia-migrations-'))
  temporary.push(dir)
  await cp(MIGRATIONS_FOLDER, dir, { recursive: true })
  await writeFile(join(dir, 'meta', '_journal.json'), JSON.stringify({ ...journal, entries: journal.entries.slice(0, n) }))
  return dir
}

async function appliedMigrations(handle: DatabaseHandle): Promise<number> {
  const [row] = rows<{ n: number }>(await handle.db.execute(sql`SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations`))
  return row!.n
}

async function tablesOf(handle: DatabaseHandle): Promise<string[]> {
  const found = rows<{ name: string }>(
    await handle.db.execute(
      sql`SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name`,
    ),
  )
  return found.map((r) => r.name)
}

// Data written with the FIRST migration's schema (0000_init): plain SQL, so later schema changes cannot break it.
const seed = {
  workflowId: '01900000-0000-7000-8000-000000000001',
  executionId: '01900000-0000-7000-8000-000000000002',
  definition: {
    name: 'seeded',
    description: '',
    metadata: {},
    input: {},
    output: {},
    tasks: [{ id: 'a', component: 'harmonia', action: 'noop', input: {}, depends_on: [], metadata: {} }],
    max_concurrency: 10,
    fail_fast: false,
  },
}

async function writeSeed(handle: DatabaseHandle): Promise<void> {
  const definition = JSON.stringify(seed.definition)
  await handle.db.execute(sql`
    INSERT INTO workflows (workflow_id, name, latest_version, created_at, updated_at)
    VALUES (${seed.workflowId}::uuid, 'seeded', 1, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')`)
  await handle.db.execute(sql`
    INSERT INTO workflow_versions (workflow_id, version, definition, created_at)
    VALUES (${seed.workflowId}::uuid, 1, ${definition}::text::jsonb, '2026-01-01T00:00:00Z')`)
  await handle.db.execute(sql`
    INSERT INTO executions (execution_id, workflow_id, workflow_version, status, input, output, error, metadata, start_time, end_time, last_seq)
    VALUES (${seed.executionId}::uuid, ${seed.workflowId}::uuid, 1, 'completed', '{"n":1}', '"done"', NULL, '{"who":"seed"}',
      '2026-01-01T00:00:01Z', '2026-01-01T00:00:02Z', 1)`)
  await handle.db.execute(sql`
    INSERT INTO task_executions (execution_id, task_id, position, status, attempts, retries, input, output, start_time, end_time)
    VALUES (${seed.executionId}::uuid, 'a', 0, 'completed', 1, 0, '{}', '42', '2026-01-01T00:00:01Z', '2026-01-01T00:00:02Z')`)
  await handle.db.execute(sql`
    INSERT INTO execution_events (execution_id, seq, type, task_id, timestamp, data)
    VALUES (${seed.executionId}::uuid, 1, 'workflow_completed', NULL, '2026-01-01T00:00:02Z', '{"output":"done"}')`)
}

async function expectSeedReadable(handle: DatabaseHandle): Promise<void> {
  const store = createSqlStore({ ...handle, close: async () => {} })
  expect(await store.workflows.latest(seed.workflowId)).toEqual({
    workflowId: seed.workflowId,
    version: 1,
    definition: seed.definition,
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
  })
  expect(await store.executions.get(seed.executionId)).toStrictEqual({
    execution_id: seed.executionId,
    workflow_id: seed.workflowId,
    workflow_version: 1,
    status: 'completed',
    start_time: '2026-01-01T00:00:01.000Z',
    end_time: '2026-01-01T00:00:02.000Z',
    input: { n: 1 },
    output: 'done',
    error: null,
    metadata: { who: 'seed' },
    restored_from: null,
    rerun_of: null,
    parent: null,
    task_executions: {
      a: {
        task_id: 'a',
        status: 'completed',
        start_time: '2026-01-01T00:00:01.000Z',
        end_time: '2026-01-01T00:00:02.000Z',
        input: {},
        output: 42,
        error: null,
        retries: 0,
        attempts: 1,
      },
    },
  })
  expect(await store.events.list(seed.executionId)).toStrictEqual([
    { seq: 1, type: 'workflow_completed', execution_id: seed.executionId, timestamp: '2026-01-01T00:00:02.000Z', data: { output: 'done' } },
  ])
}

describe('migrations folder', () => {
  it('is the committed drizzle/ of the package, found from the source file (not the working directory)', () => {
    expect(MIGRATIONS_FOLDER).toBe(resolve(import.meta.dirname, '../../drizzle'))
    expect(journal.entries.length).toBeGreaterThan(0)
    expect(journal.entries.map((e) => e.idx)).toEqual(journal.entries.map((_, i) => i))
  })

  it('matches the schema: no change in src/db/schema is missing its migration (run `npm run db:generate`)', async () => {
    const { generateDrizzleJson, generateMigration } = await import('drizzle-kit/api')
    const last = journal.entries.at(-1)!
    const snapshot = JSON.parse(
      await readFile(join(MIGRATIONS_FOLDER, 'meta', `${last.idx.toString().padStart(4, '0')}_snapshot.json`), 'utf8'),
    )
    const current = generateDrizzleJson(schema, snapshot.id)
    expect(await generateMigration(snapshot, current)).toEqual([])
  })
})

for (const driver of drivers) {
  describe.skipIf(driver.skip)(`${driver.title}: migrations`, () => {
    it('apply to an empty database, and applying them again on reopen is a no-op', async () => {
      const database = await driver.empty()
      try {
        const first = await database.open()
        try {
          expect(await tablesOf(first)).toEqual(TABLES)
          expect(await appliedMigrations(first)).toBe(journal.entries.length)
          await writeSeed(first)
        } finally {
          await first.close()
        }
        const again = await database.open()
        try {
          expect(await appliedMigrations(again)).toBe(journal.entries.length)
          await expectSeedReadable(again)
        } finally {
          await again.close()
        }
      } finally {
        await database.dispose()
      }
    })

    // Several processes on one server (PGlite is one process): the advisory lock serialises their migrations.
    if (driver.name === 'postgres') {
      it('nodes starting together on one empty database migrate it once', async () => {
        const database = await driver.empty()
        try {
          const handles = await Promise.all([database.open(), database.open(), database.open()])
          try {
            for (const handle of handles) expect(await appliedMigrations(handle)).toBe(journal.entries.length)
          } finally {
            await Promise.all(handles.map((h) => h.close()))
          }
        } finally {
          await database.dispose()
        }
      })
    }

    it('upgrade in place: each migration applies on top of the ones before it, and the data stays readable', async () => {
      const database = await driver.empty()
      try {
        for (let n = 1; n <= journal.entries.length; n++) {
          const handle = await database.open({ migrationsFolder: await firstMigrations(n) })
          try {
            expect(await appliedMigrations(handle)).toBe(n)
            if (n === 1) await writeSeed(handle)
          } finally {
            await handle.close()
          }
        }
        // Then the committed folder, as a release starts: nothing left to apply, everything readable.
        const current = await database.open()
        try {
          expect(await appliedMigrations(current)).toBe(journal.entries.length)
          expect(await tablesOf(current)).toEqual(TABLES)
          await expectSeedReadable(current)
        } finally {
          await current.close()
        }
      } finally {
        await database.dispose()
      }
    })
  })
}
