import { RE2JS } from 're2js'

/**
 * `matches` on RE2 (re2js): linear time in the text, whatever the pattern — `(a+)+$` cannot backtrack for minutes as
 * JavaScript's RegExp does. CEL specifies RE2 syntax, so patterns RE2 refuses (backreferences, lookaround) are errors.
 * Compiled patterns are kept (a workflow's patterns are few and used on every evaluation).
 */
const compiled = new Map<string, RE2JS>()
const KEPT = 500

function compile(pattern: string): RE2JS {
  let re = compiled.get(pattern)
  if (!re) {
    re = RE2JS.compile(pattern)
    if (compiled.size >= KEPT) compiled.clear()
    compiled.set(pattern, re)
  }
  return re
}

/** Why RE2 refuses `pattern`, or null when it compiles. */
export function patternProblem(pattern: string): string | null {
  try {
    compile(pattern)
    return null
  } catch (error) {
    return error instanceof Error ? error.message : String(error)
  }
}

/** CEL's `text.matches(pattern)`: true when the pattern matches anywhere in the text (RE2 semantics). */
export function re2Matches(text: string, pattern: string): boolean {
  return compile(pattern).matcher(text).find()
}

type Node = { op?: unknown; args?: unknown; handle?: unknown }

const isNode = (value: unknown): value is Node => typeof value === 'object' && value !== null && 'op' in value && 'args' in value

/**
 * Points every `matches` call of a checked cel-js AST at RE2 instead of cel-js's RegExp: the call node's handler (set
 * by cel-js's check, read at each evaluation) is replaced. Returns the problems of literal patterns RE2 refuses, so
 * that they are refused when the workflow is created; a pattern computed at run time fails its evaluation instead.
 */
export function bindMatches(ast: unknown): string[] {
  const problems: string[] = []
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(visit)
    if (!isNode(node)) return
    const args = node.args
    if (node.op === 'rcall' && Array.isArray(args) && args[0] === 'matches') {
      const pattern = (args[2] as unknown[] | undefined)?.[0]
      if (isNode(pattern) && pattern.op === 'value' && typeof pattern.args === 'string') {
        const problem = patternProblem(pattern.args)
        if (problem !== null) problems.push(`the pattern ${JSON.stringify(pattern.args)} is not valid RE2: ${problem}`)
      }
      node.handle = (values: unknown[]) => {
        const [text, pattern] = values
        if (typeof text !== 'string' || typeof pattern !== 'string') throw new TypeError('matches() takes a string and a string pattern')
        const problem = patternProblem(pattern)
        if (problem !== null) throw new TypeError(`the pattern ${JSON.stringify(pattern)} is not valid RE2: ${problem}`)
        return re2Matches(text, pattern)
      }
    }
    visit(args)
  }
  visit(ast)
  return problems
}
