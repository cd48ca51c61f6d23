/** The `harmonia` command (bin/harmonia.js runs its compiled form, dist/cli/main.js). */
import { runCli } from './cli.js'
import { processIo } from './io.js'

const code = await runCli(process.argv.slice(2), processIo())
// exitCode, not exit(): piped output is flushed before the process ends. `serve` resolves only after a signal closed
// the server; anything left open then must not keep the process alive.
process.exitCode = code
if (process.argv[2] === 'serve') process.exit(code)
