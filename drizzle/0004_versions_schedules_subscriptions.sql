CREATE TABLE "schedule_ticks" (
	"workflow_id" uuid NOT NULL,
	"schedule" text NOT NULL,
	"tick" timestamp (3) with time zone NOT NULL,
	"execution_id" uuid,
	"created_at" timestamp (3) with time zone NOT NULL,
	CONSTRAINT "schedule_ticks_workflow_id_schedule_tick_pk" PRIMARY KEY("workflow_id","schedule","tick")
);
--> statement-breakpoint
CREATE TABLE "subscription_cursors" (
	"subscription_id" uuid NOT NULL,
	"execution_id" uuid NOT NULL,
	"delivered_seq" integer DEFAULT 0 NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp (3) with time zone,
	"last_error" text,
	CONSTRAINT "subscription_cursors_subscription_id_execution_id_pk" PRIMARY KEY("subscription_id","execution_id")
);
--> statement-breakpoint
CREATE TABLE "subscriptions" (
	"subscription_id" uuid PRIMARY KEY NOT NULL,
	"url" text NOT NULL,
	"types" jsonb,
	"workflow_id" uuid,
	"secret" text,
	"created_at" timestamp (3) with time zone NOT NULL,
	"disabled_at" timestamp (3) with time zone,
	"last_error" text,
	"failing_since" timestamp (3) with time zone
);
--> statement-breakpoint
CREATE TABLE "template_versions" (
	"template_id" uuid NOT NULL,
	"version" integer NOT NULL,
	"name" text NOT NULL,
	"description" text NOT NULL,
	"workflow_definition_id" uuid NOT NULL,
	"workflow_version" integer NOT NULL,
	"parameters" jsonb NOT NULL,
	"created_at" timestamp (3) with time zone NOT NULL,
	CONSTRAINT "template_versions_template_id_version_pk" PRIMARY KEY("template_id","version")
);
--> statement-breakpoint
ALTER TABLE "executions" ADD COLUMN "rerun_of" uuid;--> statement-breakpoint
ALTER TABLE "templates" ADD COLUMN "workflow_version" integer DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE "subscription_cursors" ADD CONSTRAINT "subscription_cursors_subscription_id_subscriptions_subscription_id_fk" FOREIGN KEY ("subscription_id") REFERENCES "public"."subscriptions"("subscription_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "template_versions" ADD CONSTRAINT "template_versions_template_id_templates_template_id_fk" FOREIGN KEY ("template_id") REFERENCES "public"."templates"("template_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
-- Templates stored before template versions: `version` was the workflow version they instantiate. It moves to
-- workflow_version; the template itself is version 1, with its row in template_versions.
UPDATE "templates" SET "workflow_version" = "version", "version" = 1;--> statement-breakpoint
INSERT INTO "template_versions" ("template_id", "version", "name", "description", "workflow_definition_id", "workflow_version", "parameters", "created_at")
SELECT "template_id", "version", "name", "description", "workflow_definition_id", "workflow_version", "parameters", "created_at" FROM "templates";
