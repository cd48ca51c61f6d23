import type { TemplateRecord } from '../db/store.js'
import { NotFoundError, ValidationError } from '../errors.js'
import { assertStorable } from '../json.js'
import type { InputField, WorkflowDefinition } from '../model/definition.js'
import { uuidv7 } from '../model/ids.js'
import { pageRequest, toPage } from '../model/paging.js'
import { parseWith } from '../model/parse.js'
import type { ListQuery, Page, Template, Workflow } from '../model/resources.js'
import {
  checkDeclaredParams,
  InstantiateBodySchema,
  resolveParameterValues,
  substituteParams,
  TemplateBodySchema,
} from '../model/template.js'
import { iso, requireId, type ServiceContext } from './context.js'
import type { WorkflowService } from './workflows.js'

const toTemplate = (record: TemplateRecord): Template => record as Template

/** Templates: a workflow version with `${params.<name>}` placeholders, instantiated into new workflows. */
export function createTemplateService(ctx: ServiceContext, workflows: WorkflowService) {
  async function templateRecord(templateId: string): Promise<TemplateRecord> {
    requireId('template', templateId)
    const record = await ctx.store.templates.get(templateId)
    if (!record) throw new NotFoundError('template', templateId)
    return record
  }

  return {
    /** A template over an existing workflow: every placeholder it uses must be a declared parameter. */
    async createTemplate(body: unknown): Promise<Template> {
      assertStorable(body, '')
      const parsed = parseWith(TemplateBodySchema, body)
      const workflow = await workflows.record(parsed.workflow_definition_id).catch((error: unknown) => {
        if (!(error instanceof NotFoundError)) throw error
        const message = `workflow ${parsed.workflow_definition_id} does not exist`
        throw new ValidationError([{ path: 'workflow_definition_id', message }])
      })
      checkDeclaredParams(workflow.definition, parsed.parameters)
      const record: TemplateRecord = {
        template_id: uuidv7(),
        name: parsed.name,
        description: parsed.description,
        workflow_definition_id: workflow.workflowId,
        parameters: parsed.parameters,
        version: workflow.version,
        created_at: iso(ctx.now()),
      }
      await ctx.store.templates.insert(record)
      return toTemplate(record)
    },

    async getTemplate(templateId: string): Promise<Template> {
      return toTemplate(await templateRecord(templateId))
    },

    async listTemplates(query: ListQuery = {}): Promise<Page<Template>> {
      const request = pageRequest(query)
      const result = await ctx.store.templates.list({ ...request, ...(query.filter ? { filter: query.filter } : {}) })
      return toPage(result, request, toTemplate)
    },

    /** A new workflow from the template with the values substituted (missing required or wrong type → 422). */
    async instantiateTemplate(templateId: string, body: unknown): Promise<Workflow> {
      const template = await templateRecord(templateId)
      assertStorable(body, '')
      const parsed = parseWith(InstantiateBodySchema, body ?? {})
      const values = resolveParameterValues(template.parameters as Record<string, InputField>, parsed.parameter_values)
      const source = await workflows.record(template.workflow_definition_id, template.version)
      const definition = substituteParams(source.definition, values) as WorkflowDefinition
      return workflows.api.createWorkflow({
        ...definition,
        name: parsed.name ?? `${definition.name} (${template.name})`,
        metadata: { ...definition.metadata, template_id: templateId, parameter_values: values },
      })
    },
  }
}
export type TemplatesApi = ReturnType<typeof createTemplateService>
