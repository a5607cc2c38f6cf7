-- Row-level security per org (see core/src/db/org-scope.ts). Tenant work runs as
-- takehome_app with app.org_id set for its transaction and sees only that org's rows;
-- system work runs as the login role, a member of takehome_system, which sees every org.
-- Roles are cluster-wide: another database on the server (or a replica migrating at the
-- same moment) may have made them already.
DO $$
BEGIN
  CREATE ROLE takehome_app NOLOGIN;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END $$;
--> statement-breakpoint
DO $$
BEGIN
  CREATE ROLE takehome_system NOLOGIN;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END $$;
--> statement-breakpoint
-- The login role must be able to SET ROLE takehome_app, and sees every org through takehome_system.
DO $$
BEGIN
  EXECUTE format('GRANT takehome_app, takehome_system TO %I', current_user);
EXCEPTION WHEN unique_violation THEN NULL;
END $$;
--> statement-breakpoint
-- The org of the current transaction; NULL (no rows) when none was set.
CREATE FUNCTION takehome_org() RETURNS uuid LANGUAGE sql STABLE
  AS $$ SELECT nullif(current_setting('app.org_id', true), '')::uuid $$;
--> statement-breakpoint
GRANT USAGE ON SCHEMA public TO takehome_app;
--> statement-breakpoint
DO $$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY[
    'org_members', 'sessions', 'api_keys', 'member_invitations', 'seeds', 'assessments',
    'invitations', 'candidate_repos', 'access_tokens', 'submissions', 'review_comments',
    'review_feedback', 'email_templates', 'email_events', 'mailbox_messages', 'audit_events',
    'outbox', 'push_ledger'
  ] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format('CREATE POLICY org_isolation ON %I TO takehome_app USING (org_id = takehome_org()) WITH CHECK (org_id = takehome_org())', t);
    EXECUTE format('CREATE POLICY system_work ON %I TO takehome_system USING (true) WITH CHECK (true)', t);
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I TO takehome_app', t);
  END LOOP;
END $$;
--> statement-breakpoint
-- The audit log is append-only for tenant work: no admin request can change or remove an event.
REVOKE UPDATE, DELETE ON audit_events FROM takehome_app;
--> statement-breakpoint
GRANT USAGE ON SEQUENCE audit_events_id_seq, push_ledger_id_seq TO takehome_app;
--> statement-breakpoint
ALTER TABLE orgs ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE orgs FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY org_isolation ON orgs TO takehome_app USING (id = takehome_org()) WITH CHECK (id = takehome_org());
--> statement-breakpoint
CREATE POLICY system_work ON orgs TO takehome_system USING (true) WITH CHECK (true);
--> statement-breakpoint
GRANT SELECT, UPDATE ON orgs TO takehome_app;
--> statement-breakpoint
-- Users belong to no org: an org sees its own members (names on comments, the members page), read only.
ALTER TABLE users ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE users FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY org_isolation ON users TO takehome_app
  USING (EXISTS (SELECT 1 FROM org_members m WHERE m.user_id = users.id AND m.org_id = takehome_org()));
--> statement-breakpoint
CREATE POLICY system_work ON users TO takehome_system USING (true) WITH CHECK (true);
--> statement-breakpoint
GRANT SELECT ON users TO takehome_app;
--> statement-breakpoint
-- Tokens minted for a repository belong to the org whose seed or candidate repository it is.
ALTER TABLE github_repo_tokens ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE github_repo_tokens FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY org_isolation ON github_repo_tokens TO takehome_app
  USING (
    EXISTS (SELECT 1 FROM candidate_repos r WHERE r.repo_full_name = github_repo_tokens.repo_full_name)
    OR EXISTS (SELECT 1 FROM seeds s WHERE s.seed_repo_full_name = github_repo_tokens.repo_full_name)
  )
  WITH CHECK (
    EXISTS (SELECT 1 FROM candidate_repos r WHERE r.repo_full_name = github_repo_tokens.repo_full_name)
    OR EXISTS (SELECT 1 FROM seeds s WHERE s.seed_repo_full_name = github_repo_tokens.repo_full_name)
  );
--> statement-breakpoint
CREATE POLICY system_work ON github_repo_tokens TO takehome_system USING (true) WITH CHECK (true);
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON github_repo_tokens TO takehome_app;
--> statement-breakpoint
-- The rest (password_resets, signup_requests, webhook_deliveries, github_installations and
-- the migrations' own table) hold no org's data and are system work only: takehome_app
-- has no grant on them, so a tenant query there fails loudly instead of reading them.
