import { afterEach, expect, it } from 'vitest'
import { ValidationError } from '../../src/errors.js'
import { describeEachStore, testEngine, type TestEngine } from '../support/harness.js'

let engine: TestEngine | undefined
afterEach(async () => {
  await engine?.harmonia.close()
  engine = undefined
})

describeEachStore('templates', () => {
  it('creates a template from a workflow and instantiates it twice with different values', async () => {
    engine = await testEngine()
    const { harmonia } = engine
    const wf = await harmonia.createWorkflow({
      name: 'process_data',
      tasks: [
        {
          id: 'read',
          component: 'harmonia',
          action: 'echo',
          input: { file: '${params.input_file}', format: '${params.output_format}', label: 'out.${params.output_format}' },
        },
        {
          id: 'count',
          component: 'harmonia',
          action: 'echo',
          input: { n: '${params.copies}', from: '${tasks.read.output.file}' },
          depends_on: ['read'],
        },
      ],
    })
    const template = await harmonia.createTemplate({
      name: 'process_data_template',
      workflow_definition_id: wf.workflow_id,
      parameters: {
        input_file: { type: 'string', required: true, description: 'Input file path' },
        output_format: { type: 'string', required: false, default: 'json', description: 'Output format' },
        copies: { type: 'integer', default: 1 },
      },
    })
    expect(template).toMatchObject({ name: 'process_data_template', workflow_definition_id: wf.workflow_id, version: 1, description: '' })
    expect(template.template_id).toMatch(/^[0-9a-f-]{36}$/)
    expect(await harmonia.getTemplate(template.template_id)).toEqual(template)
    expect((await harmonia.listTemplates({ filter: 'process_data_template' })).items.map((t) => t.template_id)).toContain(
      template.template_id,
    )

    const first = await harmonia.instantiateTemplate(template.template_id, {
      parameter_values: { input_file: '/data/a.csv', output_format: 'xml', copies: 3 },
    })
    const second = await harmonia.instantiateTemplate(template.template_id, {
      parameter_values: { input_file: '/data/b.csv' },
      name: 'b-run',
    })
    expect(first.tasks[0]!.input).toEqual({ file: '/data/a.csv', format: 'xml', label: 'out.xml' })
    expect(second.name).toBe('b-run')
    expect(second.tasks[0]!.input).toEqual({ file: '/data/b.csv', format: 'json', label: 'out.json' })

    const a = await harmonia.waitForExecution((await harmonia.startExecution({ workflow_id: first.workflow_id })).execution_id)
    const b = await harmonia.waitForExecution((await harmonia.startExecution({ workflow_id: second.workflow_id })).execution_id)
    expect(a.task_executions.count!.output).toEqual({ n: 3, from: '/data/a.csv' })
    expect(b.task_executions.count!.output).toEqual({ n: 1, from: '/data/b.csv' })
  })

  it('refuses missing required values, wrong types and unknown workflows, naming the field', async () => {
    engine = await testEngine()
    const { harmonia } = engine
    const wf = await harmonia.createWorkflow({
      name: 't',
      tasks: [{ id: 'e', component: 'harmonia', action: 'echo', input: { v: '${params.v}' } }],
    })
    const template = await harmonia.createTemplate({
      name: 't',
      workflow_definition_id: wf.workflow_id,
      parameters: { v: { type: 'integer', required: true } },
    })
    await expect(harmonia.instantiateTemplate(template.template_id, { parameter_values: {} })).rejects.toMatchObject({
      errors: [{ path: 'parameter_values.v', message: expect.stringContaining('required') }],
    })
    await expect(harmonia.instantiateTemplate(template.template_id, { parameter_values: { v: 'x' } })).rejects.toMatchObject({
      errors: [{ path: 'parameter_values.v', message: expect.stringContaining('integer') }],
    })
    await expect(
      harmonia.createTemplate({ name: 'x', workflow_definition_id: '01234567-89ab-7def-8123-456789abcdef' }),
    ).rejects.toMatchObject({
      errors: [{ path: 'workflow_definition_id' }],
    })
    await expect(harmonia.createTemplate({ workflow_definition_id: wf.workflow_id })).rejects.toMatchObject({ errors: [{ path: 'name' }] })
    await expect(
      harmonia.createTemplate({ name: 'undeclared', workflow_definition_id: wf.workflow_id, parameters: {} }),
    ).rejects.toMatchObject({
      errors: [{ path: 'parameters.v', message: expect.stringContaining('tasks[0].input.v') }],
    })
    await expect(harmonia.instantiateTemplate(template.template_id, { parameter_values: { v: 1, extra: 2 } })).rejects.toMatchObject({
      errors: [{ path: 'parameter_values.extra' }],
    })
  })
})

describeEachStore('a template source run directly', () => {
  it('is refused at start with 422 naming where each ${params.*} is; its instances run', async () => {
    engine = await testEngine()
    const { harmonia } = engine
    const source = await harmonia.createWorkflow({
      name: 'source',
      tasks: [
        { id: 'read', component: 'harmonia', action: 'echo', input: { file: '${params.file}', copies: ['${params.copies}'] } },
        { id: 'plain', component: 'harmonia', action: 'noop' },
      ],
    })
    const error = await harmonia.startExecution({ workflow_id: source.workflow_id }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ValidationError)
    expect((error as ValidationError).errors).toEqual([
      { path: 'tasks[0].input.file', message: expect.stringContaining('params exist only in templates') },
      { path: 'tasks[0].input.copies[0]', message: expect.stringContaining('${params.copies}') },
    ])
    expect((await harmonia.listExecutions()).total).toBe(0)

    const template = await harmonia.createTemplate({
      name: 't',
      workflow_definition_id: source.workflow_id,
      parameters: { file: { type: 'string', required: true }, copies: { type: 'integer', default: 2 } },
    })
    const instance = await harmonia.instantiateTemplate(template.template_id, { parameter_values: { file: '/a.csv' } })
    const run = await harmonia.waitForExecution((await harmonia.startExecution({ workflow_id: instance.workflow_id })).execution_id)
    expect(run.task_executions.read).toMatchObject({ status: 'completed', output: { file: '/a.csv', copies: [2] } })
  })
})
