import { describe, expect, it } from 'vitest'
import { ValidationError } from '../../src/errors.js'
import { DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT, pageRequest, toPage } from '../../src/model/paging.js'

describe('list paging', () => {
  it('defaults to limit 50, offset 0; accepts 1..1000', () => {
    expect(pageRequest({})).toEqual({ limit: DEFAULT_LIST_LIMIT, offset: 0 })
    expect(pageRequest({ limit: MAX_LIST_LIMIT, offset: 7 })).toEqual({ limit: 1000, offset: 7 })
  })

  it('refuses out-of-range values naming each field', () => {
    const paths = (query: Parameters<typeof pageRequest>[0]) => {
      try {
        pageRequest(query)
      } catch (error) {
        expect(error).toBeInstanceOf(ValidationError)
        return (error as ValidationError).errors.map((e) => e.path)
      }
      return []
    }
    expect(paths({ limit: 0 })).toEqual(['limit'])
    expect(paths({ limit: 1001, offset: -1 })).toEqual(['limit', 'offset'])
    expect(paths({ limit: 1.5 })).toEqual(['limit'])
  })

  it('maps a store page to the wire page', () => {
    expect(toPage({ items: [1, 2], total: 9 }, { limit: 2, offset: 4 }, (n) => n * 10)).toEqual({
      items: [10, 20],
      total: 9,
      limit: 2,
      offset: 4,
    })
  })
})
