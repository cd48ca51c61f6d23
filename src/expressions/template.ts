/**
 * Splits a string into literal text and `${...}` expressions.
 *
 * The closing `}` is found by scanning the CEL source, so braces of map literals (`${ {"a": 1}.a }`) and braces
 * inside CEL string literals (`${ "}" + input.s }`, any quote style) do not end the expression. `$${` is an escape for a literal
 * `${` (for shell commands such as `echo $${HOME}`).
 */

export type TemplatePart = string | { source: string; offset: number }

export class TemplateScanError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message)
    this.name = 'TemplateScanError'
  }
}

/** Parts of `text` in order; adjacent literal text is merged. Throws TemplateScanError for `${` without its `}`. */
export function scanTemplate(text: string): TemplatePart[] {
  const parts: TemplatePart[] = []
  let literal = ''
  let i = 0
  while (i < text.length) {
    const open = text.indexOf('${', i)
    if (open === -1) {
      literal += text.slice(i)
      break
    }
    if (open > 0 && text[open - 1] === '$') {
      // `$${` → literal `${`: keep the text before the first `$`, then the `${` itself.
      literal += text.slice(i, open - 1) + '${'
      i = open + 2
      continue
    }
    literal += text.slice(i, open)
    const close = findClose(text, open + 2)
    if (literal !== '') parts.push(literal)
    literal = ''
    parts.push({ source: text.slice(open + 2, close), offset: open })
    i = close + 1
  }
  if (literal !== '') parts.push(literal)
  return parts
}

/** True when the string may hold an expression; the fast path for the common plain string. */
export function mayHoldExpression(text: string): boolean {
  return text.includes('${')
}

function findClose(text: string, start: number): number {
  let depth = 0
  let i = start
  while (i < text.length) {
    const ch = text[i]
    if (ch === '"' || ch === "'") {
      i = skipString(text, i)
      continue
    }
    if (ch === '{') depth++
    else if (ch === '}') {
      if (depth === 0) return i
      depth--
    }
    i++
  }
  throw new TemplateScanError('unterminated "${": no matching "}"', start - 2)
}

/**
 * Index just past the CEL string literal starting at `quoteAt` (single, double or triple quotes). As in cel-js's lexer,
 * a backslash always skips the next character, also in raw strings (`r"…"`), so no prefix needs special handling.
 */
function skipString(text: string, quoteAt: number): number {
  const quote = text[quoteAt] as string
  const triple = text.startsWith(quote.repeat(3), quoteAt)
  const delimiter = triple ? quote.repeat(3) : quote
  let i = quoteAt + delimiter.length
  while (i < text.length) {
    if (text[i] === '\\') {
      i += 2
      continue
    }
    if (text.startsWith(delimiter, i)) return i + delimiter.length
    if (!triple && text[i] === '\n') break
    i++
  }
  throw new TemplateScanError('unterminated string literal inside "${...}"', quoteAt)
}
