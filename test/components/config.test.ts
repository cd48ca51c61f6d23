import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { ConfigError, loadComponentConfig, parseComponentConfig, type ConfigProblem } from '../../src/components/config.js'

const dir = mkdtempSync(join(tmpdir(), 'harmonia-config-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const write = (name: string, text: string) => {
  const path = join(dir, name)
  writeFileSync(path, text)
  return path
}

const SECRET = 'hunter2-very-secret'
const env = { PROMETHEUS_SECRET: SECRET, PROM_HOST: '10.0.0.5:8030' }

/** The ConfigError `text` throws (failing the test when it parses). */
function errorOf(text: string, file = 'harmonia.yaml', environment: Record<string, string | undefined> = env): ConfigError {
  try {
    parseComponentConfig(text, { file, env: environment })
  } catch (error) {
    if (error instanceof ConfigError) return error
    throw error
  }
  throw new Error('expected a ConfigError')
}
const problemsOf = (text: string, file?: string, environment?: Record<string, string | undefined>) =>
  errorOf(text, file, environment).problems

const YAML = `# Tekton components
components:
  ergon:
    type: shell
  prometheus:
    url: http://\${env:PROM_HOST}
    secret: \${env:PROMETHEUS_SECRET}
    actions: [analyze_results, report]
    timeout: 30
    description: Analyses results
    metadata:
      team: tekton
      nested: { key: "secret is \${env:PROMETHEUS_SECRET}" }
`
const EXPECTED = {
  components: [
    { name: 'ergon', kind: 'alias', type: 'shell' },
    {
      name: 'prometheus',
      kind: 'remote',
      url: 'http://10.0.0.5:8030',
      secret: SECRET,
      actions: ['analyze_results', 'report'],
      timeout: 30,
      description: 'Analyses results',
      metadata: { team: 'tekton', nested: { key: `secret is ${SECRET}` } },
    },
  ],
}

describe('reading a config file', () => {
  it('reads a YAML file: aliases, remote components, ${env:NAME} in any string', async () => {
    expect(await loadComponentConfig(write('tekton.yaml', YAML), env)).toEqual(EXPECTED)
    expect(await loadComponentConfig(write('tekton.yml', YAML), env)).toEqual(EXPECTED)
  })

  it('reads a JSON file the same way', async () => {
    const json = JSON.stringify(
      {
        components: {
          ergon: { type: 'shell' },
          prometheus: {
            url: 'http://${env:PROM_HOST}',
            secret: '${env:PROMETHEUS_SECRET}',
            actions: ['analyze_results', 'report'],
            timeout: 30,
            description: 'Analyses results',
            metadata: { team: 'tekton', nested: { key: 'secret is ${env:PROMETHEUS_SECRET}' } },
          },
        },
      },
      null,
      '\t',
    )
    expect(await loadComponentConfig(write('tekton.json', json), env)).toEqual(EXPECTED)
    // Any other name: JSON when the text is JSON, else YAML.
    expect(await loadComponentConfig(write('tekton.conf', json), env)).toEqual(EXPECTED)
    expect(await loadComponentConfig(write('tekton', YAML), env)).toEqual(EXPECTED)
  })

  it('fills in the optional fields of a remote component, and accepts null for them', () => {
    const config = parseComponentConfig('components:\n  p: {url: "https://p.tekton.local/base", timeout: null}\n', {
      file: 'c.yaml',
      env: {},
    })
    expect(config.components).toEqual([
      {
        name: 'p',
        kind: 'remote',
        url: 'https://p.tekton.local/base',
        secret: null,
        actions: null,
        timeout: null,
        description: '',
        metadata: {},
      },
    ])
  })

  it('accepts a file without components, and YAML anchors and merge keys', () => {
    expect(parseComponentConfig('{}', { file: 'c.json', env: {} })).toEqual({ components: [] })
    const shared = 'base: &base {url: "http://a", timeout: 5}\ncomponents:\n  a: *base\n  b:\n    <<: *base\n    timeout: 9\n'
    expect(() => parseComponentConfig(shared, { file: 'c.yaml', env: {} })).toThrow(/base: unknown field/)
    const config = parseComponentConfig('components:\n  a: &base {url: "http://a", timeout: 5}\n  b:\n    <<: *base\n    timeout: 9\n', {
      file: 'c.yaml',
      env: {},
    })
    expect(config.components.map((c) => c.kind === 'remote' && [c.name, c.url, c.timeout])).toEqual([
      ['a', 'http://a', 5],
      ['b', 'http://a', 9],
    ])
  })

  it('reads process.env by default', async () => {
    const path = write('env.yaml', 'components:\n  p: {url: "http://${env:HARMONIA_CONFIG_TEST_HOST}"}\n')
    process.env.HARMONIA_CONFIG_TEST_HOST = 'from-process-env'
    try {
      expect((await loadComponentConfig(path)).components[0]).toMatchObject({ url: 'http://from-process-env' })
    } finally {
      delete process.env.HARMONIA_CONFIG_TEST_HOST
    }
  })

  it('a file that cannot be read is a ConfigError naming it', async () => {
    const missing = join(dir, 'missing.yaml')
    const error = await loadComponentConfig(missing, env).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ConfigError)
    expect(error).toMatchObject({ file: missing, problems: [{ path: '', message: expect.stringContaining('ENOENT') }] })
    expect((error as Error).message).toContain(`${missing}: cannot be read`)
  })
})

describe('${env:NAME}', () => {
  it('an unset variable is an error naming it and the field, at the field’s line', () => {
    const problems = problemsOf(YAML, 'c.yaml', { PROM_HOST: 'h' })
    expect(problems).toEqual([
      { path: 'components.prometheus.secret', line: 7, message: 'environment variable PROMETHEUS_SECRET is not set' },
      { path: 'components.prometheus.metadata.nested.key', line: 13, message: 'environment variable PROMETHEUS_SECRET is not set' },
    ])
  })

  it('a field whose variable is unset is reported once, not checked again', () => {
    const text = 'components:\n  p:\n    url: ${env:UNSET_URL}\n    actions: [run, "${env:UNSET_ACTION}"]\n'
    expect(problemsOf(text, 'c.yaml', {})).toEqual([
      { path: 'components.p.url', line: 3, message: 'environment variable UNSET_URL is not set' },
      { path: 'components.p.actions[1]', line: 4, message: 'environment variable UNSET_ACTION is not set' },
    ])
  })

  it('reads no other expression: `${NAME}` and `${ENV:NAME}` are errors, a lone `$` is text', () => {
    const text = 'components:\n  p:\n    url: "http://${HOST}"\n    description: "${ENV:X} and ${env:"\n'
    expect(problemsOf(text)).toEqual([
      { path: 'components.p.url', line: 3, message: '`${` must start an ${env:NAME} reference, the only expression read' },
      { path: 'components.p.description', line: 4, message: '`${` must start an ${env:NAME} reference, the only expression read' },
      { path: 'components.p.description', line: 4, message: '`${` must start an ${env:NAME} reference, the only expression read' },
    ])
    const config = parseComponentConfig('components:\n  p: {url: "http://h", description: "costs $5 {x}"}\n', { file: 'c.yaml', env: {} })
    expect(config.components[0]).toMatchObject({ description: 'costs $5 {x}' })
  })

  it('does not read references in the values it substitutes', () => {
    const config = parseComponentConfig('components:\n  p: {url: "http://h", secret: "${env:A}"}\n', {
      file: 'c.yaml',
      env: { A: '${env:B}', B: 'b' },
    })
    expect(config.components[0]).toMatchObject({ secret: '${env:B}' })
  })
})

/** An entry `e` whose fields start at line 3. */
const entry = (...lines: string[]) => `components:\n  e:\n${lines.map((l) => `    ${l}\n`).join('')}`

describe('validation: each problem with its line and field', () => {
  const cases: Array<[string, string, ConfigProblem]> = [
    [
      'an unknown built-in',
      entry('type: shel'),
      { path: 'components.e.type', line: 3, message: 'must name a built-in component: harmonia, shell, http' },
    ],
    [
      'type that is not a string',
      entry('type: [shell]'),
      { path: 'components.e.type', line: 3, message: expect.stringContaining('must name') },
    ],
    [
      'an alias with a url',
      entry('type: shell', 'url: http://x'),
      { path: 'components.e.url', line: 4, message: expect.stringMatching(/^not allowed with `type`/) },
    ],
    [
      'an alias with a secret',
      entry('type: http', 'secret: s'),
      { path: 'components.e.secret', line: 4, message: expect.stringMatching(/^not allowed/) },
    ],
    [
      'an alias with actions',
      entry('type: http', 'actions: [a]'),
      { path: 'components.e.actions', line: 4, message: expect.stringMatching(/^not allowed/) },
    ],
    [
      'neither type nor url',
      entry('timeout: 3'),
      { path: 'components.e', line: 2, message: expect.stringMatching(/^needs `type`.* or `url`/) },
    ],
    [
      'an entry that is not a mapping',
      'components:\n  e: shell\n',
      { path: 'components.e', line: 2, message: expect.stringMatching(/^must be a mapping/) },
    ],
    ['a url that is not http(s)', entry('url: ftp://x'), { path: 'components.e.url', line: 3, message: 'must be an absolute http(s) URL' }],
    ['a relative url', entry('url: /api'), { path: 'components.e.url', line: 3, message: 'must be an absolute http(s) URL' }],
    ['a url that is not a string', entry('url: 8030'), { path: 'components.e.url', line: 3, message: 'must be an absolute http(s) URL' }],
    ['a null url', entry('url:'), { path: 'components.e.url', line: 3, message: 'must be an absolute http(s) URL' }],
    [
      'a url with a query',
      entry('url: http://x/?k=1'),
      { path: 'components.e.url', line: 3, message: 'must not have a query or a fragment' },
    ],
    [
      'an empty secret',
      entry('url: http://x', 'secret: ""'),
      { path: 'components.e.secret', line: 4, message: 'must be a non-empty string' },
    ],
    [
      'a secret that is a number',
      entry('url: http://x', 'secret: 1234'),
      { path: 'components.e.secret', line: 4, message: 'must be a non-empty string' },
    ],
    [
      'actions that are not a list',
      entry('url: http://x', 'actions: run'),
      { path: 'components.e.actions', line: 4, message: expect.stringMatching(/^must be a non-empty list/) },
    ],
    [
      'an empty actions list',
      entry('url: http://x', 'actions: []'),
      { path: 'components.e.actions', line: 4, message: expect.stringMatching(/^must be a non-empty list/) },
    ],
    [
      'an empty action',
      entry('url: http://x', 'actions:', '  - run', '  - ""'),
      { path: 'components.e.actions[1]', line: 6, message: 'must be a non-empty string' },
    ],
    [
      'an action that is not a string',
      entry('url: http://x', 'actions: [run, 3]'),
      { path: 'components.e.actions[1]', line: 4, message: 'must be a non-empty string' },
    ],
    [
      'a repeated action',
      entry('url: http://x', 'actions:', '  - run', '  - run'),
      { path: 'components.e.actions[1]', line: 6, message: 'repeats an action listed before' },
    ],
    [
      'a zero timeout',
      entry('url: http://x', 'timeout: 0'),
      { path: 'components.e.timeout', line: 4, message: 'must be a positive number of seconds' },
    ],
    [
      'a timeout as text',
      entry('url: http://x', 'timeout: "30"'),
      { path: 'components.e.timeout', line: 4, message: 'must be a positive number of seconds' },
    ],
    [
      'a description that is not text',
      entry('url: http://x', 'description: [a]'),
      { path: 'components.e.description', line: 4, message: 'must be a string' },
    ],
    [
      'metadata that is a list',
      entry('url: http://x', 'metadata: [a]'),
      { path: 'components.e.metadata', line: 4, message: 'must be a mapping' },
    ],
    [
      'an unknown field',
      entry('url: http://x', 'retries: 3'),
      { path: 'components.e.retries', line: 4, message: expect.stringMatching(/^unknown field \(known: type, url/) },
    ],
    [
      'a built-in’s name',
      'components:\n  shell:\n    type: http\n',
      { path: 'components.shell', line: 2, message: expect.stringContaining('built-in') },
    ],
    [
      'a name with a space',
      'components:\n  "a b": {type: shell}\n',
      { path: 'components["a b"]', line: 2, message: expect.stringMatching(/^a component name must/) },
    ],
    [
      'an empty name',
      'components:\n  "": {type: shell}\n',
      { path: 'components[""]', line: 2, message: expect.stringMatching(/^a component name must/) },
    ],
    [
      'a top-level field other than components',
      'components: {}\nworkers: 3\n',
      { path: 'workers', line: 2, message: expect.stringMatching(/^unknown field/) },
    ],
    [
      'components that are a list',
      'components:\n  - ergon\n',
      { path: 'components', line: 1, message: expect.stringMatching(/^must be a mapping/) },
    ],
    ['a file that is a list', '- components\n', { path: '', line: 1, message: expect.stringMatching(/^the file must hold a mapping/) }],
  ]
  it.each(cases)('%s', (_title, text, problem) => {
    expect(problemsOf(text)).toEqual([problem])
  })

  it('names lines in a JSON file too', () => {
    const json = '{\n  "components": {\n    "p": {\n      "url": "ftp://p",\n      "timeout": -1\n    }\n  }\n}\n'
    expect(problemsOf(json, 'c.json')).toEqual([
      { path: 'components.p.url', line: 4, message: 'must be an absolute http(s) URL' },
      { path: 'components.p.timeout', line: 5, message: 'must be a positive number of seconds' },
    ])
  })

  it('lists every problem of the file in one error, by line, each as <file>:<line>: <path>: <message>', () => {
    const text = [
      'components:',
      '  ergon:',
      '    type: shel',
      '  prometheus:',
      '    url: localhost:8030',
      '    secret: ${env:UNSET_SECRET}',
      '    timeout: -5',
      '  q: {}',
      '',
    ].join('\n')
    const error = errorOf(text, '/etc/harmonia/tekton.yaml')
    expect(error.file).toBe('/etc/harmonia/tekton.yaml')
    expect(error.problems.map((p) => p.line)).toEqual([3, 5, 6, 7, 8])
    expect(error.message).toBe(
      [
        'invalid Harmonia config (5 problems):',
        '  /etc/harmonia/tekton.yaml:3: components.ergon.type: must name a built-in component: harmonia, shell, http',
        '  /etc/harmonia/tekton.yaml:5: components.prometheus.url: must be an absolute http(s) URL',
        '  /etc/harmonia/tekton.yaml:6: components.prometheus.secret: environment variable UNSET_SECRET is not set',
        '  /etc/harmonia/tekton.yaml:7: components.prometheus.timeout: must be a positive number of seconds',
        '  /etc/harmonia/tekton.yaml:8: components.q: needs `type` (a built-in to alias: harmonia, shell, http) or `url` (a remote component)',
      ].join('\n'),
    )
  })
})

describe('syntax errors', () => {
  it('a YAML syntax error carries the yaml package’s line', () => {
    expect(problemsOf('components:\n  p:\n    url: http://x\n   bad: [\n')).toEqual([
      { path: '', line: 4, message: 'YAML: All mapping items must start at the same column' },
      { path: '', line: 5, message: 'YAML: Flow sequence in block collection must be sufficiently indented and end with a ]' },
    ])
    expect(problemsOf('components:\n\tp: {type: shell}\n')).toEqual([
      { path: '', line: 2, message: 'YAML: Tabs are not allowed as indentation' },
    ])
    expect(problemsOf('components:\n  a: {type: shell}\n  a: {type: http}\n')).toEqual([
      { path: '', line: 3, message: 'YAML: Map keys must be unique' },
    ])
  })

  it('a JSON file must be JSON: comments, trailing commas, single quotes and bare keys are refused at their line', () => {
    const cases: Array<[string, number]> = [
      ['{\n  "components": {} // none\n}', 2],
      ['{\n  "components": {\n    "p": {"url": "http://x",}\n  }\n}', 3],
      ["{\n  'components': {}\n}", 2],
      ['{\n  components: {}\n}', 2],
      ['{\n  "components": {}\n', 3],
      ['{"components": {}}\n{}', 2],
    ]
    for (const [text, line] of cases) {
      expect(problemsOf(text, 'c.json'), text).toEqual([{ path: '', line, message: expect.stringMatching(/^not valid JSON: /) }])
    }
    // The same texts are YAML, where the first four are fine.
    expect(parseComponentConfig('{\n  components: {} # none\n}', { file: 'c.yaml', env: {} })).toEqual({ components: [] })
  })

  it('a JSON file with a repeated key is refused', () => {
    expect(problemsOf('{"components": {"a": {"type": "shell"}, "a": {"type": "http"}}}', 'c.json')).toEqual([
      { path: '', line: 1, message: 'JSON: Map keys must be unique' },
    ])
  })
})

describe('secrets', () => {
  it('no message quotes a secret, whatever fails around it', () => {
    const texts: Array<[string, string]> = [
      [`components:\n  e:\n    type: shell\n    secret: ${SECRET}\n`, 'c.yaml'],
      [`components:\n  e:\n    url: http://x\n    secret: "${SECRET}\n`, 'c.yaml'],
      [`components:\n  e:\n    url: http://x\n    secret: [${SECRET}]\n`, 'c.yaml'],
      [`components:\n  e:\n    url: http://x\n    secret: ${SECRET}\n    actions: ${SECRET}\n`, 'c.yaml'],
      [`components:\n  e:\n    url: ${SECRET}\n    secret: \${env:PROMETHEUS_SECRET}\n`, 'c.yaml'],
      [`components:\n  e:\n    url: http://x?token=${SECRET}\n`, 'c.yaml'],
      [`{"components": {"e": {"url": "http://x", "secret": ${SECRET}}}}`, 'c.json'],
      [`{"components": {"e": {"url": "http://x", "secret": "${SECRET}}}}`, 'c.json'],
      [`{"components": {"e": {"url": "http://x", "secret": "${SECRET}"}}, }`, 'c.json'],
    ]
    for (const [text, file] of texts) {
      const error = errorOf(text, file)
      expect(error.message, text).not.toContain(SECRET)
      expect(error.message, text).not.toContain(SECRET.slice(0, 6))
    }
  })
})
