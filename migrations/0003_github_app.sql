CREATE TABLE "github_installations" (
	"id" bigint PRIMARY KEY NOT NULL,
	"account_login" text NOT NULL,
	"permissions" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"events" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"suspended_at" timestamp with time zone,
	"deleted_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "github_repo_tokens" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"repo_full_name" text NOT NULL,
	"token_ciphertext" text NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"revoked_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "push_ledger" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"org_id" uuid NOT NULL,
	"candidate_repo_id" uuid NOT NULL,
	"delivery_id" text NOT NULL,
	"ref" text NOT NULL,
	"before_sha" text NOT NULL,
	"after_sha" text NOT NULL,
	"forced" boolean NOT NULL,
	"commit_count" integer NOT NULL,
	"received_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "assessments" ADD COLUMN "allow_workflow_changes" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "webhook_deliveries" ADD COLUMN "action" text;--> statement-breakpoint
ALTER TABLE "push_ledger" ADD CONSTRAINT "push_ledger_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."orgs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "push_ledger" ADD CONSTRAINT "push_ledger_candidate_repo_id_candidate_repos_id_fk" FOREIGN KEY ("candidate_repo_id") REFERENCES "public"."candidate_repos"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "github_repo_tokens_repo_idx" ON "github_repo_tokens" USING btree ("repo_full_name","expires_at");--> statement-breakpoint
CREATE UNIQUE INDEX "push_ledger_delivery_idx" ON "push_ledger" USING btree ("delivery_id");--> statement-breakpoint
CREATE INDEX "push_ledger_repo_idx" ON "push_ledger" USING btree ("candidate_repo_id","received_at");--> statement-breakpoint
CREATE UNIQUE INDEX "candidate_repos_github_repo_id_idx" ON "candidate_repos" USING btree ("github_repo_id") WHERE "candidate_repos"."github_repo_id" is not null;