/**
 * Where a text first breaks JSON's grammar (RFC 8259). The config file is parsed with the yaml package, whose lines
 * name the field at fault; YAML accepts more than JSON (comments, trailing commas, unquoted keys), so a `.json` file is
 * checked here first. JSON.parse alone cannot serve: in Node 20 its message often quotes the source (a secret's line)
 * instead of giving a position.
 */

export type JsonSyntaxError = { offset: number; message: string }

class Stop extends Error {
  constructor(
    readonly offset: number,
    message: string,
  ) {
    super(message)
  }
}

const WHITESPACE = /[ \t\n\r]*/y
// eslint-disable-next-line no-control-regex -- JSON refuses raw control characters (U+0000 to U+001F) in strings
const STRING = /"(?:[^"\\\u0000-\u001f]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*"/y
const LITERAL = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null/y

/** The first offset at which `text` is not JSON, with what was expected there; null when it is JSON. */
export function jsonSyntaxError(text: string): JsonSyntaxError | null {
  let at = 0
  const match = (pattern: RegExp): boolean => {
    pattern.lastIndex = at
    if (!pattern.test(text)) return false
    at = pattern.lastIndex
    return true
  }
  const skip = () => match(WHITESPACE)
  const stop = (message: string): never => {
    throw new Stop(at, at >= text.length ? 'unexpected end of the file' : message)
  }
  const expect = (char: string, message: string) => {
    skip()
    if (text[at] !== char) stop(message)
    at++
  }

  /** A list of `item`s between `open` and `close`, separated by commas (an object's members, an array's values). */
  function list(close: string, item: () => void): void {
    at++
    skip()
    if (text[at] === close) return void at++
    for (;;) {
      item()
      skip()
      if (text[at] === ',') at++
      else return expect(close, `expected ',' or '${close}'`)
    }
  }

  function value(): void {
    skip()
    const char = text[at]
    if (char === '{') {
      return list('}', () => {
        skip()
        if (!match(STRING)) stop('expected a property name in double quotes')
        expect(':', "expected ':' after a property name")
        value()
      })
    }
    if (char === '[') return list(']', value)
    if (char === '"') {
      if (!match(STRING)) stop('a string that is not closed, or holds a raw control character or an invalid escape')
      return
    }
    if (!match(LITERAL)) stop('expected a value: a string in double quotes, a number, an object, an array, true, false or null')
  }

  try {
    value()
    skip()
    if (at < text.length) stop('unexpected text after the JSON value')
    return null
  } catch (error) {
    if (error instanceof Stop) return { offset: error.offset, message: error.message }
    // Only a stack overflow can get here: a file nested thousands of levels deep.
    if (error instanceof RangeError) return { offset: at, message: 'nested too deeply' }
    throw error
  }
}
