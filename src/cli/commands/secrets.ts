import { str, type Command } from '../command.js'
import { EXIT, UsageError } from '../io.js'

/**
 * `harmonia secrets rotate --from OLD --to NEW`: seals every stored component secret under a new key, on the database
 * the server uses (DATABASE_URL, else PGlite in HARMONIA_DATA_DIR). Run it with the servers stopped, then start them
 * with HARMONIA_SECRET_KEY=NEW (a key kept in the PGlite data folder is replaced by NEW).
 */
export const secretsRotateCommand: Command = {
  name: 'secrets rotate',
  args: '',
  summary: 'seal every stored component secret under a new key (servers stopped)',
  details: 'Keys are 32 bytes in base64 (openssl rand -base64 32). Start the servers with HARMONIA_SECRET_KEY=<new key> afterwards.',
  options: {
    from: { type: 'string', value: '<key>', help: 'the key the secrets are stored under now' },
    to: { type: 'string', value: '<key>', help: 'the new key' },
  },
  arity: [0, 0],
  async run(ctx) {
    const from = str(ctx.values, 'from')
    const to = str(ctx.values, 'to')
    if (!from || !to) throw new UsageError('secrets rotate needs --from <key> and --to <key>')
    // Loaded here so that the client commands never load the engine.
    const { createHarmonia } = await import('../../harmonia.js')
    const harmonia = await createHarmonia({ recover: false, secretKey: from })
    try {
      const count = await harmonia.rotateSecrets(to)
      ctx.io.stdout.write(`re-sealed ${count} component secret${count === 1 ? '' : 's'} under the new key\n`)
      return EXIT.ok
    } finally {
      await harmonia.close()
    }
  },
}
