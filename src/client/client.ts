import type { Checkpoint, StateRecord } from '../model/resources.js'
import type { ExecutionEvent } from '../model/events.js'
import type { ExecutionHistory } from '../model/history.js'
import type { SignalAnswer, SignalSummary } from '../model/signals.js'
import type { ScheduleInfo } from '../model/schedule.js'
import type { Subscription } from '../model/subscriptions.js'
import type { Execution, ExecutionSummary, Page, Template, Workflow } from '../model/resources.js'
import { createTransport, seg, type ClientOptions } from './transport.js'
import type {
  CheckpointListQuery,
  Component,
  ComponentHealth,
  ComponentRequest,
  ExecuteWorkflowRequest,
  ExecutionListQuery,
  InstantiateTemplateRequest,
  ListQuery,
  SubscriptionRequest,
  TemplateRequest,
  WorkflowRequest,
} from './types.js'
import { watchExecution, type WatchOptions } from './watch.js'

/**
 * The Harmonia client: the seed's `harmonia.client` operations in camelCase over HTTP (API.md). Every method throws
 * HarmoniaApiError for a non-2xx answer; network errors propagate as fetch raises them.
 */
export function getHarmoniaClient(options: ClientOptions = {}) {
  const http = createTransport(options)
  const get = <T>(path: string, query?: ExecutionListQuery | ListQuery | { version?: number }) =>
    http.request<T>('GET', path, query ? { query } : {})
  const post = <T>(path: string, body?: unknown) => http.request<T>('POST', path, body === undefined ? {} : { body })

  return {
    /** The base URL requests go to. */
    url: http.baseUrl,

    // Workflows
    createWorkflow: (body: WorkflowRequest) => post<Workflow>('/api/workflows', body),
    /** The latest version, or `version`. */
    getWorkflow: (workflowId: string, query: { version?: number } = {}) => get<Workflow>(`/api/workflows/${seg(workflowId)}`, query),
    /** Stores a new version (`version` + 1); running executions keep theirs. */
    updateWorkflow: (workflowId: string, body: WorkflowRequest) =>
      http.request<Workflow>('PUT', `/api/workflows/${seg(workflowId)}`, { body }),
    /** 409 while executions of it are unfinished. */
    deleteWorkflow: (workflowId: string) => http.request<void>('DELETE', `/api/workflows/${seg(workflowId)}`),
    /** Its versions, newest first. */
    listWorkflowVersions: (workflowId: string, query: ListQuery = {}) =>
      get<Page<{ version: number; created_at: string }>>(`/api/workflows/${seg(workflowId)}/versions`, query),
    /** The latest version's cron schedules, each with its next 5 run times and its last tick. */
    listSchedules: (workflowId: string) => get<ScheduleInfo[]>(`/api/workflows/${seg(workflowId)}/schedules`),
    /** `filter` matches the name (substring). */
    listWorkflows: (query: ListQuery = {}) => get<Page<Workflow>>('/api/workflows', query),

    // Executions
    /** Starts an execution (`POST /api/executions`); resolves with it as created (`pending` or `running`). */
    executeWorkflow: (request: ExecuteWorkflowRequest) => post<Execution>('/api/executions', request),
    /** The execution with its `task_executions`. */
    getWorkflowStatus: (executionId: string) => get<Execution>(`/api/executions/${seg(executionId)}`),
    listExecutions: (query: ExecutionListQuery = {}) => get<Page<ExecutionSummary>>('/api/executions', query),
    cancelWorkflow: (executionId: string) => post<Execution>(`/api/executions/${seg(executionId)}/cancel`),
    pauseWorkflow: (executionId: string) => post<Execution>(`/api/executions/${seg(executionId)}/pause`),
    resumeWorkflow: (executionId: string) => post<Execution>(`/api/executions/${seg(executionId)}/resume`),
    /**
     * A new execution where `tasks` and their downstream run again (without `tasks`: what failed, was canceled or
     * skipped), the other completed tasks keeping their outputs; `input` replaces the execution input.
     */
    rerunExecution: (executionId: string, request: { tasks?: string[]; input?: Record<string, unknown> } = {}) =>
      post<Execution>(`/api/executions/${seg(executionId)}/rerun`, request),
    /** Sends a signal (an approval): `delivered` when a waiting task took it at once, else it is kept for the next wait. */
    sendSignal: (executionId: string, name: string, payload?: unknown) =>
      post<SignalAnswer>(`/api/executions/${seg(executionId)}/signals/${seg(name)}`, payload === undefined ? {} : { payload }),
    /** One entry per signal name waited for or sent, with the payloads received. */
    listSignals: (executionId: string) => get<SignalSummary[]>(`/api/executions/${seg(executionId)}/signals`),
    /** Events, checkpoints and metrics of the execution. */
    getExecutionHistory: (executionId: string) => get<ExecutionHistory>(`/api/executions/${seg(executionId)}/history`),

    // Templates
    createTemplate: (body: TemplateRequest) => post<Template>('/api/templates', body),
    /** The latest version, or `version`. */
    getTemplate: (templateId: string, query: { version?: number } = {}) => get<Template>(`/api/templates/${seg(templateId)}`, query),
    /** A new template version (`version` + 1); fields left out keep their values. */
    updateTemplate: (templateId: string, body: Partial<TemplateRequest>) =>
      http.request<Template>('PUT', `/api/templates/${seg(templateId)}`, { body }),
    deleteTemplate: (templateId: string) => http.request<void>('DELETE', `/api/templates/${seg(templateId)}`),
    listTemplates: (query: ListQuery = {}) => get<Page<Template>>('/api/templates', query),
    /** A new workflow from the template with `parameter_values` substituted. */
    instantiateTemplate: (templateId: string, body: InstantiateTemplateRequest = {}) =>
      post<Workflow>(`/api/templates/${seg(templateId)}/instantiate`, body),

    // Checkpoints
    /** A new execution (`restored_from` = the checkpoint) that keeps the completed tasks' outputs and runs the rest. */
    restoreFromCheckpoint: (checkpointId: string) => post<Execution>(`/api/checkpoints/${seg(checkpointId)}/restore`),

    // Components
    /** Every component of every source, built-ins included: a plain list, not a page. */
    listComponents: () => get<Component[]>('/api/components'),
    getComponent: (name: string) => get<Component>(`/api/components/${seg(name)}`),
    /** Registers a remote component; 409 when the name is taken (replaceComponent replaces an API component). */
    registerComponent: (body: ComponentRequest) => post<Component>('/api/components', body),
    /** Creates or replaces an API component; 409 for a name a built-in, embedded or config component holds. */
    replaceComponent: (name: string, body: Omit<ComponentRequest, 'name'> & { name?: string }) =>
      http.request<Component>('PUT', `/api/components/${seg(name)}`, { body }),
    /** 409 for built-in, embedded and config components. */
    deleteComponent: (name: string) => http.request<void>('DELETE', `/api/components/${seg(name)}`),
    /** `GET {url}/health` of the component, answered healthy or not (a 404 only for an unknown name). */
    componentHealth: (name: string) => get<ComponentHealth>(`/api/components/${seg(name)}/health`),

    // Event subscriptions (webhooks)
    /** Subscribes `url` to events: each matching one is POSTed as its Event JSON, signed when `secret` is given. */
    createSubscription: (body: SubscriptionRequest) => post<Subscription>('/api/subscriptions', body),
    /** Oldest first; each with its delivery health (`last_error`, `failing_since`, `disabled_at`). */
    listSubscriptions: (query: Omit<ListQuery, 'filter'> = {}) => get<Page<Subscription>>('/api/subscriptions', query),
    getSubscription: (subscriptionId: string) => get<Subscription>(`/api/subscriptions/${seg(subscriptionId)}`),
    deleteSubscription: (subscriptionId: string) => http.request<void>('DELETE', `/api/subscriptions/${seg(subscriptionId)}`),

    // Events
    /** The execution's events over SSE, history first, then live; ends after the terminal event. */
    watchExecution: (executionId: string, watchOptions: WatchOptions = {}): AsyncGenerator<ExecutionEvent> =>
      watchExecution(http, executionId, watchOptions),
  }
}
export type HarmoniaClient = ReturnType<typeof getHarmoniaClient>

/** The seed's state client: per-execution state and checkpoints. */
export function getHarmoniaStateClient(options: ClientOptions = {}) {
  const http = createTransport(options)
  return {
    url: http.baseUrl,
    /** Replaces the execution's state (visible to its expressions as `state`, kept in checkpoints). */
    saveState: (executionId: string, state: Record<string, unknown>) =>
      http.request<StateRecord>('PUT', `/api/state/${seg(executionId)}`, { body: { state } }),
    loadState: (executionId: string) => http.request<StateRecord>('GET', `/api/state/${seg(executionId)}`),
    createCheckpoint: (executionId: string) =>
      http.request<Checkpoint>('POST', '/api/checkpoints', { body: { execution_id: executionId } }),
    getCheckpoint: (checkpointId: string) => http.request<Checkpoint>('GET', `/api/checkpoints/${seg(checkpointId)}`),
    listCheckpoints: (query: CheckpointListQuery = {}) => http.request<Page<Checkpoint>>('GET', '/api/checkpoints', { query }),
  }
}
export type HarmoniaStateClient = ReturnType<typeof getHarmoniaStateClient>
