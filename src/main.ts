/**
 * `npm start`. Until the HTTP server lands, this runs the seed example in-process and prints its progress.
 */
import { runSeedExample } from '../examples/seed-example.js'

await runSeedExample()
