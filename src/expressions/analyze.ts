import { EXPRESSION_ROOTS, isExpressionRoot, TASK_VIEW_FIELDS, type ExpressionRoot } from './environment.js'
import type { PathTrie } from './convert.js'

/** For each root an expression uses, the static paths it reads: what evaluation must convert, and nothing more. */
export type RootPlan = Map<ExpressionRoot, PathTrie>

export type Analysis = { plan: RootPlan; tasks: string[] }

/** A rule of ours (not CEL's) that the expression breaks, such as using `tasks` without a literal task id. */
export class AnalysisError extends Error {}

/** The minimal view of a cel-js AST node this module relies on (op + args, see cel-js `ASTNode`). */
type AstNode = { op: string; args: unknown }

/** Macros whose first argument declares an iteration variable (`list.map(x, …)`, `cel.bind(v, …, …)`). */
const BINDING_MACROS = new Set(['all', 'exists', 'exists_one', 'map', 'filter', 'bind'])

/**
 * Walks a checked AST and collects the roots, their static paths and the task ids it reads.
 *
 * A chain of `.field` and `["literal"]` accesses from a root (`input.a["b"].c`) is recorded as a path; a chain that is
 * indexed dynamically (`input.items[i]`) or passed as a whole (`size(input.items)`) marks its end as used whole.
 * `tasks` must be followed by a literal id, so the ids an expression reads are known before it runs.
 */
export function analyzeAst(ast: unknown): Analysis {
  const analysis: Analysis = { plan: new Map(), tasks: [] }
  walk(ast as AstNode, analysis)
  return analysis
}

function isNode(value: unknown): value is AstNode {
  return typeof value === 'object' && value !== null && typeof (value as AstNode).op === 'string' && 'args' in value
}

function walk(node: AstNode, analysis: Analysis): void {
  switch (node.op) {
    case 'value':
      return
    case 'id':
      record(node.args as string, [], analysis)
      return
    case '.':
    case '[]':
      walkAccess(node, analysis)
      return
    case 'rcall':
      checkBinding(node)
      break
    default:
      break
  }
  walkChildren(node.args, analysis)
}

function walkChildren(args: unknown, analysis: Analysis): void {
  if (isNode(args)) walk(args, analysis)
  else if (Array.isArray(args)) for (const arg of args) walkChildren(arg, analysis)
}

function walkAccess(start: AstNode, analysis: Analysis): void {
  const segments: string[] = []
  let node = start
  for (;;) {
    const [target, key] = node.args as [AstNode, unknown]
    if (node.op === '.' && typeof key === 'string') {
      segments.push(key)
      node = target
    } else if (node.op === '[]' && isNode(key) && key.op === 'value' && typeof key.args === 'string') {
      segments.push(key.args)
      node = target
    } else break
  }
  if (node.op === 'id') {
    record(node.args as string, segments.reverse(), analysis)
  } else if (node.op === '[]') {
    // A dynamic index: whatever is indexed is used as a whole, and the index is an expression of its own.
    walkChildren(node.args, analysis)
  } else {
    walk(node, analysis)
  }
}

function record(name: string, path: string[], analysis: Analysis): void {
  // Names that are not roots are iteration variables of macros (`x` in `items.map(x, x.n)`): nothing to convert.
  if (!isExpressionRoot(name)) return
  if (name === 'tasks') checkTaskPath(path, analysis)
  let trie = analysis.plan.get(name)
  if (!trie) analysis.plan.set(name, (trie = newTrie()))
  for (const segment of path) {
    if (trie.whole) return
    let child = trie.children.get(segment)
    if (!child) trie.children.set(segment, (child = newTrie()))
    trie = child
  }
  trie.whole = true
  trie.children.clear()
}

function checkTaskPath(path: string[], analysis: Analysis): void {
  const [id, field] = path
  if (id === undefined) {
    throw new AnalysisError('"tasks" must be followed by a literal task id: tasks.<id>.output, or tasks["<id>"].output for ids with "-"')
  }
  if (field !== undefined && !TASK_VIEW_FIELDS.has(field)) {
    throw new AnalysisError(`tasks.${id} has no field "${field}": use tasks.${id}.output, tasks.${id}.status or tasks.${id}.error`)
  }
  if (!analysis.tasks.includes(id)) analysis.tasks.push(id)
}

function checkBinding(node: AstNode): void {
  const [name, , args] = node.args as [unknown, unknown, unknown]
  if (typeof name !== 'string' || !BINDING_MACROS.has(name) || !Array.isArray(args)) return
  const variable: unknown = args[0]
  if (isNode(variable) && variable.op === 'id' && isExpressionRoot(variable.args as string)) {
    throw new AnalysisError(
      `the variable "${variable.args as string}" of ${name}() hides the root of the same name; choose another name (roots: ${EXPRESSION_ROOTS.join(', ')})`,
    )
  }
}

function newTrie(): PathTrie {
  return { whole: false, children: new Map() }
}

/** Merges the paths of `from` into `into` (both describe what to convert; the result reads both sets). */
export function mergePlans(into: RootPlan, from: RootPlan): void {
  for (const [root, trie] of from) {
    const existing = into.get(root)
    if (existing) mergeTrie(existing, trie)
    else into.set(root, cloneTrie(trie))
  }
}

function mergeTrie(into: PathTrie, from: PathTrie): void {
  if (into.whole) return
  if (from.whole) {
    into.whole = true
    into.children.clear()
    return
  }
  for (const [key, child] of from.children) {
    const existing = into.children.get(key)
    if (existing) mergeTrie(existing, child)
    else into.children.set(key, cloneTrie(child))
  }
}

function cloneTrie(trie: PathTrie): PathTrie {
  const children = new Map<string, PathTrie>()
  for (const [key, child] of trie.children) children.set(key, cloneTrie(child))
  return { whole: trie.whole, children }
}
