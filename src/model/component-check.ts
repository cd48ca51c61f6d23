import type { FieldError } from '../errors.js'

/**
 * What a source of components answers for a task's pair: known, unknown name, unknown action, a built-in the operator
 * did not enable, or `deferred` (a directory such as Hermes must be asked, later and asynchronously).
 */
export type ComponentCheck = 'ok' | 'unknown_component' | 'unknown_action' | 'disabled' | 'deferred'

/** What the validator needs of the component registry. */
export type ComponentCatalog = { check(component: string, action: string): ComponentCheck }

/** How a user makes a component known: every source, so that the message answers "what do I do now". */
export const MAKE_KNOWN =
  'register it (POST /api/components), declare it in the HARMONIA_CONFIG file, or make it known to Hermes (HERMES_URL); ' +
  'embedding code can pass it to createHarmonia({ components }) or registerComponent()'

/** The error of task `index` for an answer that is not `ok`/`deferred`, at `tasks[i].component` or `tasks[i].action`. */
export function componentProblem(
  index: number,
  label: string,
  task: { component: string; action: string },
  check: ComponentCheck,
): FieldError | undefined {
  const at = `tasks[${index}]`
  switch (check) {
    case 'ok':
    case 'deferred':
      return undefined
    case 'unknown_component':
      return { path: `${at}.component`, message: `${label}: component "${task.component}" is not known: ${MAKE_KNOWN}` }
    case 'unknown_action':
      return { path: `${at}.action`, message: `${label}: component "${task.component}" has no action "${task.action}"` }
    case 'disabled':
      return {
        path: `${at}.component`,
        message: `${label}: component "${task.component}" runs shell commands, which are off: set HARMONIA_ENABLE_SHELL=1 to enable them`,
      }
  }
}
