/**
 * `harmonia.registerComponent({ name, url, … })` from embedding code: fields left out or given as undefined take their
 * defaults (a `secret: process.env.X` with X unset is no secret: the calls go unsigned instead of failing to sign).
 */
import { afterEach, expect, it } from 'vitest'
import { createHarmonia, type Harmonia } from '../../src/harmonia.js'
import { createLogger } from '../../src/logger.js'

let harmonia: Harmonia | undefined
afterEach(async () => {
  await harmonia?.close()
})

it('registers a remote component with defaults for the fields given as undefined', async () => {
  harmonia = await createHarmonia({ database: 'memory:store', logger: createLogger({ level: 'silent' }) })
  const unset: string | undefined = undefined
  harmonia.registerComponent({ name: 'prometheus', url: 'http://127.0.0.1:1', secret: unset, actions: undefined, timeout: undefined })
  expect(await harmonia.getComponent('prometheus')).toMatchObject({
    name: 'prometheus',
    url: 'http://127.0.0.1:1',
    actions: null,
    timeout: null,
    description: '',
    metadata: {},
    source: 'embedded',
    has_secret: false,
  })
  harmonia.registerComponent({ name: 'signed', url: 'http://127.0.0.1:1', secret: 's', actions: ['analyze_results'] })
  expect(await harmonia.getComponent('signed')).toMatchObject({ actions: ['analyze_results'], has_secret: true })
})
