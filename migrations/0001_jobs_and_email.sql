ALTER TABLE "email_events" DROP CONSTRAINT "email_events_type_check";--> statement-breakpoint
ALTER TABLE "email_events" ADD COLUMN "outbox_id" uuid;--> statement-breakpoint
ALTER TABLE "email_templates" ADD COLUMN "kind" text NOT NULL;--> statement-breakpoint
ALTER TABLE "email_templates" ADD COLUMN "is_default" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "outbox" ADD COLUMN "key" text;--> statement-breakpoint
CREATE UNIQUE INDEX "email_events_outbox_idx" ON "email_events" USING btree ("outbox_id");--> statement-breakpoint
CREATE UNIQUE INDEX "email_templates_default_idx" ON "email_templates" USING btree ("org_id","kind") WHERE "email_templates"."is_default";--> statement-breakpoint
CREATE UNIQUE INDEX "outbox_key_idx" ON "outbox" USING btree ("key");--> statement-breakpoint
ALTER TABLE "email_events" ADD CONSTRAINT "email_events_type_check" CHECK ("email_events"."type" in ('invite','reminder','follow_up','notice'));--> statement-breakpoint
ALTER TABLE "email_templates" ADD CONSTRAINT "email_templates_kind_check" CHECK ("email_templates"."kind" in ('invite','reminder','follow_up'));