#!/usr/bin/env node
// The `harmonia` CLI: runs the TypeScript sources through tsx (the package ships no build step).
import { register } from 'tsx/esm/api'

register()
await import('../src/cli/main.ts')
