import { readFileSync } from 'node:fs'

/**
 * Whether `pid` has died. A zombie counts as dead: it runs nothing, and where PID 1 does not reap orphans (this
 * sandbox, Node as PID 1 in a container) an orphan's zombie stays forever and `kill(pid, 0)` still finds it.
 */
export function isGone(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return true
    throw error
  }
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  return /^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2))
}
