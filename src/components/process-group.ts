import { readdir, readFile } from 'node:fs/promises'
import { setTimeout as delay } from 'node:timers/promises'

const POLL_MS = 25
/** How long to wait for the group to vanish after SIGKILL, which cannot be caught: only a process stuck in the kernel lingers. */
const AFTER_SIGKILL_MS = 1_000

/**
 * Sends `signal` to every process of group `pgid`. False when the group is gone (ESRCH), which is not an error: the
 * command may end at any moment. Any other failure (EPERM from a member that changed user) counts as "still there".
 */
function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH'
  }
}

/**
 * Whether group `pgid` has a member that has not died yet, reading /proc: `kill(-pgid, 0)` also counts zombies, and
 * an orphan's zombie stays forever where PID 1 does not reap (Node as PID 1 in a container, some sandboxes).
 */
async function hasLiveMember(pgid: number): Promise<boolean> {
  let entries: string[]
  try {
    entries = await readdir('/proc')
  } catch {
    return true // no procfs: trust kill(-pgid, 0)
  }
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue
    const stat = await readFile(`/proc/${name}/stat`, 'utf8').catch(() => '')
    // `pid (comm) state ppid pgrp …`: comm may hold spaces and parentheses, so split after the last ')'.
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    if (pgrp === String(pgid) && state !== 'Z' && state !== 'X') return true
  }
  return false
}

async function groupAlive(pgid: number): Promise<boolean> {
  if (!signalGroup(pgid, 0)) return false
  return process.platform === 'linux' ? hasLiveMember(pgid) : true
}

async function waitUntilGone(pgid: number, ms: number): Promise<boolean> {
  const deadline = performance.now() + ms
  for (;;) {
    if (!(await groupAlive(pgid))) return true
    if (performance.now() >= deadline) return false
    await delay(POLL_MS)
  }
}

/**
 * Ends process group `pgid`: SIGTERM, then SIGKILL if a member is still alive after `graceMs`. Resolves true once no
 * live member is left, false if one survived SIGKILL (a process that left the group with setsid is never reached).
 * Never throws; a group that is already gone resolves true at once.
 */
export async function killProcessGroup(pgid: number, graceMs: number): Promise<boolean> {
  if (!signalGroup(pgid, 'SIGTERM')) return true
  if (await waitUntilGone(pgid, graceMs)) return true
  if (!signalGroup(pgid, 'SIGKILL')) return true
  return waitUntilGone(pgid, AFTER_SIGKILL_MS)
}
