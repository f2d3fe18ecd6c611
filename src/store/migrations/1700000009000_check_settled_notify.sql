-- Up Migration
-- A ticket born in a business system (its instance not created yet: `pending:`) whose check call ended: the
-- replica answering its create request waits for this notification rather than polling.
CREATE FUNCTION ticketflow_notify_check_settled() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('ticketflow_check_settled', NEW.id);
  RETURN NULL;
END $$;
CREATE TRIGGER tickets_check_settled AFTER UPDATE OF state ON tickets
  FOR EACH ROW WHEN (OLD.state = 'checking' AND NEW.state <> 'checking' AND OLD.instance_code LIKE 'pending:%')
  EXECUTE FUNCTION ticketflow_notify_check_settled();

-- Down Migration
DROP TRIGGER tickets_check_settled ON tickets;
DROP FUNCTION ticketflow_notify_check_settled();
