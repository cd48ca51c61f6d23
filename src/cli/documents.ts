import { readFile } from 'node:fs/promises'
import { extname, resolve } from 'node:path'
import { parse as parseYaml } from 'yaml'
import { setOwn } from '../json.js'
import { UsageError } from './io.js'

/** Reads a JSON or YAML document (by extension; other files are tried as JSON, then YAML). */
export async function loadDocument(path: string, cwd: string): Promise<unknown> {
  let text: string
  try {
    text = await readFile(resolve(cwd, path), 'utf8')
  } catch (error) {
    throw new UsageError(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`)
  }
  const ext = extname(path).toLowerCase()
  try {
    if (ext === '.json') return JSON.parse(text)
    if (ext === '.yaml' || ext === '.yml') return parseYaml(text)
    try {
      return JSON.parse(text)
    } catch {
      return parseYaml(text)
    }
  } catch (error) {
    throw new UsageError(`${path} is not valid ${ext === '.json' ? 'JSON' : 'YAML or JSON'}: ${(error as Error).message}`)
  }
}

/** Loads a document that must be an object (a workflow, an input file). */
export async function loadObject(path: string, cwd: string, what: string): Promise<Record<string, unknown>> {
  const value = await loadDocument(path, cwd)
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new UsageError(`${path}: ${what} must be an object`)
  return value as Record<string, unknown>
}

/**
 * `--input k=v` pairs into an object: a value that parses as JSON is taken as JSON (`n=3`, `ok=true`, `xs=[1,2]`),
 * anything else as a string (`name=world`). Later pairs win.
 */
export function parseInputPairs(pairs: readonly string[]): Record<string, unknown> {
  const input: Record<string, unknown> = {}
  for (const pair of pairs) {
    const eq = pair.indexOf('=')
    if (eq <= 0) throw new UsageError(`--input expects key=value, got "${pair}"`)
    const key = pair.slice(0, eq)
    const raw = pair.slice(eq + 1)
    let value: unknown = raw
    try {
      value = JSON.parse(raw)
    } catch {
      // not JSON: a plain string
    }
    // A key such as `__proto__` becomes an own field, as JSON.parse would make it.
    setOwn(input, key, value)
  }
  return input
}
