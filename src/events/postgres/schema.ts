import type { ClientBase, QueryConfig } from "pg";
import { databaseSettings } from "../database.js";
import { NewerStore, type Upgraded } from "../store.js";
import { throughTransactionPooler } from "./pooler.js";

/**
 * A Shopify webhook's events by the webhook id they came with, which is not their delivery id (see
 * verifiers/shopify.ts), under either header name: the id Shopify shows finds the event. Step 20
 * indexes it as written here, so it never changes.
 */
export const SHOPIFY_WEBHOOK_ID =
  "coalesce(headers::jsonb ->> 'shopify-webhook-id', headers::jsonb ->> 'x-shopify-webhook-id')";

/**
 * A WooCommerce webhook's events by the delivery ID its log shows, which is not their delivery id (see
 * verifiers/woocommerce.ts). Step 22 indexes it as written here, so it never changes.
 */
export const WOOCOMMERCE_DELIVERY_ID = "headers::jsonb ->> 'x-wc-webhook-delivery-id'";

/**
 * The keys the listener gives a delivery whose id came before with another body (`<id> sha256:<hex>`),
 * as step 26 indexes them, so it never changes; a body's digest alone (`sha256:<hex>`) is none of them.
 */
export const REUSED_KEY = "dedupe_id LIKE '% sha256:%'";

/**
 * The store's tables, as versioned steps. A database set up by an older waiter is brought up to
 * date at start; each step runs once, in its own transaction, and never changes once released:
 * a change is a new step. Times are milliseconds since the epoch, as the SQLite store keeps them.
 */
export const MIGRATIONS: readonly string[] = [
  // 1: events, their totals and the listener's counters.
  `CREATE TABLE events (
     seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     id TEXT NOT NULL UNIQUE,
     source TEXT NOT NULL,
     type TEXT NOT NULL,
     scheme TEXT NOT NULL,
     dedupe_id TEXT NOT NULL,
     received_at BIGINT NOT NULL,
     headers TEXT NOT NULL,
     body BYTEA NOT NULL,
     is_json BOOLEAN NOT NULL,
     size INTEGER NOT NULL,
     acked_at BIGINT,
     UNIQUE (source, dedupe_id)
   );
   CREATE TABLE totals (
     one INTEGER PRIMARY KEY CHECK (one = 1),
     events BIGINT NOT NULL, bytes BIGINT NOT NULL,
     dropped_count BIGINT NOT NULL, dropped_bytes BIGINT NOT NULL, dropped_age BIGINT NOT NULL
   );
   INSERT INTO totals VALUES (1, 0, 0, 0, 0, 0);
   CREATE TABLE counters (
     source TEXT NOT NULL, outcome TEXT NOT NULL, n BIGINT NOT NULL, PRIMARY KEY (source, outcome)
   );`,
  // 2: automations' runs, their steps, where each automation starts, and who runs them.
  `CREATE TABLE automation_runs (
     id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     automation TEXT NOT NULL,
     event_id TEXT NOT NULL,
     status TEXT NOT NULL,
     dry_run BOOLEAN NOT NULL,
     started_at BIGINT NOT NULL,
     finished_at BIGINT,
     error TEXT,
     UNIQUE (automation, event_id)
   );
   CREATE INDEX automation_runs_event ON automation_runs (event_id);
   CREATE TABLE automation_steps (
     run_id BIGINT NOT NULL REFERENCES automation_runs (id) ON DELETE CASCADE,
     step INTEGER NOT NULL,
     status TEXT NOT NULL,
     detail TEXT NOT NULL,
     at BIGINT NOT NULL,
     PRIMARY KEY (run_id, step)
   );
   CREATE TABLE automation_cursor (one INTEGER PRIMARY KEY CHECK (one = 1), seq BIGINT NOT NULL);
   CREATE TABLE automation_starts (automation TEXT PRIMARY KEY, seq BIGINT NOT NULL);
   CREATE TABLE automation_lease (one INTEGER PRIMARY KEY CHECK (one = 1), owner TEXT NOT NULL, until BIGINT NOT NULL);`,
  // 3: deliveries remembered after retention dropped their events, so a replay is a duplicate.
  `CREATE TABLE dropped_deliveries (
     source TEXT NOT NULL, dedupe_id TEXT NOT NULL, id TEXT NOT NULL, dropped_at BIGINT NOT NULL,
     PRIMARY KEY (source, dedupe_id)
   );
   CREATE INDEX dropped_deliveries_at ON dropped_deliveries (dropped_at);`,
  // 4: MCP sessions with what their clients sent at initialize, so any replica can take one up.
  `CREATE TABLE mcp_sessions (id TEXT PRIMARY KEY, caller TEXT, init TEXT NOT NULL, last_seen BIGINT NOT NULL);`,
  // 5: storing and dropping events as functions, so that a commit holds the turn (the totals
  // row's lock, which hands out sequence numbers in commit order) only while the server works,
  // never across a round trip to a replica. Each statement in them sees what committed before it.
  `CREATE FUNCTION waiter_drop(up_to BIGINT, now_ms BIGINT, why TEXT) RETURNS void LANGUAGE plpgsql AS $$
   DECLARE n BIGINT; b BIGINT;
   BEGIN
     -- The deliveries are remembered past their events: the same one sent again is a duplicate.
     WITH gone AS (DELETE FROM events WHERE seq <= up_to RETURNING source, dedupe_id, id, size),
          remembered AS (
            INSERT INTO dropped_deliveries (source, dedupe_id, id, dropped_at)
            SELECT source, dedupe_id, id, now_ms FROM gone ON CONFLICT DO NOTHING)
     SELECT count(*), coalesce(sum(size), 0) INTO n, b FROM gone;
     UPDATE totals SET events = events - n, bytes = bytes - b,
       dropped_age = dropped_age + CASE WHEN why = 'age' THEN n ELSE 0 END,
       dropped_count = dropped_count + CASE WHEN why = 'count' THEN n ELSE 0 END,
       dropped_bytes = dropped_bytes + CASE WHEN why = 'bytes' THEN n ELSE 0 END;
   END $$;

   -- Drops the oldest events past the limits, the caller holding the turn: past the age limit
   -- first, then over the count, then over the bytes. Events are stored in arrival order, so
   -- what goes is always the oldest run.
   CREATE FUNCTION waiter_retain(now_ms BIGINT, max_events BIGINT, max_bytes BIGINT, max_age_ms BIGINT)
   RETURNS void LANGUAGE plpgsql AS $$
   DECLARE t RECORD; edge BIGINT; cutoff BIGINT := now_ms - max_age_ms;
   BEGIN
     IF (SELECT received_at FROM events ORDER BY seq LIMIT 1) < cutoff THEN
       SELECT seq - 1 INTO edge FROM events WHERE received_at >= cutoff ORDER BY seq LIMIT 1;
       PERFORM waiter_drop(coalesce(edge, 9223372036854775807), now_ms, 'age');
     END IF;
     SELECT events, bytes INTO t FROM totals;
     IF t.events > max_events THEN
       SELECT seq INTO edge FROM events ORDER BY seq OFFSET t.events - max_events - 1 LIMIT 1;
       IF edge IS NOT NULL THEN PERFORM waiter_drop(edge, now_ms, 'count'); END IF;
     END IF;
     SELECT events, bytes INTO t FROM totals;
     IF t.bytes > max_bytes THEN
       SELECT seq INTO edge FROM (SELECT seq, sum(size) OVER (ORDER BY seq) AS running FROM events) s
       WHERE running >= t.bytes - max_bytes ORDER BY seq LIMIT 1;
       IF edge IS NOT NULL THEN PERFORM waiter_drop(edge, now_ms, 'bytes'); END IF;
     END IF;
   END $$;

   -- Stores a batch once per source and delivery id, in its order; counts it; keeps the limits;
   -- tells the other replicas. Returns the events it stored: the rest were repeats.
   CREATE FUNCTION waiter_add(
     ids TEXT[], sources TEXT[], types TEXT[], schemes TEXT[], dedupe_ids TEXT[], received BIGINT[],
     headers TEXT[], bodies BYTEA[], jsons BOOLEAN[], sizes INTEGER[],
     channel TEXT, max_events BIGINT, max_bytes BIGINT, max_age_ms BIGINT)
   RETURNS TABLE (added_seq BIGINT, added_id TEXT) LANGUAGE plpgsql AS $$
   DECLARE seqs BIGINT[]; added TEXT[]; n BIGINT; b BIGINT;
   BEGIN
     PERFORM 1 FROM totals FOR UPDATE;
     WITH t AS (
            SELECT * FROM unnest(ids, sources, types, schemes, dedupe_ids, received, headers, bodies, jsons, sizes)
              WITH ORDINALITY AS t (id, source, type, scheme, dedupe_id, received_at, headers, body, is_json, size, ord)),
          ins AS (
            INSERT INTO events (id, source, type, scheme, dedupe_id, received_at, headers, body, is_json, size)
            SELECT t.id, t.source, t.type, t.scheme, t.dedupe_id, t.received_at, t.headers, t.body, t.is_json, t.size
            FROM t
            WHERE NOT EXISTS (
              SELECT 1 FROM dropped_deliveries d WHERE d.source = t.source AND d.dedupe_id = t.dedupe_id)
            ORDER BY t.ord
            ON CONFLICT (source, dedupe_id) DO NOTHING
            RETURNING events.seq, events.id, events.source, events.size),
          per AS (
            SELECT t.source, count(*) AS n, (SELECT count(*) FROM ins WHERE ins.source = t.source) AS accepted
            FROM t GROUP BY t.source),
          counted AS (
            INSERT INTO counters AS c (source, outcome, n)
            SELECT per.source, 'accepted', per.accepted FROM per WHERE per.accepted > 0
            UNION ALL SELECT per.source, 'duplicate', per.n - per.accepted FROM per WHERE per.n > per.accepted
            ON CONFLICT (source, outcome) DO UPDATE SET n = c.n + excluded.n)
     SELECT array_agg(ins.seq ORDER BY ins.seq), array_agg(ins.id ORDER BY ins.seq), count(*), coalesce(sum(ins.size), 0)
       INTO seqs, added, n, b FROM ins;
     IF n > 0 THEN
       UPDATE totals SET events = events + n, bytes = bytes + b;
       PERFORM waiter_retain(received[cardinality(received)], max_events, max_bytes, max_age_ms);
       PERFORM pg_notify(channel, seqs[cardinality(seqs)]::text);
     END IF;
     RETURN QUERY SELECT unnest(seqs), unnest(added);
   END $$;`,
  // 6: the resources each MCP session's client subscribed to, so a replica that takes the session
  // up sends it the notifications the first did.
  `CREATE TABLE mcp_subscriptions (session_id TEXT NOT NULL, uri TEXT NOT NULL, PRIMARY KEY (session_id, uri));`,
  // 7: a page of unacknowledged events, and one of a source's, read by index rather than by
  // walking every event newer than the page.
  `CREATE INDEX events_unacked ON events (seq) WHERE acked_at IS NULL;
   CREATE INDEX events_by_source ON events (source, seq);`,
  // 8: a session's subscriptions written whole: the session's row is locked first, so two
  // servers writing different sets at once take turns and the later set replaces the earlier,
  // where two statements side by side could each miss the other's rows and keep both sets.
  `CREATE FUNCTION waiter_keep_subscriptions(session TEXT, uris TEXT[]) RETURNS void LANGUAGE plpgsql AS $$
   BEGIN
     PERFORM 1 FROM mcp_sessions WHERE id = session FOR UPDATE;
     IF NOT FOUND THEN RETURN; END IF;
     DELETE FROM mcp_subscriptions WHERE session_id = session AND uri <> ALL (uris);
     INSERT INTO mcp_subscriptions (session_id, uri) SELECT session, u FROM unnest(uris) AS u ON CONFLICT DO NOTHING;
   END $$;`,
  // 9: retention says what it dropped, by limit, and how many of those no one had acknowledged,
  // so that the log can say so: {"age": {"events": n, "unacked": u}, ...}, a limit that dropped
  // none absent. Stores return it with the events they stored (the same on each row).
  `DROP FUNCTION waiter_add(TEXT[], TEXT[], TEXT[], TEXT[], TEXT[], BIGINT[], TEXT[], BYTEA[], BOOLEAN[], INTEGER[], TEXT, BIGINT, BIGINT, BIGINT);
   DROP FUNCTION waiter_retain(BIGINT, BIGINT, BIGINT, BIGINT);
   DROP FUNCTION waiter_drop(BIGINT, BIGINT, TEXT);
   CREATE FUNCTION waiter_drop(up_to BIGINT, now_ms BIGINT, why TEXT) RETURNS JSONB LANGUAGE plpgsql AS $$
   DECLARE n BIGINT; u BIGINT; b BIGINT;
   BEGIN
     WITH gone AS (DELETE FROM events WHERE seq <= up_to RETURNING source, dedupe_id, id, size, acked_at),
          remembered AS (
            INSERT INTO dropped_deliveries (source, dedupe_id, id, dropped_at)
            SELECT source, dedupe_id, id, now_ms FROM gone ON CONFLICT DO NOTHING)
     SELECT count(*), count(*) FILTER (WHERE acked_at IS NULL), coalesce(sum(size), 0) INTO n, u, b FROM gone;
     UPDATE totals SET events = events - n, bytes = bytes - b,
       dropped_age = dropped_age + CASE WHEN why = 'age' THEN n ELSE 0 END,
       dropped_count = dropped_count + CASE WHEN why = 'count' THEN n ELSE 0 END,
       dropped_bytes = dropped_bytes + CASE WHEN why = 'bytes' THEN n ELSE 0 END;
     RETURN jsonb_build_object(why, jsonb_build_object('events', n, 'unacked', u));
   END $$;

   CREATE FUNCTION waiter_retain(now_ms BIGINT, max_events BIGINT, max_bytes BIGINT, max_age_ms BIGINT)
   RETURNS JSONB LANGUAGE plpgsql AS $$
   DECLARE t RECORD; edge BIGINT; cutoff BIGINT := now_ms - max_age_ms; dropped JSONB := '{}';
   BEGIN
     IF (SELECT received_at FROM events ORDER BY seq LIMIT 1) < cutoff THEN
       SELECT seq - 1 INTO edge FROM events WHERE received_at >= cutoff ORDER BY seq LIMIT 1;
       dropped := dropped || waiter_drop(coalesce(edge, 9223372036854775807), now_ms, 'age');
     END IF;
     SELECT events, bytes INTO t FROM totals;
     IF t.events > max_events THEN
       SELECT seq INTO edge FROM events ORDER BY seq OFFSET t.events - max_events - 1 LIMIT 1;
       IF edge IS NOT NULL THEN dropped := dropped || waiter_drop(edge, now_ms, 'count'); END IF;
     END IF;
     SELECT events, bytes INTO t FROM totals;
     IF t.bytes > max_bytes THEN
       SELECT seq INTO edge FROM (SELECT seq, sum(size) OVER (ORDER BY seq) AS running FROM events) s
       WHERE running >= t.bytes - max_bytes ORDER BY seq LIMIT 1;
       IF edge IS NOT NULL THEN dropped := dropped || waiter_drop(edge, now_ms, 'bytes'); END IF;
     END IF;
     RETURN dropped;
   END $$;

   CREATE FUNCTION waiter_add(
     ids TEXT[], sources TEXT[], types TEXT[], schemes TEXT[], dedupe_ids TEXT[], received BIGINT[],
     headers TEXT[], bodies BYTEA[], jsons BOOLEAN[], sizes INTEGER[],
     channel TEXT, max_events BIGINT, max_bytes BIGINT, max_age_ms BIGINT)
   RETURNS TABLE (added_seq BIGINT, added_id TEXT, dropped JSONB) LANGUAGE plpgsql AS $$
   DECLARE seqs BIGINT[]; added TEXT[]; n BIGINT; b BIGINT; gone JSONB;
   BEGIN
     PERFORM 1 FROM totals FOR UPDATE;
     WITH t AS (
            SELECT * FROM unnest(ids, sources, types, schemes, dedupe_ids, received, headers, bodies, jsons, sizes)
              WITH ORDINALITY AS t (id, source, type, scheme, dedupe_id, received_at, headers, body, is_json, size, ord)),
          ins AS (
            INSERT INTO events (id, source, type, scheme, dedupe_id, received_at, headers, body, is_json, size)
            SELECT t.id, t.source, t.type, t.scheme, t.dedupe_id, t.received_at, t.headers, t.body, t.is_json, t.size
            FROM t
            WHERE NOT EXISTS (
              SELECT 1 FROM dropped_deliveries d WHERE d.source = t.source AND d.dedupe_id = t.dedupe_id)
            ORDER BY t.ord
            ON CONFLICT (source, dedupe_id) DO NOTHING
            RETURNING events.seq, events.id, events.source, events.size),
          per AS (
            SELECT t.source, count(*) AS n, (SELECT count(*) FROM ins WHERE ins.source = t.source) AS accepted
            FROM t GROUP BY t.source),
          counted AS (
            INSERT INTO counters AS c (source, outcome, n)
            SELECT per.source, 'accepted', per.accepted FROM per WHERE per.accepted > 0
            UNION ALL SELECT per.source, 'duplicate', per.n - per.accepted FROM per WHERE per.n > per.accepted
            ON CONFLICT (source, outcome) DO UPDATE SET n = c.n + excluded.n)
     SELECT array_agg(ins.seq ORDER BY ins.seq), array_agg(ins.id ORDER BY ins.seq), count(*), coalesce(sum(ins.size), 0)
       INTO seqs, added, n, b FROM ins;
     IF n > 0 THEN
       UPDATE totals SET events = events + n, bytes = bytes + b;
       gone := waiter_retain(received[cardinality(received)], max_events, max_bytes, max_age_ms);
       PERFORM pg_notify(channel, seqs[cardinality(seqs)]::text);
     END IF;
     RETURN QUERY SELECT unnest(seqs), unnest(added), gone;
   END $$;`,
  // 10: the greatest sequence number retention dropped, so a reader whose cursor is below it can be
  // told it missed events. Retention drops the oldest events first, so in a store it dropped from
  // before this was kept, everything below the oldest event kept counts as dropped.
  `ALTER TABLE totals ADD COLUMN dropped_through BIGINT NOT NULL DEFAULT 0;
   UPDATE totals SET dropped_through = coalesce((SELECT min(seq) - 1 FROM events),
     pg_sequence_last_value(pg_get_serial_sequence('events', 'seq')), 0)
   WHERE dropped_count + dropped_bytes + dropped_age > 0;
   CREATE OR REPLACE FUNCTION waiter_drop(up_to BIGINT, now_ms BIGINT, why TEXT) RETURNS JSONB LANGUAGE plpgsql AS $$
   DECLARE n BIGINT; u BIGINT; b BIGINT; last BIGINT;
   BEGIN
     WITH gone AS (DELETE FROM events WHERE seq <= up_to RETURNING seq, source, dedupe_id, id, size, acked_at),
          remembered AS (
            INSERT INTO dropped_deliveries (source, dedupe_id, id, dropped_at)
            SELECT source, dedupe_id, id, now_ms FROM gone ON CONFLICT DO NOTHING)
     SELECT count(*), count(*) FILTER (WHERE acked_at IS NULL), coalesce(sum(size), 0), coalesce(max(seq), 0)
       INTO n, u, b, last FROM gone;
     UPDATE totals SET events = events - n, bytes = bytes - b,
       dropped_age = dropped_age + CASE WHEN why = 'age' THEN n ELSE 0 END,
       dropped_count = dropped_count + CASE WHEN why = 'count' THEN n ELSE 0 END,
       dropped_bytes = dropped_bytes + CASE WHEN why = 'bytes' THEN n ELSE 0 END,
       dropped_through = greatest(dropped_through, last);
     RETURN jsonb_build_object(why, jsonb_build_object('events', n, 'unacked', u));
   END $$;`,
  // 11: a failed run's onFailure notice while it is not yet told, and where telling it got to, so
  // that a stop neither loses it nor repeats one that may have reached the channel.
  `ALTER TABLE automation_runs ADD COLUMN notice TEXT, ADD COLUMN notice_status TEXT;`,
  // 12: retention drops at most 10,000 events by each limit in a statement: a backlog (a limit
  // lowered) goes over several, each holding the turn briefly, in place of one that holds every
  // replica's deliveries until all of it is gone. The caller runs it again while it drops any.
  `CREATE OR REPLACE FUNCTION waiter_retain(now_ms BIGINT, max_events BIGINT, max_bytes BIGINT, max_age_ms BIGINT)
   RETURNS JSONB LANGUAGE plpgsql AS $$
   DECLARE t RECORD; edge BIGINT; cutoff BIGINT := now_ms - max_age_ms; dropped JSONB := '{}';
     batch CONSTANT BIGINT := 10000;
   BEGIN
     IF (SELECT received_at FROM events ORDER BY seq LIMIT 1) < cutoff THEN
       SELECT seq - 1 INTO edge FROM (SELECT seq, received_at FROM events ORDER BY seq LIMIT batch) b
       WHERE received_at >= cutoff ORDER BY seq LIMIT 1;
       IF edge IS NULL THEN SELECT max(seq) INTO edge FROM (SELECT seq FROM events ORDER BY seq LIMIT batch) b; END IF;
       dropped := dropped || waiter_drop(edge, now_ms, 'age');
     END IF;
     SELECT events, bytes INTO t FROM totals;
     IF t.events > max_events THEN
       SELECT seq INTO edge FROM events ORDER BY seq OFFSET least(t.events - max_events, batch) - 1 LIMIT 1;
       IF edge IS NOT NULL THEN dropped := dropped || waiter_drop(edge, now_ms, 'count'); END IF;
     END IF;
     SELECT events, bytes INTO t FROM totals;
     IF t.bytes > max_bytes THEN
       SELECT seq INTO edge FROM (
         SELECT seq, sum(size) OVER (ORDER BY seq) AS running FROM (SELECT seq, size FROM events ORDER BY seq LIMIT batch) b) s
       WHERE running >= t.bytes - max_bytes ORDER BY seq LIMIT 1;
       IF edge IS NULL THEN SELECT max(seq) INTO edge FROM (SELECT seq FROM events ORDER BY seq LIMIT batch) b; END IF;
       IF edge IS NOT NULL THEN dropped := dropped || waiter_drop(edge, now_ms, 'bytes'); END IF;
     END IF;
     RETURN dropped;
   END $$;`,
  // 13: a page of a type's events, read by index rather than by walking every event newer than
  // the page; in the C collation, whose order by bytes makes a type prefix a range of it.
  `CREATE INDEX events_by_type ON events (type COLLATE "C", seq);`,
  // 14: the onFailure channel a run's automation had when it began, told when the automation is gone.
  `ALTER TABLE automation_runs ADD COLUMN on_failure TEXT;`,
  // 15: the greatest sequence number an event was stored with, which an event erased by hand does
  // not take back (the sequence's own last value counts numbers not yet committed, which a cursor
  // must not pass). The sequence never hands out a number twice, so its last value covers events
  // erased before this was kept; no store holds the turn while the ALTER holds the table.
  `ALTER TABLE totals ADD COLUMN latest_seq BIGINT NOT NULL DEFAULT 0;
   UPDATE totals SET latest_seq = greatest(dropped_through, coalesce((SELECT max(seq) FROM events), 0),
     coalesce(pg_sequence_last_value(pg_get_serial_sequence('events', 'seq')), 0));
   CREATE OR REPLACE FUNCTION waiter_add(
     ids TEXT[], sources TEXT[], types TEXT[], schemes TEXT[], dedupe_ids TEXT[], received BIGINT[],
     headers TEXT[], bodies BYTEA[], jsons BOOLEAN[], sizes INTEGER[],
     channel TEXT, max_events BIGINT, max_bytes BIGINT, max_age_ms BIGINT)
   RETURNS TABLE (added_seq BIGINT, added_id TEXT, dropped JSONB) LANGUAGE plpgsql AS $$
   DECLARE seqs BIGINT[]; added TEXT[]; n BIGINT; b BIGINT; gone JSONB;
   BEGIN
     PERFORM 1 FROM totals FOR UPDATE;
     WITH t AS (
            SELECT * FROM unnest(ids, sources, types, schemes, dedupe_ids, received, headers, bodies, jsons, sizes)
              WITH ORDINALITY AS t (id, source, type, scheme, dedupe_id, received_at, headers, body, is_json, size, ord)),
          ins AS (
            INSERT INTO events (id, source, type, scheme, dedupe_id, received_at, headers, body, is_json, size)
            SELECT t.id, t.source, t.type, t.scheme, t.dedupe_id, t.received_at, t.headers, t.body, t.is_json, t.size
            FROM t
            WHERE NOT EXISTS (
              SELECT 1 FROM dropped_deliveries d WHERE d.source = t.source AND d.dedupe_id = t.dedupe_id)
            ORDER BY t.ord
            ON CONFLICT (source, dedupe_id) DO NOTHING
            RETURNING events.seq, events.id, events.source, events.size),
          per AS (
            SELECT t.source, count(*) AS n, (SELECT count(*) FROM ins WHERE ins.source = t.source) AS accepted
            FROM t GROUP BY t.source),
          counted AS (
            INSERT INTO counters AS c (source, outcome, n)
            SELECT per.source, 'accepted', per.accepted FROM per WHERE per.accepted > 0
            UNION ALL SELECT per.source, 'duplicate', per.n - per.accepted FROM per WHERE per.n > per.accepted
            ON CONFLICT (source, outcome) DO UPDATE SET n = c.n + excluded.n)
     SELECT array_agg(ins.seq ORDER BY ins.seq), array_agg(ins.id ORDER BY ins.seq), count(*), coalesce(sum(ins.size), 0)
       INTO seqs, added, n, b FROM ins;
     IF n > 0 THEN
       UPDATE totals SET events = events + n, bytes = bytes + b,
         latest_seq = greatest(latest_seq, seqs[cardinality(seqs)]);
       gone := waiter_retain(received[cardinality(received)], max_events, max_bytes, max_age_ms);
       PERFORM pg_notify(channel, seqs[cardinality(seqs)]::text);
     END IF;
     RETURN QUERY SELECT unnest(seqs), unnest(added), gone;
   END $$;`,
  // 16: retention locks the events it drops in sequence order, as an acknowledgement of several
  // locks them, before it deletes them: a delete takes rows in the table's order, which an update
  // (acked_at) changes, and the two could each hold a row the other waits for (40P01).
  `CREATE OR REPLACE FUNCTION waiter_drop(up_to BIGINT, now_ms BIGINT, why TEXT) RETURNS JSONB LANGUAGE plpgsql AS $$
   DECLARE n BIGINT; u BIGINT; b BIGINT; last BIGINT;
   BEGIN
     WITH locked AS (SELECT seq FROM events WHERE seq <= up_to ORDER BY seq FOR UPDATE),
          gone AS (DELETE FROM events WHERE seq IN (SELECT seq FROM locked)
            RETURNING seq, source, dedupe_id, id, size, acked_at),
          remembered AS (
            INSERT INTO dropped_deliveries (source, dedupe_id, id, dropped_at)
            SELECT source, dedupe_id, id, now_ms FROM gone ON CONFLICT DO NOTHING)
     SELECT count(*), count(*) FILTER (WHERE acked_at IS NULL), coalesce(sum(size), 0), coalesce(max(seq), 0)
       INTO n, u, b, last FROM gone;
     UPDATE totals SET events = events - n, bytes = bytes - b,
       dropped_age = dropped_age + CASE WHEN why = 'age' THEN n ELSE 0 END,
       dropped_count = dropped_count + CASE WHEN why = 'count' THEN n ELSE 0 END,
       dropped_bytes = dropped_bytes + CASE WHEN why = 'bytes' THEN n ELSE 0 END,
       dropped_through = greatest(dropped_through, last);
     RETURN jsonb_build_object(why, jsonb_build_object('events', n, 'unacked', u));
   END $$;`,
  // 17: a limit waits for the statement after the one where the limit before it dropped a full
  // batch, as SQLite's retention does: what it would drop meanwhile may be past the age limit too,
  // and would be counted, and told, as cut short by maxEvents or maxBytes.
  `CREATE OR REPLACE FUNCTION waiter_retain(now_ms BIGINT, max_events BIGINT, max_bytes BIGINT, max_age_ms BIGINT)
   RETURNS JSONB LANGUAGE plpgsql AS $$
   DECLARE t RECORD; edge BIGINT; cutoff BIGINT := now_ms - max_age_ms; dropped JSONB := '{}';
     batch CONSTANT BIGINT := 10000;
   BEGIN
     IF (SELECT received_at FROM events ORDER BY seq LIMIT 1) < cutoff THEN
       SELECT seq - 1 INTO edge FROM (SELECT seq, received_at FROM events ORDER BY seq LIMIT batch) b
       WHERE received_at >= cutoff ORDER BY seq LIMIT 1;
       IF edge IS NULL THEN SELECT max(seq) INTO edge FROM (SELECT seq FROM events ORDER BY seq LIMIT batch) b; END IF;
       dropped := dropped || waiter_drop(edge, now_ms, 'age');
       IF (dropped->'age'->>'events')::BIGINT >= batch THEN RETURN dropped; END IF;
     END IF;
     SELECT events, bytes INTO t FROM totals;
     IF t.events > max_events THEN
       SELECT seq INTO edge FROM events ORDER BY seq OFFSET least(t.events - max_events, batch) - 1 LIMIT 1;
       IF edge IS NOT NULL THEN
         dropped := dropped || waiter_drop(edge, now_ms, 'count');
         IF t.events - max_events > batch THEN RETURN dropped; END IF;
       END IF;
     END IF;
     SELECT events, bytes INTO t FROM totals;
     IF t.bytes > max_bytes THEN
       SELECT seq INTO edge FROM (
         SELECT seq, sum(size) OVER (ORDER BY seq) AS running FROM (SELECT seq, size FROM events ORDER BY seq LIMIT batch) b) s
       WHERE running >= t.bytes - max_bytes ORDER BY seq LIMIT 1;
       IF edge IS NULL THEN SELECT max(seq) INTO edge FROM (SELECT seq FROM events ORDER BY seq LIMIT batch) b; END IF;
       IF edge IS NOT NULL THEN dropped := dropped || waiter_drop(edge, now_ms, 'bytes'); END IF;
     END IF;
     RETURN dropped;
   END $$;`,
  // 18: the store's identity, made once: /healthz says it, so that a waiter that finds the webhook
  // port held can tell whether the holder stores into the store it reads.
  `CREATE TABLE store_identity (one INTEGER PRIMARY KEY CHECK (one = 1), id TEXT NOT NULL);
   INSERT INTO store_identity (one, id) VALUES (1, md5(random()::text || clock_timestamp()::text));`,
  // 19: what became of a failed run's onFailure notice once telling it ended, shown with the run.
  `ALTER TABLE automation_runs ADD COLUMN notice_outcome TEXT;`,
  // 20: a Shopify webhook's events by the webhook id they came with.
  `CREATE INDEX events_by_shopify_webhook ON events ((${SHOPIFY_WEBHOOK_ID})) WHERE scheme = 'shopify';`,
  // 21: retention tells every replica what it dropped, in its own commit, so that the subscribers of
  // a dropped event hear of it: the greatest sequence number dropped and how many events are left,
  // on the channel the store's schema has (PostgresEventStore.open names it alike). Under the same
  // name and arguments, which an older replica's deliveries and timer call too: its drops are told.
  `ALTER FUNCTION waiter_retain(BIGINT, BIGINT, BIGINT, BIGINT) RENAME TO waiter_retain_limits;
   CREATE FUNCTION waiter_retain(now_ms BIGINT, max_events BIGINT, max_bytes BIGINT, max_age_ms BIGINT)
   RETURNS JSONB LANGUAGE plpgsql AS $$
   DECLARE dropped JSONB := waiter_retain_limits(now_ms, max_events, max_bytes, max_age_ms); t RECORD;
   BEGIN
     IF dropped <> '{}' THEN
       SELECT dropped_through, events INTO t FROM totals;
       PERFORM pg_notify('waiter_events_' || left(encode(sha256(convert_to(current_schema(), 'UTF8')), 'hex'), 16),
         'dropped ' || t.dropped_through || ' ' || t.events);
     END IF;
     RETURN dropped;
   END $$;`,
  // 22: a WooCommerce webhook's events by the delivery ID its log shows.
  `CREATE INDEX events_by_woocommerce_delivery ON events ((${WOOCOMMERCE_DELIVERY_ID})) WHERE scheme = 'woocommerce';`,
  // 23: a delivery waits for locks one lock wait (the session's lock_timeout) in all. PostgreSQL
  // counts lock_timeout by wait, and commits waiting for the totals row queue one behind the
  // other: the second waits out the first's wait on a session that holds the row (a person's),
  // then one of its own. So the commits first take turns on a lock of their own, an advisory lock
  // keyed by "wait" and the totals table's oid, a store's own in each schema (one wait, in line),
  // and the one whose turn it is waits for the row alone; that wait, and each the statement meets
  // after it (a person's lock on events or counters), gets what is left of the lock wait counted
  // from the statement's start. Its own retention waits for a lock on what it drops briefly, as
  // a retention run does (RETAIN_LOCK_WAIT_MS), and leaves it otherwise to the next write or run.
  // Under the same name and arguments: an older replica's deliveries, during a rolling upgrade, take
  // turns on the same advisory lock as this one's.
  `-- What is left of a lock wait until its deadline, at_most at most, as the transaction's
   -- lock_timeout (1 ms at least: 0 waits for ever); none where the session waits for ever (wait 0).
   CREATE FUNCTION waiter_lock_wait_left(wait INTERVAL, deadline TIMESTAMPTZ, at_most INTERVAL DEFAULT NULL)
   RETURNS void LANGUAGE sql AS $$
     SELECT set_config('lock_timeout', greatest(1, ceil(extract(EPOCH FROM
       least(deadline - clock_timestamp(), coalesce(at_most, deadline - clock_timestamp()))) * 1000))::BIGINT || 'ms', true)
     WHERE wait > INTERVAL '0'
   $$;
   CREATE OR REPLACE FUNCTION waiter_add(
     ids TEXT[], sources TEXT[], types TEXT[], schemes TEXT[], dedupe_ids TEXT[], received BIGINT[],
     headers TEXT[], bodies BYTEA[], jsons BOOLEAN[], sizes INTEGER[],
     channel TEXT, max_events BIGINT, max_bytes BIGINT, max_age_ms BIGINT)
   RETURNS TABLE (added_seq BIGINT, added_id TEXT, dropped JSONB) LANGUAGE plpgsql AS $$
   DECLARE seqs BIGINT[]; added TEXT[]; n BIGINT; b BIGINT; gone JSONB;
     wait INTERVAL := current_setting('lock_timeout')::INTERVAL;
     deadline TIMESTAMPTZ := statement_timestamp() + wait;
   BEGIN
     PERFORM pg_advisory_xact_lock(2002872692, ('totals'::REGCLASS::OID::BIGINT - 2147483648)::INTEGER);
     PERFORM waiter_lock_wait_left(wait, deadline);
     PERFORM 1 FROM totals FOR UPDATE;
     PERFORM waiter_lock_wait_left(wait, deadline);
     WITH t AS (
            SELECT * FROM unnest(ids, sources, types, schemes, dedupe_ids, received, headers, bodies, jsons, sizes)
              WITH ORDINALITY AS t (id, source, type, scheme, dedupe_id, received_at, headers, body, is_json, size, ord)),
          ins AS (
            INSERT INTO events (id, source, type, scheme, dedupe_id, received_at, headers, body, is_json, size)
            SELECT t.id, t.source, t.type, t.scheme, t.dedupe_id, t.received_at, t.headers, t.body, t.is_json, t.size
            FROM t
            WHERE NOT EXISTS (
              SELECT 1 FROM dropped_deliveries d WHERE d.source = t.source AND d.dedupe_id = t.dedupe_id)
            ORDER BY t.ord
            ON CONFLICT (source, dedupe_id) DO NOTHING
            RETURNING events.seq, events.id, events.source, events.size),
          per AS (
            SELECT t.source, count(*) AS n, (SELECT count(*) FROM ins WHERE ins.source = t.source) AS accepted
            FROM t GROUP BY t.source),
          counted AS (
            INSERT INTO counters AS c (source, outcome, n)
            SELECT per.source, 'accepted', per.accepted FROM per WHERE per.accepted > 0
            UNION ALL SELECT per.source, 'duplicate', per.n - per.accepted FROM per WHERE per.n > per.accepted
            ON CONFLICT (source, outcome) DO UPDATE SET n = c.n + excluded.n)
     SELECT array_agg(ins.seq ORDER BY ins.seq), array_agg(ins.id ORDER BY ins.seq), count(*), coalesce(sum(ins.size), 0)
       INTO seqs, added, n, b FROM ins;
     IF n > 0 THEN
       UPDATE totals SET events = events + n, bytes = bytes + b,
         latest_seq = greatest(latest_seq, seqs[cardinality(seqs)]);
       -- A lock on what retention drops (a person's on the oldest event) is waited for 50 ms at
       -- most, and the drop left to the next write or run: the delivery is stored all the same.
       BEGIN
         PERFORM waiter_lock_wait_left(wait, deadline, INTERVAL '50 ms');
         gone := waiter_retain(received[cardinality(received)], max_events, max_bytes, max_age_ms);
       EXCEPTION WHEN lock_not_available THEN
         gone := NULL;
       END;
       -- The commit waits for PostgreSQL's lock on notifications, which every commit that notifies
       -- in the cluster takes in turn: it is left the rest of the lock wait, not retention's 50 ms.
       PERFORM waiter_lock_wait_left(wait, deadline);
       PERFORM pg_notify(channel, seqs[cardinality(seqs)]::text);
     END IF;
     RETURN QUERY SELECT unnest(seqs), unnest(added), gone;
   END $$;`,
  // 24: the deliveries retention dropped by their events' ids, so that an event id is told exactly
  // whether its event was dropped: they are a year's drops, however few events retention keeps.
  `CREATE INDEX dropped_deliveries_id ON dropped_deliveries (id);`,
  // 25: the newest event each MCP session's client was told of: a replica that takes the session up
  // tells it of those stored since, whatever the clocks that stamped them said.
  `ALTER TABLE mcp_sessions ADD COLUMN heard_seq BIGINT NOT NULL DEFAULT 0;`,
  // 26: the events and dropped deliveries a reused delivery id names, keyed on it and their bodies,
  // read by their keys in bytes' order (the database's collation may order them otherwise), not by
  // reading every event and drop of the id's source.
  `CREATE INDEX events_reused_keys ON events (source, dedupe_id COLLATE "C") WHERE ${REUSED_KEY};
   CREATE INDEX dropped_deliveries_reused_keys ON dropped_deliveries (source, dedupe_id COLLATE "C") WHERE ${REUSED_KEY};`,
  // 27: the SHA-256 of a dropped event's body, kept with its delivery: a delivery its sender sent
  // under the same id with another body is another delivery, not the dropped one's repeat. Those
  // dropped before have none. Under the same name and arguments, which an older replica's
  // deliveries and retention call too: their drops keep it as well.
  `ALTER TABLE dropped_deliveries ADD COLUMN digest BYTEA;
   CREATE OR REPLACE FUNCTION waiter_drop(up_to BIGINT, now_ms BIGINT, why TEXT) RETURNS JSONB LANGUAGE plpgsql AS $$
   DECLARE n BIGINT; u BIGINT; b BIGINT; last BIGINT;
   BEGIN
     WITH locked AS (SELECT seq FROM events WHERE seq <= up_to ORDER BY seq FOR UPDATE),
          gone AS (DELETE FROM events WHERE seq IN (SELECT seq FROM locked)
            RETURNING seq, source, dedupe_id, id, size, acked_at, sha256(body) AS digest),
          remembered AS (
            INSERT INTO dropped_deliveries (source, dedupe_id, id, dropped_at, digest)
            SELECT source, dedupe_id, id, now_ms, digest FROM gone ON CONFLICT DO NOTHING)
     SELECT count(*), count(*) FILTER (WHERE acked_at IS NULL), coalesce(sum(size), 0), coalesce(max(seq), 0)
       INTO n, u, b, last FROM gone;
     UPDATE totals SET events = events - n, bytes = bytes - b,
       dropped_age = dropped_age + CASE WHEN why = 'age' THEN n ELSE 0 END,
       dropped_count = dropped_count + CASE WHEN why = 'count' THEN n ELSE 0 END,
       dropped_bytes = dropped_bytes + CASE WHEN why = 'bytes' THEN n ELSE 0 END,
       dropped_through = greatest(dropped_through, last);
     RETURN jsonb_build_object(why, jsonb_build_object('events', n, 'unacked', u));
   END $$;`,
  // 28: the digest kept only for the events of a scheme whose ids may come back with another body
  // (an hmac-sha256 or none source's idHeader), as on SQLite: the listener compares no other's, and
  // hashing every dropped body held the rows deliveries wait on longer.
  `CREATE OR REPLACE FUNCTION waiter_drop(up_to BIGINT, now_ms BIGINT, why TEXT) RETURNS JSONB LANGUAGE plpgsql AS $$
   DECLARE n BIGINT; u BIGINT; b BIGINT; last BIGINT;
   BEGIN
     WITH locked AS (SELECT seq FROM events WHERE seq <= up_to ORDER BY seq FOR UPDATE),
          gone AS (DELETE FROM events WHERE seq IN (SELECT seq FROM locked)
            RETURNING seq, source, dedupe_id, id, size, acked_at,
              CASE WHEN scheme IN ('hmac-sha256', 'none') THEN sha256(body) END AS digest),
          remembered AS (
            INSERT INTO dropped_deliveries (source, dedupe_id, id, dropped_at, digest)
            SELECT source, dedupe_id, id, now_ms, digest FROM gone ON CONFLICT DO NOTHING)
     SELECT count(*), count(*) FILTER (WHERE acked_at IS NULL), coalesce(sum(size), 0), coalesce(max(seq), 0)
       INTO n, u, b, last FROM gone;
     UPDATE totals SET events = events - n, bytes = bytes - b,
       dropped_age = dropped_age + CASE WHEN why = 'age' THEN n ELSE 0 END,
       dropped_count = dropped_count + CASE WHEN why = 'count' THEN n ELSE 0 END,
       dropped_bytes = dropped_bytes + CASE WHEN why = 'bytes' THEN n ELSE 0 END,
       dropped_through = greatest(dropped_through, last);
     RETURN jsonb_build_object(why, jsonb_build_object('events', n, 'unacked', u));
   END $$;`,
  // 29: the waits an upstream asked for (a 429's retry-after), by the caller's key: no replica calls
  // during a wait another was told of.
  `CREATE TABLE upstream_waits (key TEXT PRIMARY KEY, at BIGINT NOT NULL, until BIGINT NOT NULL);`,
];

/** Any number, the same in every waiter: replicas starting at once take turns on it. */
const MIGRATION_LOCK = 0x77616974; // "wait"

/**
 * How long an upgrade's statement waits for a lock on a table before the upgrade gives up. While
 * it waits, every other statement on that table waits behind it: the replicas still running
 * would stop storing deliveries for as long as a backup holds the table.
 */
export const UPGRADE_LOCK_WAIT_MS = 2_000;

/**
 * How long the wait for the turn to upgrade, and an upgrade's step, may take on the client's side:
 * as long as they need (a day), not the 15 s the driver gives every other query of waiter's, after
 * which an index built on a full store, and every replica waiting for it, would fail their start.
 */
const UPGRADE_QUERY_MS = 24 * 60 * 60 * 1000;

/** A statement of the upgrade, without the driver's query timeout (UPGRADE_QUERY_MS). */
const patient = (text: string, values?: unknown[]) =>
  ({ text, values, query_timeout: UPGRADE_QUERY_MS }) as QueryConfig;

/** The schema waiter's tables are in (none when no schema the search path names exists), and who asks. */
interface Where {
  schema: string | null;
  path: string;
  user: string;
  set_up: boolean;
}

/** The schema version of the tables in the connection's search path: 0 where there are none. */
async function schemaVersion(client: ClientBase): Promise<number> {
  const { rows } = await client.query<{ set_up: boolean }>(
    "SELECT EXISTS (SELECT 1 FROM pg_tables WHERE schemaname = current_schema() AND tablename = 'waiter_schema') AS set_up",
  );
  if (!rows[0]?.set_up) return 0;
  return (await client.query<{ version: number }>("SELECT version FROM waiter_schema")).rows[0]?.version ?? 0;
}

/** A name as SQL must spell it: quoted only when it must be. */
export function sqlName(name: string): string {
  return /^[a-z_][a-z0-9_]*$/.test(name) ? name : `"${name.replaceAll('"', '""')}"`;
}

/**
 * Brings the schema in the connection's search path up to `upTo` steps (all of them by
 * default), under an advisory lock, so replicas that start at once do not race: the second
 * waits, then finds nothing left to do. Refuses a database a newer waiter has set up. A store
 * already up to date needs no right to create: a user that may only read and write the tables
 * opens it. `urlFrom`: where the database URL was given, as a message names it; `lockWaitMs`: how
 * long a step waits for a lock on a table before the upgrade gives up; `turnWaitMs`: how long the
 * turn is waited for while another session holds it (`UpgradeUnderWay` after), for as long as it
 * takes unless given.
 */
export async function migrate(
  client: ClientBase,
  upTo = MIGRATIONS.length,
  urlFrom: string = databaseSettings.url.env,
  lockWaitMs = UPGRADE_LOCK_WAIT_MS,
  turnWaitMs?: number,
): Promise<Upgraded | undefined> {
  // Tables up to date, as at most starts, need no turn: the lock is not waited for, which a session
  // may hold that is gone unseen (a machine that died, a pooler in transaction mode that gave the
  // server connection that took it to another client).
  const before = await schemaVersion(client);
  if (before > MIGRATIONS.length) throw new NewerStore(before, MIGRATIONS.length);
  if (before >= upTo) return undefined;
  await takeTurn(client, before, turnWaitMs);
  let upgraded: Upgraded | undefined;
  try {
    upgraded = await upgradeLocked(client, upTo, urlFrom, lockWaitMs);
  } catch (err) {
    // An upgrade that failed with its connection (lost, or ended by the server) fails the unlock
    // too: the upgrade's own error says what happened, and the unlock's goes to the log.
    await letGoOfLock(client, urlFrom).catch((unlockErr: unknown) =>
      process.emitWarning(
        `letting go of waiter's upgrade lock (the advisory lock ${MIGRATION_LOCK}) failed after the upgrade had failed (${unlockErr instanceof Error ? unlockErr.message : unlockErr}): the server lets go of it as the connection ends`,
      ),
    );
    throw err;
  }
  await letGoOfLock(client, urlFrom);
  return upgraded;
}

/** Another session held the upgrade lock past the turn's wait: most often another waiter upgrading the tables. */
export class UpgradeUnderWay extends Error {}

/**
 * Takes the upgrade lock, saying first who holds it when another session does: the wait lasts as
 * long as that session keeps it, which a start would otherwise spend without a word, whether
 * another waiter is building an index on a full store or a session that will never let go holds
 * it (a pooler's server connection, a machine gone). With `waitMs`, waits that long at most and
 * throws `UpgradeUnderWay`, saying who held it. `before`: the schema the tables are in, 0 for none.
 */
async function takeTurn(client: ClientBase, before: number, waitMs?: number): Promise<void> {
  const { rows } = await client.query<{ taken: boolean }>("SELECT pg_try_advisory_lock($1) AS taken", [MIGRATION_LOCK]);
  if (!rows[0]?.taken) {
    const doing = before === 0 ? "set up" : "upgrade";
    if (waitMs === undefined) {
      const { who, end } = await upgradeLockHolder(client);
      process.emitWarning(
        `waiting for its turn to ${doing} waiter's tables: ${who} holds waiter's upgrade lock (the advisory lock ${MIGRATION_LOCK}), as another waiter does while it sets up or upgrades them, which may take minutes on a full store; this one goes on once it lets go. A session that holds it and is no waiter's start (pg_stat_activity shows it idle, or a pooler's) keeps every waiter that must upgrade waiting: ${end}`,
      );
    }
    // lock_timeout counts an advisory lock's wait too: 0 waits for as long as it takes.
    await client.query(`SET lock_timeout = ${waitMs === undefined ? 0 : Math.max(1, Math.round(waitMs))}`);
    try {
      await client.query(patient("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK]));
    } catch (err) {
      if (waitMs === undefined || (err as { code?: string }).code !== "55P03") throw err;
      const { who, end } = await upgradeLockHolder(client);
      const tables = before === 0 ? "its tables" : `its tables (schema ${before}, which an older waiter made)`;
      throw new UpgradeUnderWay(
        `${who} held waiter's upgrade lock (the advisory lock ${MIGRATION_LOCK}) past ${waitMs / 1000} s as waiter went to ${doing} ${tables}: most often another waiter ${before === 0 ? "setting them up" : "upgrading them, which takes a while on a full store"}: this one tries again meanwhile, and turns its events on once that ${before === 0 ? "is" : "upgrade is"} done; else a session that is no waiter's start holds it (pg_stat_activity shows it idle, or a pooler's): ${end}`,
      );
    }
  }
  // Once the turn is taken, the upgrade's statements wait for locks as long as they need, but
  // its steps (UPGRADE_LOCK_WAIT_MS).
  await client.query("SET lock_timeout = 0");
}

/** Who holds the upgrade lock, as the log names them, and how to end their session. */
async function upgradeLockHolder(client: ClientBase): Promise<{ who: string; end: string }> {
  // A lock on one bigint key: its high half in classid, its low half in objid, and objsubid 1.
  const { rows: holders } = await client.query<{ pid: number; app: string | null; addr: string | null }>(
    `SELECT l.pid, a.application_name AS app, host(a.client_addr) AS addr
     FROM pg_locks l LEFT JOIN pg_stat_activity a USING (pid)
     WHERE l.locktype = 'advisory' AND l.granted AND l.classid = 0 AND l.objid = $1 AND l.objsubid = 1
       AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
    [MIGRATION_LOCK],
  );
  const holder = holders[0];
  const about = holder
    ? [holder.app ? `application_name ${holder.app}` : undefined, holder.addr ? `from ${holder.addr}` : undefined]
        .filter((part) => part !== undefined)
        .join(", ")
    : "";
  const who = holder ? `the session of server process ${holder.pid}${about ? ` (${about})` : ""}` : "another session";
  const end = holder ? `end it (SELECT pg_terminate_backend(${holder.pid}))` : "end it (pg_terminate_backend)";
  return { who, end };
}

/** The upgrade itself, with the lock held: the tables brought to `upTo`, or undefined when they are. */
async function upgradeLocked(
  client: ClientBase,
  upTo: number,
  urlFrom: string,
  lockWaitMs: number,
): Promise<Upgraded | undefined> {
  // PostgreSQL checks the right to create before it looks whether the table exists.
  const { rows } = await client.query<Where>(
    `SELECT current_schema() AS schema, current_setting('search_path') AS path, current_user AS "user",
       EXISTS (SELECT 1 FROM pg_tables WHERE schemaname = current_schema() AND tablename = 'waiter_schema') AS set_up`,
  );
  const { schema, path, user, set_up: setUp } = rows[0] as Where;
  // The search path's first schema, as PostgreSQL names it: "$user" is the user's own. It is
  // skipped both when it does not exist and when the user may not use it. Unquoted, PostgreSQL
  // reads it in lower case (ASCII's letters), whatever it holds up to a comma or a blank
  // (search_path=Waiter-Events finds "waiter-events"), which SQL may need quoted.
  const written = (path.split(",")[0] ?? "").trim();
  const name =
    written === '"$user"'
      ? user
      : written.startsWith('"')
        ? written.slice(1, -1).replaceAll('""', '"')
        : written.replace(/[A-Z]/g, (c) => c.toLowerCase());
  const first = sqlName(name);
  if (schema === null) {
    const { rows: found } = await client.query("SELECT 1 FROM pg_namespace WHERE nspname = $1", [name]);
    throw new Error(
      found.length > 0
        ? `${sqlName(user)} may not use schema ${first}, the first the search path names (${path}): grant it (GRANT USAGE ON SCHEMA ${first} TO ${sqlName(user)}), with the rights on waiter's tables there`
        : `no schema the search path names (${path}) exists, so waiter's tables have nowhere to go: create it first (CREATE SCHEMA ${first} AUTHORIZATION ${sqlName(user)}), or name one that exists in ${urlFrom} (?options=-c%20search_path%3D…)`,
    );
  }
  const version = setUp
    ? ((await client.query<{ version: number }>("SELECT version FROM waiter_schema")).rows[0]?.version ?? 0)
    : 0;
  if (version > MIGRATIONS.length) throw new NewerStore(version, MIGRATIONS.length);
  if (version >= upTo) return undefined;
  // The schema the steps committed so far brought the tables to, each step in its own transaction.
  let reached = version;
  try {
    if (!setUp) {
      await client.query(
        "CREATE TABLE waiter_schema (one INTEGER PRIMARY KEY CHECK (one = 1), version INTEGER NOT NULL)",
      );
    }
    for (let step = version; step < upTo; step++) {
      reached = step;
      await client.query("BEGIN");
      try {
        await client.query(`SET LOCAL lock_timeout = ${Math.round(lockWaitMs)}`);
        await client.query(patient(MIGRATIONS[step] as string));
        await client.query(
          "INSERT INTO waiter_schema (one, version) VALUES (1, $1) ON CONFLICT (one) DO UPDATE SET version = excluded.version",
          [step + 1],
        );
        await client.query("COMMIT");
      } catch (err) {
        // On a connection lost, the ROLLBACK fails too, and the server rolls back as the session ends.
        await client.query("ROLLBACK").catch(() => {});
        throw err;
      }
    }
    return { from: version, to: upTo };
  } catch (err) {
    const { code, message } = err as { code?: string; message?: string };
    if (code === "55P03") {
      throw new Error(
        `${message} (PostgreSQL 55P03): upgrading waiter's tables waits for a lock another session holds on them, most often a backup (pg_dump holds one on every table until it ends) or a long transaction; waiter gave up after ${lockWaitMs / 1000} s rather than hold up the writes of the replicas still running, and ${reached > version ? `took the tables from schema ${version} to ${reached} only (a waiter older than this one refuses them from now on)` : "changed nothing"}: start it again once that session ends`,
      );
    }
    if (code !== "42501") throw err;
    const [where, who] = [sqlName(schema), sqlName(user)];
    const upgrading = version > 0;
    // A schema the search path names for waiter is made the user's own, where setting up; an
    // upgrade needs the tables' owner besides, which owning the schema does not make the user.
    const namedForWaiter = where === first && where !== "public";
    const owned = !namedForWaiter
      ? await schemaOfItsOwn(client, who, urlFrom)
      : upgrading
        ? ""
        : `, or make ${who} its owner (ALTER SCHEMA ${where} OWNER TO ${who})`;
    throw new Error(
      `${message} (PostgreSQL 42501): ${upgrading ? "upgrading" : "setting up"} waiter's tables in schema ${where} needs a user that may create there${upgrading ? " and owns them: start this waiter once as their owner, or" : ":"} grant ${who} CREATE on the schema (GRANT CREATE ON SCHEMA ${where} TO ${who})${owned}`,
    );
  }
}

/**
 * The schema of waiter's own that a refusal to create offers `who`, where the one the search path
 * found was not named for waiter (public, after a "$user" that does not exist): one to create, or,
 * where a schema named waiter exists, which CREATE SCHEMA would refuse, that one, made `who`'s
 * unless `who` may create in it already.
 */
async function schemaOfItsOwn(client: ClientBase, who: string, urlFrom: string): Promise<string> {
  const inUrl = `?options=-c%20search_path%3Dwaiter in ${urlFrom}`;
  const { rows } = await client.query<{ may_create: boolean }>(
    "SELECT has_schema_privilege(oid, 'CREATE') AS may_create FROM pg_namespace WHERE nspname = 'waiter'",
  );
  const found = rows[0];
  if (!found) return `, or give waiter a schema ${who} owns (CREATE SCHEMA waiter AUTHORIZATION ${who}, and ${inUrl})`;
  if (found.may_create) return `, or give waiter the schema waiter, where ${who} may create (${inUrl})`;
  return `, or give waiter the schema waiter, made ${who}'s (ALTER SCHEMA waiter OWNER TO ${who}, and ${inUrl})`;
}

/**
 * Lets go of the upgrade lock, and says when the connection did not hold it: through a pooler in
 * transaction mode, the lock was taken on a server connection that the pooler gave to another
 * client since, and it stays held there, unseen, until that one closes.
 */
async function letGoOfLock(client: ClientBase, urlFrom: string): Promise<void> {
  const { rows } = await client.query<{ unlocked: boolean }>("SELECT pg_advisory_unlock($1) AS unlocked", [
    MIGRATION_LOCK,
  ]);
  if (rows[0]?.unlocked === false) {
    process.emitWarning(
      `waiter's upgrade lock (the advisory lock ${MIGRATION_LOCK}, which one waiter holds while it upgrades the tables) was not held by the connection that let go of it, so it stays held by another until that one closes, and each waiter that starts meanwhile and must upgrade waits for it: ${throughTransactionPooler("ran the lock on another server connection", urlFrom)}`,
    );
  }
}
