ALTER TABLE "users" ADD COLUMN "supabase_user_id" uuid;--> statement-breakpoint
CREATE UNIQUE INDEX "users_supabase_user_id_idx" ON "users" USING btree ("supabase_user_id");