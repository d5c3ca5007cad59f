-- Live status (issue 17): every change a user's dashboard shows raises a NOTIFY on channel
-- `irc_now_bouncer_changes` with {owner, namespace, name}; web replicas LISTEN and push it to that
-- owner's open dashboards, which then refetch. Postgres delivers notifications at commit, drops
-- duplicates within one transaction, and never for a rolled-back change. The payload names the
-- owner so a replica routes it without a query; it carries no state (readers refetch through
-- the usual ownership checks).
CREATE FUNCTION irc_now_notify_bouncer_change() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  row_namespace text;
  row_name text;
  owner uuid;
BEGIN
  IF TG_TABLE_NAME = 'bouncers' THEN
    IF TG_OP = 'DELETE' THEN
      row_namespace := OLD.namespace; row_name := OLD.name; owner := OLD.owner_id;
    ELSE
      row_namespace := NEW.namespace; row_name := NEW.name; owner := NEW.owner_id;
    END IF;
  ELSE
    row_namespace := NEW.namespace; row_name := NEW.bouncer;
    SELECT b.owner_id INTO owner FROM bouncers b
      WHERE b.namespace = row_namespace AND b.name = row_name;
  END IF;
  IF owner IS NOT NULL THEN
    PERFORM pg_notify(
      'irc_now_bouncer_changes',
      json_build_object('owner', owner, 'namespace', row_namespace, 'name', row_name)::text
    );
  END IF;
  RETURN NULL;
END
$$;
--> statement-breakpoint
-- The projection row changes whenever the worker's watch sees the CR change (status, labels,
-- annotations, deletion), and on create/delete.
CREATE TRIGGER bouncers_notify_change
AFTER INSERT OR UPDATE OR DELETE ON bouncers
FOR EACH ROW EXECUTE FUNCTION irc_now_notify_bouncer_change();
--> statement-breakpoint
CREATE TRIGGER bouncer_setup_attempts_notify_change
AFTER INSERT OR UPDATE ON bouncer_setup_attempts
FOR EACH ROW EXECUTE FUNCTION irc_now_notify_bouncer_change();
--> statement-breakpoint
-- The verifier rewrites every bouncer's row each interval (checked_at): only a change the user
-- can see is announced.
CREATE TRIGGER bouncer_upstream_states_notify_insert
AFTER INSERT ON bouncer_upstream_states
FOR EACH ROW EXECUTE FUNCTION irc_now_notify_bouncer_change();
--> statement-breakpoint
CREATE TRIGGER bouncer_upstream_states_notify_update
AFTER UPDATE ON bouncer_upstream_states
FOR EACH ROW
WHEN (
  OLD.state IS DISTINCT FROM NEW.state
  OR OLD.account IS DISTINCT FROM NEW.account
  OR OLD.detail IS DISTINCT FROM NEW.detail
  OR OLD.bouncer_uid IS DISTINCT FROM NEW.bouncer_uid
)
EXECUTE FUNCTION irc_now_notify_bouncer_change();
