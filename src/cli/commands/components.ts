import type { Component, ComponentRequest } from '../../client/index.js'
import { bool, JSON_OPTION, list, positive, printAnswer, str, type Command, type CommandContext } from '../command.js'
import { loadObject } from '../documents.js'
import { formatTable, formatTime, text } from '../format.js'
import { EXIT, UsageError } from '../io.js'

/** `harmonia components …` (API.md "Remote components"). Secrets go in, and are never printed: the API never returns them. */

const actionsOf = (c: Component) => (c.actions === null ? 'any' : c.actions.join(', '))

/** The component to register: the file's fields, then the flags on top; the secret only from the environment or the file. */
async function registration(ctx: CommandContext): Promise<ComponentRequest> {
  const { values } = ctx
  const file = ctx.args[0]
  const body: Record<string, unknown> = file ? await loadObject(file, ctx.io.cwd, 'a component') : {}
  const name = str(values, 'name')
  const url = str(values, 'component-url')
  const actions = list(values, 'action')
  const description = str(values, 'description')
  const timeout = positive(values, 'timeout')
  const secretEnv = str(values, 'secret-env')
  if (name !== undefined) body.name = name
  if (url !== undefined) body.url = url
  if (actions.length > 0) body.actions = actions
  if (description !== undefined) body.description = description
  if (timeout !== undefined) body.timeout = timeout
  if (secretEnv !== undefined) {
    const secret = ctx.io.env[secretEnv]
    if (!secret) throw new UsageError(`--secret-env ${secretEnv}: the environment variable ${secretEnv} is not set or empty`)
    body.secret = secret
  }
  if (typeof body.name !== 'string')
    throw new UsageError(`missing the component's name: --name <name>${file ? ` or "name" in ${file}` : ''}`)
  if (typeof body.url !== 'string')
    throw new UsageError(`missing the component's URL: --component-url <url>${file ? ` or "url" in ${file}` : ''}`)
  return body as ComponentRequest
}

export const componentCommands: Command[] = [
  {
    name: 'components list',
    args: '',
    summary: 'list components of every source (built-in, embedded, API, config file, Hermes)',
    options: JSON_OPTION,
    arity: [0, 0],
    async run(ctx) {
      const components = await ctx.client().listComponents()
      printAnswer(ctx, components, () =>
        formatTable(
          ['NAME', 'SOURCE', 'URL', 'ACTIONS', 'SECRET', 'TIMEOUT'],
          components.map((c) => [
            c.name,
            c.source,
            c.url ?? '-',
            actionsOf(c),
            c.has_secret ? 'yes' : 'no',
            c.timeout === null ? '-' : `${c.timeout}s`,
          ]),
          ctx.style,
        ),
      )
      return EXIT.ok
    },
  },
  {
    name: 'components get',
    args: '<name>',
    summary: 'show a component',
    options: JSON_OPTION,
    arity: [1, 1],
    async run(ctx) {
      const c = await ctx.client().getComponent(ctx.args[0]!)
      printAnswer(ctx, c, () => [
        `component ${c.name}`,
        `  source:      ${c.source}`,
        ...(c.url ? [`  url:         ${c.url}`] : []),
        `  actions:     ${actionsOf(c)}`,
        ...(c.description ? [`  description: ${c.description}`] : []),
        `  timeout:     ${c.timeout === null ? '-' : `${c.timeout}s`}`,
        `  secret:      ${c.has_secret ? 'yes (never shown)' : 'no'}`,
        ...(Object.keys(c.metadata).length > 0 ? [`  metadata:    ${text(c.metadata)}`] : []),
        ...(c.created_at ? [`  created:     ${formatTime(c.created_at)}`, `  updated:     ${formatTime(c.updated_at)}`] : []),
      ])
      return EXIT.ok
    },
  },
  {
    name: 'components register',
    args: '[file]',
    summary: 'register a remote component from a file (YAML or JSON) and/or flags',
    details:
      "Flags override the file's fields. The secret (which signs calls and callbacks) is read from the environment variable " +
      'named by --secret-env, or from the file\'s "secret"; it is never printed, and the API never returns it. ' +
      'Without --replace, a name already taken is a 409.',
    options: {
      name: { type: 'string', value: '<name>', help: 'the name tasks use as their component' },
      // Not --url: that one names the Harmonia server, as for every command.
      'component-url': { type: 'string', value: '<url>', help: 'its base URL: actions are called at <url>/api/actions/<action>' },
      action: { type: 'string', multiple: true, value: '<action>', help: 'an action it serves (repeatable; default: any)' },
      description: { type: 'string', value: '<text>', help: 'what it does' },
      timeout: { type: 'string', value: '<seconds>', help: 'how long one call may take' },
      'secret-env': { type: 'string', value: '<VAR>', help: 'read the secret from this environment variable' },
      replace: { type: 'boolean', help: 'create, or replace the API component of that name (PUT)' },
      ...JSON_OPTION,
    },
    arity: [0, 1],
    async run(ctx) {
      const body = await registration(ctx)
      const client = ctx.client()
      const c = bool(ctx.values, 'replace') ? await client.replaceComponent(body.name, body) : await client.registerComponent(body)
      printAnswer(
        ctx,
        c,
        () => `registered component ${c.name} at ${c.url} (actions: ${actionsOf(c)}; secret: ${c.has_secret ? 'yes' : 'no'})`,
      )
      return EXIT.ok
    },
  },
  {
    name: 'components delete',
    args: '<name>',
    summary: 'delete an API component (built-in and config components cannot be deleted)',
    arity: [1, 1],
    async run(ctx) {
      await ctx.client().deleteComponent(ctx.args[0]!)
      ctx.io.stdout.write(`deleted component ${ctx.args[0]}\n`)
      return EXIT.ok
    },
  },
  {
    name: 'components health',
    args: '<name>',
    summary: "check a component's GET <url>/health (exit 0 healthy, 1 not healthy, 3 unknown or API error)",
    details: 'Built-in and in-process components are always healthy.',
    options: JSON_OPTION,
    arity: [1, 1],
    async run(ctx) {
      const h = await ctx.client().componentHealth(ctx.args[0]!)
      const facts = [
        ...(h.status_code !== undefined ? [`HTTP ${h.status_code}`] : []),
        ...(h.latency_ms !== undefined ? [`${h.latency_ms}ms`] : []),
        // An HTTP status says why already; the error is news only when there was no answer.
        ...(h.error && h.status_code === undefined ? [h.error] : []),
      ].join(', ')
      const verdict = h.healthy ? ctx.style.status('completed', 'healthy') : ctx.style.status('failed', 'not healthy')
      printAnswer(ctx, h, () => `component ${h.name} ${verdict}${facts ? ` (${facts})` : ''}`)
      return h.healthy ? EXIT.ok : EXIT.unhealthy
    },
  },
]
