import { readFile } from 'node:fs/promises'
import { extname } from 'node:path'
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document } from 'yaml'
import { formatPath, type PathSegment } from '../json.js'
import { readComponents, type ComponentConfig } from './config-entries.js'
import { substituteEnv } from './config-env.js'
import { jsonSyntaxError } from './config-json.js'

export { type AliasComponentConfig, type ComponentConfig, type ComponentConfigEntry, type RemoteComponentConfig } from './config-entries.js'

/**
 * The config file `HARMONIA_CONFIG` names (API.md "Remote components"): YAML or JSON, read once at start. A file that
 * cannot be used stops the start with one ConfigError listing every problem with its line and field.
 */

/** One problem: `path` is the field (`components.prometheus.url`, '' for the file as a whole), `line` 1-based. */
export type ConfigProblem = { path: string; line?: number; message: string }

/** Where the text comes from: the file named in messages (and whose extension picks the format), the environment. */
export type ConfigSource = { file: string; env: Record<string, string | undefined> }

/** `<file>:<line>: <path>: <message>`, leaving out what the problem does not have. */
export function formatConfigProblem(file: string, problem: ConfigProblem): string {
  const where = problem.line === undefined ? file : `${file}:${problem.line}`
  return problem.path === '' ? `${where}: ${problem.message}` : `${where}: ${problem.path}: ${problem.message}`
}

/** A config file that cannot be used. Its message lists every problem, one a line; none quotes a value. */
export class ConfigError extends Error {
  readonly file: string
  readonly problems: ConfigProblem[]
  constructor(file: string, problems: ConfigProblem[]) {
    const sorted = [...problems].sort((a, b) => (a.line ?? 0) - (b.line ?? 0))
    const count = sorted.length === 1 ? '1 problem' : `${sorted.length} problems`
    super(`invalid Harmonia config (${count}):\n${sorted.map((p) => `  ${formatConfigProblem(file, p)}`).join('\n')}`)
    this.name = 'ConfigError'
    this.file = file
    this.problems = sorted
  }
}

/** `.json` is JSON and `.yaml`/`.yml` YAML; any other name is JSON when the text is. */
function isJson(file: string, text: string): boolean {
  const extension = extname(file).toLowerCase()
  if (extension === '.json') return true
  if (extension === '.yaml' || extension === '.yml') return false
  return jsonSyntaxError(text) === null
}

/** The 1-based line of the key (or list item) at `at`, as deep as the document goes: the line that names the field. */
function lineOf(doc: Document, at: readonly PathSegment[], lines: LineCounter): number | undefined {
  let node: unknown = doc.contents
  let offset = (node as { range?: [number] } | null)?.range?.[0]
  for (const segment of at) {
    if (isAlias(node)) node = node.resolve(doc)
    if (isMap(node)) {
      const pair = node.items.find((p) => String(isScalar(p.key) ? p.key.value : p.key) === String(segment))
      if (pair === undefined) break
      offset = (pair.key as { range?: [number] } | null)?.range?.[0] ?? offset
      node = pair.value
    } else if (isSeq(node) && typeof segment === 'number') {
      node = node.items[segment]
      offset = (node as { range?: [number] } | undefined)?.range?.[0] ?? offset
    } else break
  }
  return offset === undefined ? undefined : lines.linePos(offset).line
}

/** Parses and checks a config file's text; throws ConfigError naming every problem. */
export function parseComponentConfig(text: string, source: ConfigSource): ComponentConfig {
  const { file, env } = source
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text
  const lines = new LineCounter()
  const json = isJson(file, body)
  if (json) {
    const broken = jsonSyntaxError(body)
    if (broken !== null) {
      const line = body.slice(0, broken.offset).split('\n').length
      throw new ConfigError(file, [{ path: '', line, message: `not valid JSON: ${broken.message}` }])
    }
  }
  // JSON is YAML too: one parser gives both formats the lines of their keys. prettyErrors off: a pretty error quotes
  // the source line, which may be a secret's. YAML files may share settings with anchors and `<<` merge keys.
  const doc = parseDocument(body, { lineCounter: lines, prettyErrors: false, schema: json ? 'json' : 'core', merge: !json })
  const syntax = [...doc.errors, ...doc.warnings]
  if (syntax.length > 0) {
    const label = json ? 'JSON' : 'YAML'
    throw new ConfigError(
      file,
      syntax.map((e) => ({ path: '', line: lines.linePos(e.pos[0]).line, message: `${label}: ${e.message}` })),
    )
  }
  let data: unknown
  try {
    data = doc.toJS({ maxAliasCount: 100 })
  } catch (error) {
    // An alias bomb (yaml counts the expansions) or a key that cannot be a string.
    throw new ConfigError(file, [{ path: '', message: `cannot be read: ${error instanceof Error ? error.message : String(error)}` }])
  }
  const problems: ConfigProblem[] = []
  const report = (at: readonly PathSegment[], message: string) => {
    const line = lineOf(doc, at, lines)
    problems.push(line === undefined ? { path: formatPath(at), message } : { path: formatPath(at), line, message })
  }
  const components = readComponents(substituteEnv(data, [], env, report), report)
  if (problems.length > 0) throw new ConfigError(file, problems)
  return { components }
}

/** Reads and checks the config file at `path` (HARMONIA_CONFIG); throws ConfigError when it cannot be read or used. */
export async function loadComponentConfig(path: string, env: Record<string, string | undefined> = process.env): Promise<ComponentConfig> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    throw new ConfigError(path, [{ path: '', message: `cannot be read: ${error instanceof Error ? error.message : String(error)}` }])
  }
  return parseComponentConfig(text, { file: path, env })
}
