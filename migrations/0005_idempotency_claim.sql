-- Claiming an Idempotency-Key in one round trip (platform/idempotency): take the key's transaction-scoped advisory
-- lock, then read its stored answer. The read must come after the lock in a fresh snapshot (an answer committed by
-- the request that held the lock just before must be seen); a VOLATILE plpgsql function takes a new snapshot for
-- each statement, which a single SQL statement could not.
CREATE FUNCTION patron_claim_idempotency_key(p_tenant_id uuid, p_key text)
RETURNS TABLE (locked boolean, request_hash text, status_code integer, response_body jsonb)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  IF NOT pg_try_advisory_xact_lock(hashtextextended(p_tenant_id::text || ':' || p_key, 7)) THEN
    RETURN QUERY SELECT false, NULL::text, NULL::integer, NULL::jsonb;
    RETURN;
  END IF;
  RETURN QUERY
    SELECT true, k.request_hash, k.status_code, k.response_body
      FROM (SELECT 1) AS one
      LEFT JOIN idempotency_keys k ON k.tenant_id = p_tenant_id AND k.key = p_key;
END;
$$;
