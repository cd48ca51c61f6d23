import type { TemplateRecord } from '../db/store.js'
import { NotFoundError, ValidationError } from '../errors.js'
import { assertStorable, isPlainObject } from '../json.js'
import type { InputField, WorkflowDefinition } from '../model/definition.js'
import { uuidv7 } from '../model/ids.js'
import { MAX_INT4 } from '../model/limits.js'
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

/**
 * Templates: a workflow version with `${params.<name>}` placeholders, instantiated into new workflows. Each update
 * stores a new template version (API.md "Template versions"); instantiating takes the latest or a given one.
 */
export function createTemplateService(ctx: ServiceContext, workflows: WorkflowService) {
  async function templateRecord(templateId: string, version?: number): Promise<TemplateRecord> {
    requireId('template', templateId)
    if (version !== undefined && !(Number.isInteger(version) && version >= 1 && version <= MAX_INT4)) {
      throw new NotFoundError(`template version ${version} of`, templateId)
    }
    const record = await ctx.store.templates.get(templateId, version)
    if (!record) throw new NotFoundError(version === undefined ? 'template' : `template version ${version} of`, templateId)
    return record
  }

  /** A template version from a body: its workflow must exist and use only declared placeholders. */
  async function versionOf(body: unknown, identity: { template_id: string; version: number; created_at: string }): Promise<TemplateRecord> {
    assertStorable(body, '')
    const parsed = parseWith(TemplateBodySchema, body)
    const workflow = await workflows.record(parsed.workflow_definition_id).catch((error: unknown) => {
      if (!(error instanceof NotFoundError)) throw error
      const message = `workflow ${parsed.workflow_definition_id} does not exist`
      throw new ValidationError([{ path: 'workflow_definition_id', message }])
    })
    checkDeclaredParams(workflow.definition, parsed.parameters)
    return {
      ...identity,
      name: parsed.name,
      description: parsed.description,
      workflow_definition_id: workflow.workflowId,
      parameters: parsed.parameters,
      workflow_version: workflow.version,
    }
  }

  return {
    /** A template over an existing workflow's latest version: every placeholder it uses must be a declared parameter. */
    async createTemplate(body: unknown): Promise<Template> {
      const record = await versionOf(body, { template_id: uuidv7(), version: 1, created_at: iso(ctx.now()) })
      await ctx.store.templates.insert(record)
      return toTemplate(record)
    },

    /** The latest version, or `version`. */
    async getTemplate(templateId: string, query: { version?: number } = {}): Promise<Template> {
      return toTemplate(await templateRecord(templateId, query.version))
    },

    async listTemplates(query: ListQuery = {}): Promise<Page<Template>> {
      const request = pageRequest(query)
      const result = await ctx.store.templates.list({ ...request, ...(query.filter ? { filter: query.filter } : {}) })
      return toPage(result, request, toTemplate)
    },

    /** A new version (`version` + 1); fields the body leaves out keep their current values. */
    async updateTemplate(templateId: string, body: unknown): Promise<Template> {
      const current = await templateRecord(templateId)
      const { template_id: _, version: _v, workflow_version: _w, created_at: _c, ...fields } = current
      const merged = isPlainObject(body) ? { ...fields, ...body } : body
      // `created_at` stays the template's: a version is told apart by its number.
      const record = await versionOf(merged, { template_id: templateId, version: current.version + 1, created_at: current.created_at })
      await ctx.store.templates.insert(record)
      return toTemplate(record)
    },

    /** Deletes the template and all its versions (the workflows made from it stay). */
    async deleteTemplate(templateId: string): Promise<void> {
      await templateRecord(templateId)
      await ctx.store.templates.delete(templateId)
    },

    /** A new workflow from the template (latest or `version`) with the values substituted (422 naming what is wrong). */
    async instantiateTemplate(templateId: string, body: unknown): Promise<Workflow> {
      assertStorable(body, '')
      const parsed = parseWith(InstantiateBodySchema, body ?? {})
      const template = await templateRecord(templateId, parsed.version)
      const values = resolveParameterValues(template.parameters as Record<string, InputField>, parsed.parameter_values)
      const source = await workflows.record(template.workflow_definition_id, template.workflow_version)
      const definition = substituteParams(source.definition, values) as WorkflowDefinition
      return workflows.api.createWorkflow({
        ...definition,
        name: parsed.name ?? `${definition.name} (${template.name})`,
        metadata: { ...definition.metadata, template_id: templateId, template_version: template.version, parameter_values: values },
      })
    },
  }
}
export type TemplatesApi = ReturnType<typeof createTemplateService>
