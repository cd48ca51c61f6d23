import { getOwn, isPlainObject, setOwn, type PathSegment } from '../json.js'

/**
 * `${env:NAME}` in the config file's strings: the one expression it reads. A string that cannot be resolved becomes
 * UNRESOLVED, so that the field checks skip it rather than report it a second time.
 */

/** Stands for a string whose reference could not be resolved (already reported). */
export const UNRESOLVED: unique symbol = Symbol('unresolved ${env:…}')

type Report = (at: readonly PathSegment[], message: string) => void

// Any `${` must open a reference: `${ENV:X}` or `${X}` is a typo to report, not text to keep.
const REFERENCE = /\$\{(?:env:([A-Za-z_][A-Za-z0-9_]*)\})?/g

/** `value` with `${env:NAME}` replaced from `env` in every string (not in keys), each failure reported at its path. */
export function substituteEnv(
  value: unknown,
  at: readonly PathSegment[],
  env: Record<string, string | undefined>,
  report: Report,
): unknown {
  if (typeof value === 'string') return substituteString(value, at, env, report)
  if (Array.isArray(value)) return value.map((item, i) => substituteEnv(item, [...at, i], env, report))
  if (!isPlainObject(value)) return value
  const copy: Record<string, unknown> = {}
  for (const [key, item] of Object.entries(value)) setOwn(copy, key, substituteEnv(item, [...at, key], env, report))
  return copy
}

function substituteString(
  text: string,
  at: readonly PathSegment[],
  env: Record<string, string | undefined>,
  report: Report,
): string | typeof UNRESOLVED {
  let resolved = true
  // One pass: a value read from the environment is not searched for references in turn.
  const result = text.replace(REFERENCE, (whole, name: string | undefined) => {
    const found = name === undefined ? undefined : getOwn(env, name)
    if (found !== undefined) return found
    resolved = false
    report(
      at,
      name === undefined ? '`${` must start an ${env:NAME} reference, the only expression read' : `environment variable ${name} is not set`,
    )
    return whole
  })
  return resolved ? result : UNRESOLVED
}
