import { randomBytes } from 'node:crypto'
import { linkSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'

/**
 * PGlite is single-node (API.md "Several nodes"): one process at a time may open a data folder. Two PGlite instances
 * on one folder do not see each other's writes and overwrite each other's files, so a second process is refused at
 * start, by a lock file in the folder holding the pid of its owner.
 *
 * - Taken atomically with its content: the pid is written to a file of our own, then hard-linked to the lock's name
 *   (link fails if the name exists), so the lock is never seen empty.
 * - A lock whose pid is gone (the owner was killed) is stale and taken over. The takeover renames the stale lock away
 *   first (only one of two racing starters can rename it) and puts it back if it turns out to be fresh.
 * - Our own pid in the lock, from no lock this process holds, is a previous run's (a container restarts with the same
 *   pid): stale as well.
 */

export const LOCK_FILE = 'harmonia.lock'

/** The data folder is in use by another live process. */
export class DataDirLockedError extends Error {
  constructor(
    readonly dir: string,
    readonly pid: number,
  ) {
    super(
      `the PGlite data folder ${dir} is in use by another Harmonia process (pid ${pid}). PGlite is single-node: ` +
        'one process per data folder. To run several nodes, use Postgres: DATABASE_URL=postgres://…',
    )
    this.name = 'DataDirLockedError'
  }
}

export type DataDirLock = {
  /** Removes the lock file (if it is still ours). Idempotent. */
  release(): void
}

/** Locks held by this process, by lock path: a second open in the same process is refused too. */
const held = new Set<string>()

/** Takes the data folder's lock for this process, or throws DataDirLockedError naming the live holder. */
export function lockDataDir(dir: string): DataDirLock {
  const path = join(resolve(dir), LOCK_FILE)
  const mine = `${process.pid}\n`
  if (held.has(path)) throw new DataDirLockedError(dir, process.pid)
  for (let attempt = 0; ; attempt++) {
    // Each round takes the lock or finds a live holder, unless other starters keep racing us: give up then.
    if (attempt > 5) throw new Error(`cannot take the lock ${path}: other processes keep taking it over`)
    if (tryCreate(path, mine)) break
    const holder = readPid(path)
    if (holder === undefined) continue // released meanwhile: try again
    if (holder !== process.pid && isAlive(holder)) throw new DataDirLockedError(dir, holder)
    takeOverStale(path, holder)
  }
  held.add(path)
  let released = false
  return {
    release() {
      if (released) return
      released = true
      held.delete(path)
      // Only our own: never remove a lock that someone took over meanwhile.
      if (readPid(path) === process.pid) unlinkQuietly(path)
    },
  }
}

/** Creates `path` holding `content`, atomically; false if it already exists. */
function tryCreate(path: string, content: string): boolean {
  const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`
  writeFileSync(temp, content, { flag: 'wx' })
  try {
    linkSync(temp, path)
    return true
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false
    throw error
  } finally {
    unlinkQuietly(temp)
  }
}

/** Moves a stale lock (held by `stalePid`) out of the way; a fresh one found in its place is put back. */
function takeOverStale(path: string, stalePid: number): void {
  const aside = `${path}.stale.${process.pid}.${randomBytes(4).toString('hex')}`
  try {
    renameSync(path, aside)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return // another starter moved it first
    throw error
  }
  if (readPid(aside) !== stalePid) {
    // Between our read and the rename another starter took the lock: give it back (unless yet another took it).
    try {
      linkSync(aside, path)
    } catch {
      // The name is taken again: that holder is checked on the next round.
    }
  }
  unlinkQuietly(aside)
}

function readPid(path: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(path, 'utf8'), 10)
    // A lock of unreadable content counts as stale (pid 0 is never alive as a holder).
    return Number.isSafeInteger(pid) && pid > 0 ? pid : 0
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
}

/** Whether a process with this pid exists (EPERM: it exists but belongs to another user). */
function isAlive(pid: number): boolean {
  if (pid <= 0) return false
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path)
  } catch {
    // Already gone.
  }
}
