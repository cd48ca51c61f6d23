import { pathToFileURL } from 'node:url'

/**
 * Runs an example's `main(url, token)` when its file is the script node was started with
 * (`npx tsx examples/client-basic.ts`), with HARMONIA_URL and HARMONIA_TOKEN; a failure exits 1.
 */
export function runIfScript(moduleUrl: string, main: (url: string, token?: string) => Promise<unknown>): void {
  const script = process.argv[1]
  if (!script || pathToFileURL(script).href !== moduleUrl) return
  main(process.env.HARMONIA_URL ?? 'http://127.0.0.1:8007', process.env.HARMONIA_TOKEN || undefined).catch((error: unknown) => {
    console.error(error)
    process.exitCode = 1
  })
}
