#!/usr/bin/env node
// The `harmonia` CLI, as compiled JavaScript (dist/). In a source checkout (scripts/build.mjs is there; the published
// package ships dist/ only) dist/ is rebuilt first when a source is newer, so the binary never runs stale code.
import { existsSync } from 'node:fs'
import { URL } from 'node:url'

if (existsSync(new URL('../scripts/build.mjs', import.meta.url))) await import('../scripts/build.mjs')
await import('../dist/cli/main.js')
