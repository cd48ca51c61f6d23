/** JSON paths as they appear in validation errors: `tasks[2].depends_on[0]`, `input.count`, `output["a b"]`. */

export type PathSegment = string | number

const PLAIN_KEY = /^[A-Za-z_$][\w$-]*$/

/** Appends one segment to a path: numbers as `[n]`, identifier-like keys as `.key`, anything else as `["key"]`. */
export function appendPath(path: string, segment: PathSegment): string {
  if (typeof segment === 'number') return `${path}[${segment}]`
  if (!PLAIN_KEY.test(segment)) return `${path}[${JSON.stringify(segment)}]`
  return path === '' ? segment : `${path}.${segment}`
}

/** Formats a list of segments as a path (`['tasks', 2, 'id']` → `tasks[2].id`). */
export function formatPath(segments: readonly PathSegment[]): string {
  let path = ''
  for (const segment of segments) path = appendPath(path, segment)
  return path
}

/** Joins a path and a path relative to it (`tasks[0]` + `input.data` → `tasks[0].input.data`; either may be empty). */
export function joinPath(prefix: string, relative: string): string {
  if (prefix === '') return relative
  if (relative === '') return prefix
  return relative.startsWith('[') ? `${prefix}${relative}` : `${prefix}.${relative}`
}
