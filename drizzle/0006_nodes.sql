CREATE TABLE "execution_commands" (
	"command_id" uuid PRIMARY KEY NOT NULL,
	"execution_id" uuid NOT NULL,
	"op" text NOT NULL,
	"args" jsonb NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"answer" jsonb,
	"answered_at" timestamp (3) with time zone
);
--> statement-breakpoint
CREATE TABLE "nodes" (
	"node_id" text PRIMARY KEY NOT NULL,
	"started_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"last_seen" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"version" text NOT NULL,
	"stopped_at" timestamp (3) with time zone
);
--> statement-breakpoint
ALTER TABLE "execution_commands" ADD CONSTRAINT "execution_commands_execution_id_executions_execution_id_fk" FOREIGN KEY ("execution_id") REFERENCES "public"."executions"("execution_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "execution_commands_waiting_idx" ON "execution_commands" USING btree ("execution_id") WHERE answered_at IS NULL;--> statement-breakpoint
CREATE INDEX "executions_unfinished_idx" ON "executions" USING btree ("created_at") WHERE status IN ('pending', 'running', 'paused');--> statement-breakpoint
CREATE INDEX "executions_end_time_idx" ON "executions" USING btree ("end_time");--> statement-breakpoint
CREATE INDEX "executions_owner_idx" ON "executions" USING btree ("owner") WHERE status IN ('pending', 'running', 'paused');