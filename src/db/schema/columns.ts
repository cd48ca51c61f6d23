import { customType, timestamp } from 'drizzle-orm/pg-core'

/**
 * A jsonb column whose value round-trips any JSON value.
 *
 * drizzle's own `jsonb()` parses the driver's value again when it is a string; both our drivers already parse jsonb,
 * so a stored JSON string that looks like JSON itself (`"123"`, `"true"`, `"null"`, `"[1]"`) would come back as a
 * number, boolean, null or array. This column passes the parsed value through. Writes are JSON text, as drizzle's.
 * Use it as drizzle's: `jsonb('output').$type<T>()`.
 */
export const jsonb = customType<{ data: unknown; driverData: unknown }>({
  dataType: () => 'jsonb',
  toDriver: (value) => JSON.stringify(value),
  fromDriver: (value) => value,
})

/** `timestamptz`, read as a Date (drizzle parses the driver's text); the store turns it into an ISO-8601 string. */
export const timestamptz = (name: string) => timestamp(name, { withTimezone: true, mode: 'date', precision: 3 })
