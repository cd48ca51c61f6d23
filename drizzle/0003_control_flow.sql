CREATE TABLE "execution_signals" (
	"execution_id" uuid PRIMARY KEY NOT NULL,
	"signals" jsonb NOT NULL,
	"updated_at" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "task_items" (
	"execution_id" uuid NOT NULL,
	"task_id" text NOT NULL,
	"index" integer NOT NULL,
	"status" "task_status" NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"output" jsonb,
	"error" jsonb,
	"start_time" timestamp (3) with time zone,
	"end_time" timestamp (3) with time zone,
	CONSTRAINT "task_items_execution_id_task_id_index_pk" PRIMARY KEY("execution_id","task_id","index")
);
--> statement-breakpoint
ALTER TABLE "executions" ADD COLUMN "parent" jsonb;--> statement-breakpoint
ALTER TABLE "task_executions" ADD COLUMN "child_execution_id" uuid;--> statement-breakpoint
ALTER TABLE "task_executions" ADD COLUMN "items" jsonb;--> statement-breakpoint
ALTER TABLE "execution_signals" ADD CONSTRAINT "execution_signals_execution_id_executions_execution_id_fk" FOREIGN KEY ("execution_id") REFERENCES "public"."executions"("execution_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "task_items" ADD CONSTRAINT "task_items_execution_id_executions_execution_id_fk" FOREIGN KEY ("execution_id") REFERENCES "public"."executions"("execution_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "executions_parent_idx" ON "executions" USING btree (("parent"->>'execution_id'));