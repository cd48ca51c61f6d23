import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { openDatabase } from '../../src/db/client.js'
import { DataDirLockedError, LOCK_FILE, lockDataDir } from '../../src/db/data-dir-lock.js'
import { cleanEnv, freePort, request, startNode, stop, stopAll } from '../support/processes.js'

/**
 * PGlite is single-node (API.md "Several nodes"): a second process on the same data folder is refused at start, with
 * the folder, the holder's pid and the way to several nodes (DATABASE_URL) in its message. A lock left by a killed
 * process is taken over.
 */

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'harmonia-lock-'))
})
afterEach(stopAll)
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

/** The pid of a process that has exited (so nobody holds it, barring reuse by the system). */
const deadPid = () => spawnSync(process.execPath, ['-e', '']).pid

describe('lockDataDir', () => {
  it('holds the pid, refuses a second holder in the same process, and is gone once released', async () => {
    const folder = await mkdtemp(join(dir, 'unit-'))
    const lock = lockDataDir(folder)
    expect(readFileSync(join(folder, LOCK_FILE), 'utf8')).toBe(`${process.pid}\n`)
    expect(() => lockDataDir(folder)).toThrow(DataDirLockedError)
    lock.release()
    lock.release()
    expect(existsSync(join(folder, LOCK_FILE))).toBe(false)
    lockDataDir(folder).release()
  })

  it('takes over a lock whose process is gone, and one of unreadable content', async () => {
    const folder = await mkdtemp(join(dir, 'stale-'))
    writeFileSync(join(folder, LOCK_FILE), `${deadPid()}\n`)
    const lock = lockDataDir(folder)
    expect(readFileSync(join(folder, LOCK_FILE), 'utf8')).toBe(`${process.pid}\n`)
    lock.release()
    writeFileSync(join(folder, LOCK_FILE), 'garbage')
    lockDataDir(folder).release()
  })

  it('refuses a folder locked by a live process, naming the folder, the pid and DATABASE_URL', async () => {
    const folder = await mkdtemp(join(dir, 'live-'))
    const holder = startNode(['-e', 'setInterval(() => {}, 1000)'], cleanEnv({}))
    const pid = holder.process.pid!
    writeFileSync(join(folder, LOCK_FILE), `${pid}\n`)
    let error: unknown
    try {
      lockDataDir(folder).release()
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(DataDirLockedError)
    expect(error).toMatchObject({ dir: folder, pid })
    expect((error as Error).message).toContain(folder)
    expect((error as Error).message).toContain(`pid ${pid}`)
    expect((error as Error).message).toContain('DATABASE_URL=postgres://')
    // The refused start left the holder's lock as it was.
    expect(readFileSync(join(folder, LOCK_FILE), 'utf8')).toBe(`${pid}\n`)
    await stop(holder)
  })

  it('is taken by openDatabase for a data folder and released by close', async () => {
    const folder = await mkdtemp(join(dir, 'open-'))
    const handle = await openDatabase(folder, { migrate: false })
    await expect(openDatabase(folder, { migrate: false })).rejects.toBeInstanceOf(DataDirLockedError)
    await handle.close()
    expect(existsSync(join(folder, LOCK_FILE))).toBe(false)
    await (await openDatabase(folder, { migrate: false })).close()
  }, 60_000)
})

describe('two server processes on one PGlite data folder', () => {
  const startServer = async (dataDir: string) => {
    const port = await freePort()
    const child = startNode(['src/main.ts'], cleanEnv({ HARMONIA_DATA_DIR: dataDir, HARMONIA_PORT: String(port) }))
    return { child, port }
  }

  it('refuses the second at start, and after the first is killed a new one starts on its stale lock', async () => {
    const dataDir = join(dir, 'server')
    const first = await startServer(dataDir)
    await first.child.waitFor(/listening on/, 'the first server')
    const pid = first.child.process.pid!

    const second = await startServer(dataDir)
    expect(await second.child.exited).not.toBe(0)
    const output = second.child.output()
    expect(output).toContain(`harmonia: cannot start: the PGlite data folder ${dataDir} is in use by another Harmonia process (pid ${pid})`)
    expect(output).toContain('PGlite is single-node')
    expect(output).toContain('DATABASE_URL=postgres://')
    // The first is untouched by the refused start.
    expect((await request(`http://127.0.0.1:${first.port}/ready`)).status).toBe(200)

    await stop(first.child, 'SIGKILL')
    expect(readFileSync(join(dataDir, LOCK_FILE), 'utf8')).toBe(`${pid}\n`)
    const third = await startServer(dataDir)
    await third.child.waitFor(/listening on/, 'a server on the stale lock')
    expect((await request(`http://127.0.0.1:${third.port}/ready`)).status).toBe(200)
    expect(readFileSync(join(dataDir, LOCK_FILE), 'utf8')).toBe(`${third.child.process.pid}\n`)

    // A graceful stop releases the lock.
    await stop(third.child, 'SIGTERM')
    expect(existsSync(join(dataDir, LOCK_FILE))).toBe(false)
  }, 180_000)
})
