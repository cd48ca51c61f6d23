/**
 * Validation of a workflow definition body (API.md "Workflows"): schema, task graph, expressions, components.
 * Every problem found is reported at once, each with a path (`tasks[2].depends_on[0]`) and a message naming the task
 * and the field. The checks are linear in tasks + dependencies (see dag.ts).
 */
import * as v from 'valibot'
import { ValidationError, type FieldError } from '../errors.js'
import {
  compileCondition,
  compileValue,
  ExpressionSyntaxError,
  taskReferences,
  type CompiledValue,
  type SyntaxErrorSink,
  type TaskReference,
} from '../expressions/index.js'
import { appendPath, formatPath, isPlainObject, joinPath, setOwn, type PathSegment } from '../json.js'
import { componentProblem, type ComponentCatalog } from './component-check.js'
import { rememberCompiled, type CompiledTask } from './compile.js'
import { checkElementReads, compileForEach } from './fan-out.js'
import { areUpstream, dependentsOf, findCycles, topologicalRanks } from './dag.js'
import {
  DEFAULT_MAX_TASKS,
  INPUT_TYPES,
  type InputField,
  type InputSpec,
  type InputType,
  type TaskDefinition,
  type WorkflowDefinition,
} from './definition.js'
import { checkTimerRanges } from './limits.js'
import { isMissingKey } from './parse.js'
import { describeInputType, describeValue, matchesInputType } from './input.js'
import { isJsonSchemaInput, schemaProblems } from './json-schema-input.js'
import { checkSchedules } from './schedule-check.js'
import { WorkflowDefinitionListSchema } from './workflow.schema.js'

export type ParseWorkflowOptions = {
  /** The most tasks a workflow may have (default DEFAULT_MAX_TASKS). */
  maxTasks?: number
  /** When given, a task naming a component or action the catalog does not know is an error. */
  components?: ComponentCatalog
}

type WorkflowOutput = v.InferOutput<typeof WorkflowDefinitionListSchema>

/** A task as far as it can be read before (or despite) schema errors, so that graph and expression checks still run. */
type TaskSketch = {
  index: number
  id: string | undefined
  /** `task "fetch"`, or `task at tasks[3]` when it has no usable id. */
  label: string
  /** The string entries of depends_on, with their position in the list. */
  deps: { position: number; id: string }[]
  input: unknown
  when: string | undefined
  /** The raw `for_each` (undefined: the task does not fan out). */
  forEach: unknown
  component: string | undefined
  action: string | undefined
}

const nonEmpty = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined)

/**
 * Validates a workflow body and returns it normalised: `tasks` a list in definition order (a map keyed by id is
 * accepted), defaults applied, duplicate dependencies removed, unknown fields and `version` dropped.
 * Throws ValidationError listing every problem found.
 */
export function parseWorkflowDefinition(body: unknown, options: ParseWorkflowOptions = {}): WorkflowDefinition {
  if (!isPlainObject(body)) throw invalid([{ path: '', message: 'the workflow definition must be a JSON object' }])
  const errors: FieldError[] = []
  const rawTasks = normaliseTasks(body.tasks, options.maxTasks ?? DEFAULT_MAX_TASKS, errors)

  const parsed = v.safeParse(WorkflowDefinitionListSchema, { ...body, tasks: rawTasks })
  const sketches = Array.isArray(rawTasks) ? rawTasks.map(sketchTask) : []
  if (!parsed.success) for (const issue of parsed.issues) errors.push(...issueToErrors(issue, sketches))

  checkInputDefaults(body.input, errors)
  const graph = checkGraph(sketches, errors)
  const compiledTasks = checkTaskExpressions(sketches, graph, errors)
  const output = checkOutput(isPlainObject(body.output) ? body.output : {}, graph.index, errors)
  if (options.components) checkComponents(sketches, options.components, errors)
  checkSchedules(body.schedules, parsed.success ? buildInput(parsed.output.input) : undefined, errors)

  if (errors.length > 0 || !parsed.success) throw invalid(errors)
  const definition = buildDefinition(parsed.output)
  checkTimerRanges(definition, errors)
  if (errors.length > 0) throw invalid(errors)
  rememberCompiled({ definition, tasks: compiledTasks, output })
  return definition
}

function invalid(errors: FieldError[]): ValidationError {
  return new ValidationError(errors, 'Invalid workflow definition')
}

/** Checks the task limit first (nothing else runs on an oversized body) and turns a map of tasks into a list. */
function normaliseTasks(tasks: unknown, maxTasks: number, errors: FieldError[]): unknown {
  const count = Array.isArray(tasks) ? tasks.length : isPlainObject(tasks) ? Object.keys(tasks).length : 0
  if (count > maxTasks) {
    throw invalid([{ path: 'tasks', message: `tasks: a workflow can have at most ${maxTasks} tasks, this one has ${count}` }])
  }
  if (count === 0 && (Array.isArray(tasks) || isPlainObject(tasks))) {
    errors.push({ path: 'tasks', message: 'tasks: a workflow needs at least one task' })
  }
  if (!isPlainObject(tasks)) return tasks
  return Object.entries(tasks).map(([key, task], i) => {
    if (!isPlainObject(task)) return task
    if (task.id !== undefined && task.id !== key) {
      errors.push({
        path: `tasks[${i}].id`,
        message: `task "${key}": id ${JSON.stringify(task.id)} does not match its key "${key}" in the tasks map`,
      })
    }
    return { ...task, id: key }
  })
}

function sketchTask(raw: unknown, index: number): TaskSketch {
  const task = isPlainObject(raw) ? raw : {}
  const id = nonEmpty(task.id)
  const deps: TaskSketch['deps'] = []
  if (Array.isArray(task.depends_on)) {
    task.depends_on.forEach((dep: unknown, position) => {
      if (nonEmpty(dep) !== undefined) deps.push({ position, id: dep as string })
    })
  }
  return {
    index,
    id,
    label: id === undefined ? `task at tasks[${index}]` : `task "${id}"`,
    deps,
    input: task.input === undefined ? {} : task.input,
    when: typeof task.when === 'string' ? task.when : undefined,
    forEach: task.for_each,
    component: nonEmpty(task.component),
    action: nonEmpty(task.action),
  }
}

/**
 * A valibot issue as FieldErrors: `tasks[0].timeout` / `task "a": timeout must be greater than 0 seconds`.
 * A union issue (`retry`: a number or a policy object) whose object branch found problems in nested fields is replaced
 * by those, so `retry: { max_attempts: 0 }` reports `retry.max_attempts` and not only "must be a number or a policy".
 */
function issueToErrors(issue: v.BaseIssue<unknown>, sketches: TaskSketch[], parent: PathSegment[] = []): FieldError[] {
  const segments = [
    ...parent,
    ...(issue.path ?? []).map((item): PathSegment => (typeof item.key === 'number' ? item.key : String(item.key))),
  ]
  const nested = issue.type === 'union' ? (issue.issues ?? []).filter((sub) => (sub.path?.length ?? 0) > 0) : []
  if (nested.length > 0) return nested.flatMap((sub) => issueToErrors(sub, sketches, segments))
  const path = formatPath(segments)
  const reason = isMissingKey(issue) ? 'is required' : issue.message
  const [first, index] = segments
  if (first === 'tasks' && typeof index === 'number') {
    const field = formatPath(segments.slice(2))
    const label = sketches[index]?.label ?? `task at tasks[${index}]`
    return [{ path, message: field === '' ? `${label} ${reason}` : `${label}: ${field} ${reason}` }]
  }
  return [{ path, message: path === '' ? `the workflow definition ${reason}` : `${path} ${reason}` }]
}

function checkInputDefaults(input: unknown, errors: FieldError[]): void {
  if (isJsonSchemaInput(input)) {
    errors.push(...schemaProblems(input))
    return
  }
  if (!isPlainObject(input)) return
  for (const [name, field] of Object.entries(input)) {
    if (!isPlainObject(field) || field.default === undefined) continue
    const type = field.type
    if (typeof type !== 'string' || !(INPUT_TYPES as readonly string[]).includes(type)) continue
    if (!matchesInputType(field.default, type as InputType)) {
      const path = appendPath(appendPath('input', name), 'default')
      errors.push({
        path,
        message: `${path} must be ${describeInputType(type as InputType)} (the declared type), got ${describeValue(field.default)}`,
      })
    }
  }
}

type Graph = {
  /** Task id → index of its first definition. */
  index: Map<string, number>
  /** Valid, distinct dependencies of each task. */
  deps: number[][]
  depSets: Set<number>[]
  dependents: number[][]
  rank: Int32Array
  /** True when the graph has no cycle (ranks are a topological order). */
  acyclic: boolean
}

function checkGraph(sketches: TaskSketch[], errors: FieldError[]): Graph {
  const index = new Map<string, number>()
  for (const task of sketches) {
    if (task.id === undefined) continue
    const first = index.get(task.id)
    if (first === undefined) index.set(task.id, task.index)
    else errors.push({ path: `tasks[${task.index}].id`, message: `${task.label}: id "${task.id}" is already used by tasks[${first}]` })
  }

  const depSets = sketches.map((task) => {
    const set = new Set<number>()
    for (const { position, id } of task.deps) {
      const target = index.get(id)
      if (target !== undefined && id !== task.id) {
        set.add(target)
        continue
      }
      const path = `tasks[${task.index}].depends_on[${position}]`
      if (id === task.id) errors.push({ path, message: `${task.label}: depends_on[${position}] names the task itself` })
      else errors.push({ path, message: `${task.label}: depends_on[${position}] names unknown task "${id}"` })
    }
    return set
  })
  const deps = depSets.map((set) => [...set])
  const dependents = dependentsOf(deps)
  const { rank, complete } = topologicalRanks(deps, dependents)

  if (!complete) {
    for (const cycle of findCycles(deps, rank)) {
      // Start the cycle at its earliest-defined task so the message is stable.
      const start = cycle.indexOf(Math.min(...cycle))
      const ordered = [...cycle.slice(start), ...cycle.slice(0, start)]
      const head = sketches[ordered[0]!]!
      const nextId = sketches[ordered[1 % ordered.length]!]!.id
      const position = head.deps.find((dep) => dep.id === nextId)?.position ?? 0
      const names = [...ordered, ordered[0]!].map((i) => sketches[i]!.id).join(' → ')
      errors.push({
        path: `tasks[${head.index}].depends_on[${position}]`,
        message: `${head.label}: depends_on[${position}] closes a dependency cycle: ${names} (each task depends on the next)`,
      })
    }
  }
  return { index, deps, depSets, dependents, rank, acyclic: complete }
}

type UpstreamQuery = { task: number; upstream: number; field: string; referenced: string }

function checkTaskExpressions(sketches: TaskSketch[], graph: Graph, errors: FieldError[]): CompiledTask[] {
  const queries: UpstreamQuery[] = []
  const compiled = sketches.map((task): CompiledTask => {
    const prefix = `tasks[${task.index}]`
    const sink: SyntaxErrorSink = (error) => {
      const field = error.under('input').path
      errors.push({ path: joinPath(prefix, field), message: `${task.label}: ${field}: ${error.message}` })
    }
    const input = compileValue(task.input, sink)
    let when: CompiledValue | undefined
    if (task.when !== undefined) {
      try {
        when = compileCondition(task.when)
      } catch (error) {
        if (!(error instanceof ExpressionSyntaxError)) throw error
        errors.push({ path: `${prefix}.when`, message: `${task.label}: when: ${error.message}` })
      }
    }
    // Hot loop for large workflows: the common case (a direct dependency) allocates nothing.
    const depSet = graph.depSets[task.index]!
    const check = (ref: TaskReference, field: () => string): void => {
      const upstream = graph.index.get(ref.task)
      if (upstream !== undefined && upstream !== task.index && ref.task !== task.id && depSet.has(upstream)) return
      const at = field()
      const path = joinPath(prefix, at)
      if (upstream === undefined) {
        errors.push({ path, message: `${task.label}: ${at} reads tasks.${ref.task}, but there is no task "${ref.task}"` })
      } else if (ref.task === task.id) {
        errors.push({
          path,
          message: `${task.label}: ${at} reads the task's own result (tasks.${ref.task}); a task can only read tasks upstream of it`,
        })
      } else {
        queries.push({ task: task.index, upstream, field: at, referenced: ref.task })
      }
    }
    const forEach = task.forEach === undefined ? undefined : compileForEach(task.forEach, prefix, task.label, errors)
    for (const ref of taskReferences(input)) check(ref, () => joinPath('input', ref.path))
    if (when) for (const ref of taskReferences(when)) check(ref, () => 'when')
    if (forEach) for (const ref of taskReferences(forEach)) check(ref, () => 'for_each')
    checkElementReads({ label: task.label, prefix, fansOut: task.forEach !== undefined }, when ? { input, when } : { input }, errors)
    return { input, ...(when ? { when } : {}), ...(forEach ? { forEach } : {}) }
  })

  const answers = areUpstream(graph.dependents, graph.rank, graph.acyclic, queries)
  queries.forEach((query, q) => {
    if (answers[q]) return
    const task = sketches[query.task]!
    errors.push({
      path: joinPath(`tasks[${query.task}]`, query.field),
      message: `${task.label}: ${query.field} reads tasks.${query.referenced}, but "${query.referenced}" is not upstream of ${task.id === undefined ? 'it' : `"${task.id}"`}: add it to depends_on (directly or through another task)`,
    })
  })
  return compiled
}

/** The output mapping may read any task, but only tasks that exist. */
function checkOutput(output: Record<string, unknown>, index: Map<string, number>, errors: FieldError[]): CompiledValue {
  const compiled = compileValue(output, (error) => {
    const path = error.under('output').path
    errors.push({ path, message: `${path}: ${error.message}` })
  })
  for (const ref of taskReferences(compiled)) {
    if (index.has(ref.task)) continue
    const path = joinPath('output', ref.path)
    errors.push({ path, message: `${path} reads tasks.${ref.task}, but there is no task "${ref.task}"` })
  }
  return compiled
}

function checkComponents(sketches: TaskSketch[], catalog: ComponentCatalog, errors: FieldError[]): void {
  for (const task of sketches) {
    const { component, action } = task
    if (component === undefined || action === undefined) continue
    const problem = componentProblem(task.index, task.label, { component, action }, catalog.check(component, action))
    if (problem) errors.push(problem)
  }
}

/** The accepted inputs as stored: a JSON Schema as given, fields with only their known keys. */
function buildInput(spec: WorkflowOutput['input']): InputSpec {
  if (isJsonSchemaInput(spec)) return structuredClone(spec)
  const input: Record<string, InputField> = {}
  const fields: Record<string, InputField> = spec
  for (const [name, field] of Object.entries(fields)) {
    const out: InputField = {}
    if (field.type !== undefined) out.type = field.type
    if (field.required !== undefined) out.required = field.required
    if (field.default !== undefined) out.default = field.default
    if (field.description !== undefined) out.description = field.description
    setOwn(input, name, out)
  }
  return input
}

function buildDefinition(parsed: WorkflowOutput): WorkflowDefinition {
  const definition: WorkflowDefinition = {
    name: parsed.name,
    description: parsed.description,
    metadata: parsed.metadata,
    input: buildInput(parsed.input),
    output: parsed.output,
    tasks: parsed.tasks.map(buildTask),
    max_concurrency: parsed.max_concurrency,
    fail_fast: parsed.fail_fast,
  }
  if (parsed.timeout !== undefined) definition.timeout = parsed.timeout
  if (parsed.schedules.length > 0) definition.schedules = parsed.schedules
  return definition
}

function buildTask(task: WorkflowOutput['tasks'][number]): TaskDefinition {
  const out: TaskDefinition = {
    id: task.id,
    component: task.component,
    action: task.action,
    input: task.input,
    depends_on: [...new Set(task.depends_on)],
    metadata: task.metadata,
  }
  if (task.name !== undefined) out.name = task.name
  if (task.timeout !== undefined) out.timeout = task.timeout
  if (task.retry !== undefined) out.retry = task.retry
  if (task.when !== undefined) out.when = task.when
  if (task.output !== undefined) out.output = task.output
  if (task.for_each !== undefined) out.for_each = task.for_each
  if (task.for_each_concurrency !== undefined) out.for_each_concurrency = task.for_each_concurrency
  if (task.continue_on_error !== undefined) out.continue_on_error = task.continue_on_error
  return out
}
