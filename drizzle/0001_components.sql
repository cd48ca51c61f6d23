CREATE TABLE "components" (
	"name" text PRIMARY KEY NOT NULL,
	"url" text NOT NULL,
	"actions" jsonb,
	"secret" text,
	"timeout" double precision,
	"description" text DEFAULT '' NOT NULL,
	"metadata" jsonb NOT NULL,
	"created_at" timestamp (3) with time zone NOT NULL,
	"updated_at" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "task_executions" ADD COLUMN "awaiting" jsonb;