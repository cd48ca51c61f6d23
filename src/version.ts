/** Harmonia's version, as /health, GET /api/nodes and Hermes report it. */
export const VERSION = '0.1.0'
