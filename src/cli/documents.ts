import { readFile } from 'node:fs/promises'
import { extname, resolve } from 'node:path'
import { parse as parseYaml } from 'yaml'
import { setOwn } from '../json.js'
import { UsageError, type Io } from './io.js'

/** A JSON or YAML document (by the extension of `source`; otherwise tried as JSON, then YAML). */
function parseDocument(text: string, source: string): unknown {
  const ext = extname(source).toLowerCase()
  try {
    if (ext === '.json') return JSON.parse(text)
    if (ext === '.yaml' || ext === '.yml') return parseYaml(text)
    try {
      return JSON.parse(text)
    } catch {
      return parseYaml(text)
    }
  } catch (error) {
    throw new UsageError(`${source} is not valid ${ext === '.json' ? 'JSON' : 'YAML or JSON'}: ${(error as Error).message}`)
  }
}

/** Reads a JSON or YAML document (by extension; other files are tried as JSON, then YAML). */
export async function loadDocument(path: string, cwd: string): Promise<unknown> {
  let text: string
  try {
    text = await readFile(resolve(cwd, path), 'utf8')
  } catch (error) {
    throw new UsageError(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`)
  }
  return parseDocument(text, path)
}

function objectOf(value: unknown, source: string, what: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new UsageError(`${source}: ${what} must be an object`)
  return value as Record<string, unknown>
}

/** Loads a document that must be an object (a workflow, an input file). */
export async function loadObject(path: string, cwd: string, what: string): Promise<Record<string, unknown>> {
  return objectOf(await loadDocument(path, cwd), path, what)
}

/** An object from a file, or from standard input when `path` is `-`. */
export async function loadObjectOrStdin(path: string, io: Io, what: string): Promise<Record<string, unknown>> {
  if (path !== '-') return loadObject(path, io.cwd, what)
  if (!io.stdin) throw new UsageError('no standard input to read')
  let text = ''
  const decoder = new TextDecoder()
  for await (const chunk of io.stdin) text += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true })
  return objectOf(parseDocument(text, 'standard input'), 'standard input', what)
}

/** An object given as JSON text in an option (`--data '{"k": 1}'`). */
export function jsonObjectOption(raw: string, option: string, what: string): Record<string, unknown> {
  let value: unknown
  try {
    value = JSON.parse(raw)
  } catch {
    throw new UsageError(`--${option} must be JSON, got ${raw}`)
  }
  return objectOf(value, `--${option}`, what)
}

/**
 * `--input k=v` pairs into an object: a value that parses as JSON is taken as JSON (`n=3`, `ok=true`, `xs=[1,2]`),
 * anything else as a string (`name=world`). Later pairs win. `option` names the option in errors.
 */
export function parseInputPairs(pairs: readonly string[], option = 'input'): Record<string, unknown> {
  const input: Record<string, unknown> = {}
  for (const pair of pairs) {
    const eq = pair.indexOf('=')
    if (eq <= 0) throw new UsageError(`--${option} expects key=value, got "${pair}"`)
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
