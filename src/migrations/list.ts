import { sealChains } from "../events/chain.ts"
import { canonicalPath } from "../storage/DatabaseLocation.ts"
import { irreversible, type Migration } from "./Migration.ts"

/**
 * grove's schema, one step per version. Never edit a step that has shipped:
 * the runner refuses a database whose recorded checksum differs. Add a step.
 */
export const migrations: ReadonlyArray<Migration> = [
  {
    version: 1,
    name: "event log and projections",
    up: `
      CREATE TABLE streams (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE
      );
      -- The git context of one write transaction, persisted once however many events it appends.
      CREATE TABLE transactions (
        id INTEGER PRIMARY KEY,
        stream_id INTEGER NOT NULL,
        worktree TEXT NOT NULL,
        head TEXT,
        actor TEXT NOT NULL,
        committed_at INTEGER NOT NULL
      );
      CREATE TABLE events (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        tx_id INTEGER NOT NULL,
        stream_id INTEGER NOT NULL,
        clock INTEGER NOT NULL,
        entity_kind TEXT NOT NULL,
        entity_id TEXT NOT NULL,
        op TEXT NOT NULL,
        payload TEXT NOT NULL,
        payload_version INTEGER NOT NULL,
        cause_id TEXT
      );
      CREATE INDEX events_by_stream ON events (stream_id, seq);
      CREATE INDEX events_by_entity ON events (entity_id, seq);
      CREATE TRIGGER events_no_update BEFORE UPDATE ON events
        BEGIN SELECT RAISE(ABORT, 'grove events are append-only'); END;
      CREATE TRIGGER events_no_delete BEFORE DELETE ON events
        BEGIN SELECT RAISE(ABORT, 'grove events are append-only'); END;
      -- The hybrid logical clock's last stamp, advanced under the write lock.
      CREATE TABLE hlc (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        last INTEGER NOT NULL
      );
      INSERT INTO hlc (id, last) VALUES (1, 0);

      CREATE TABLE epics (
        id TEXT PRIMARY KEY,
        title TEXT NOT NULL,
        description TEXT NOT NULL,
        status TEXT NOT NULL,
        version INTEGER NOT NULL,
        created_clock INTEGER NOT NULL,
        updated_clock INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX epics_by_created ON epics (created_clock);
      CREATE TABLE tasks (
        id TEXT PRIMARY KEY,
        epic_id TEXT NOT NULL,
        title TEXT NOT NULL,
        description TEXT NOT NULL,
        status TEXT NOT NULL,
        owner TEXT,
        version INTEGER NOT NULL,
        created_clock INTEGER NOT NULL,
        updated_clock INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX tasks_by_epic ON tasks (epic_id, created_clock);
      CREATE INDEX tasks_by_created ON tasks (created_clock);
      CREATE TABLE subtasks (
        id TEXT PRIMARY KEY,
        task_id TEXT NOT NULL,
        title TEXT NOT NULL,
        description TEXT NOT NULL,
        status TEXT NOT NULL,
        owner TEXT,
        version INTEGER NOT NULL,
        created_clock INTEGER NOT NULL,
        updated_clock INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX subtasks_by_task ON subtasks (task_id, created_clock);
      CREATE TABLE dependencies (
        source_kind TEXT NOT NULL,
        source_id TEXT NOT NULL,
        target_kind TEXT NOT NULL,
        target_id TEXT NOT NULL,
        created_clock INTEGER NOT NULL,
        PRIMARY KEY (source_kind, source_id, target_kind, target_id)
      ) WITHOUT ROWID;
      CREATE INDEX dependencies_by_target ON dependencies (target_kind, target_id, source_kind, source_id);
    `,
    down: `
      DROP TABLE dependencies;
      DROP TABLE subtasks;
      DROP TABLE tasks;
      DROP TABLE epics;
      DROP TABLE hlc;
      DROP TABLE events;
      DROP TABLE transactions;
      DROP TABLE streams;
    `
  },
  {
    version: 2,
    name: "sync: causal context, knowledge, heads and conflicts",
    up: `
      -- The frontier the event's stream had when it was written, and whether it was written with --if-version.
      ALTER TABLE events ADD COLUMN frontier_id INTEGER;
      ALTER TABLE events ADD COLUMN if_version INTEGER NOT NULL DEFAULT 0;
      -- Version vectors {streamId: highest known seq}, stored once each: they change only at pulls.
      CREATE TABLE frontiers (
        id INTEGER PRIMARY KEY,
        vector TEXT NOT NULL
      );
      CREATE TABLE stream_knowledge (
        stream_id INTEGER PRIMARY KEY,
        frontier_id INTEGER NOT NULL
      );
      -- Per stream, the causally maximal writes it knows of each field it has seen written.
      CREATE TABLE heads (
        stream_id INTEGER NOT NULL,
        entity_id TEXT NOT NULL,
        field TEXT NOT NULL,
        event_seq INTEGER NOT NULL,
        PRIMARY KEY (stream_id, entity_id, field, event_seq)
      ) WITHOUT ROWID;
      -- Per stream and field, the newest known --if-version write: every older write to the field is in its past.
      CREATE TABLE if_version_floors (
        stream_id INTEGER NOT NULL,
        entity_id TEXT NOT NULL,
        field TEXT NOT NULL,
        seq INTEGER NOT NULL,
        PRIMARY KEY (stream_id, entity_id, field)
      ) WITHOUT ROWID;
      CREATE TABLE conflicts (
        id INTEGER PRIMARY KEY,
        worktree TEXT NOT NULL,
        stream_id INTEGER NOT NULL,
        entity_kind TEXT NOT NULL,
        entity_id TEXT NOT NULL,
        field TEXT NOT NULL,
        base TEXT,
        base_seq INTEGER,
        ours TEXT NOT NULL,
        ours_seq INTEGER NOT NULL,
        theirs TEXT NOT NULL,
        theirs_seq INTEGER NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('pending', 'settled')),
        settled_seq INTEGER,
        created_at INTEGER NOT NULL,
        settled_at INTEGER
      );
      CREATE UNIQUE INDEX conflicts_pending ON conflicts (stream_id, entity_id, field) WHERE status = 'pending';
      CREATE INDEX conflicts_by_scope ON conflicts (worktree, stream_id, status);
      -- Events a pull could not use, with the reason; the raw event stays in the log.
      CREATE TABLE quarantine (
        event_seq INTEGER PRIMARY KEY,
        reason TEXT NOT NULL,
        detail TEXT NOT NULL,
        quarantined_at INTEGER NOT NULL
      );
    `,
    // Dropping the causal context from the append-only log would lose it for good: later pulls would miss
    // real conflicts. Restore a backup instead.
    down: irreversible
  },
  {
    version: 3,
    name: "replicas: stream identity and portable positions across clones",
    up: `
      -- This database's replica id (row 1), and the replicas it has imported events from.
      CREATE TABLE replicas (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE
      );
      INSERT INTO replicas (id, name) VALUES (1, lower(hex(randomblob(8))));
      -- A stream is a branch of one replica. name stays unique: the branch for this replica's streams,
      -- branch@replica for imported ones.
      ALTER TABLE streams ADD COLUMN replica_id INTEGER NOT NULL DEFAULT 1;
      ALTER TABLE streams ADD COLUMN branch TEXT;
      UPDATE streams SET branch = name;
      CREATE UNIQUE INDEX streams_by_replica ON streams (replica_id, branch);
      -- pos: the event's place in its stream (1, 2, ...), the same in every replica.
      -- seen_frontier_id: for an imported --if-version write, what its writer's database held (rule (d)).
      ALTER TABLE events ADD COLUMN pos INTEGER;
      ALTER TABLE events ADD COLUMN seen_frontier_id INTEGER;
      DROP TRIGGER events_no_update;
      UPDATE events SET pos = numbered.pos
        FROM (SELECT seq, row_number() OVER (PARTITION BY stream_id ORDER BY seq) AS pos FROM events) AS numbered
        WHERE numbered.seq = events.seq;
      CREATE TRIGGER events_no_update BEFORE UPDATE ON events
        BEGIN SELECT RAISE(ABORT, 'grove events are append-only'); END;
      CREATE UNIQUE INDEX events_by_stream_pos ON events (stream_id, pos);
      -- Imported events can be older than local ones: replay and restores order by clock, ties by id.
      CREATE INDEX events_by_clock ON events (clock, id);
      -- The union of the seen sets of imported --if-version writes, beside the local bound in seq.
      ALTER TABLE if_version_floors ADD COLUMN frontier_id INTEGER;
      -- Per remote and grove ref: the newest commit verified, so a rewrite of what was imported is refused.
      CREATE TABLE remote_refs (
        remote TEXT NOT NULL,
        ref TEXT NOT NULL,
        tip TEXT NOT NULL,
        PRIMARY KEY (remote, ref)
      ) WITHOUT ROWID;
      -- Bundles and refs a fetch refused, with the code and reason.
      CREATE TABLE remote_quarantine (
        id INTEGER PRIMARY KEY,
        remote TEXT NOT NULL,
        ref TEXT NOT NULL,
        tip TEXT NOT NULL,
        bundle TEXT,
        code TEXT NOT NULL,
        detail TEXT NOT NULL,
        quarantined_at INTEGER NOT NULL,
        UNIQUE (remote, ref, tip, code)
      );
    `,
    // The replica id is this database's identity on every remote it pushed to: a new one after a down and
    // up would republish the same events under another name. Restore a backup instead.
    down: irreversible
  },
  {
    version: 4,
    name: "the agent's loop: leases, notes, plan keys, full-text search",
    up: `
      -- A claim's lease: the claim can be taken over once expires_at (wall ms) has passed.
      CREATE TABLE leases (
        entity_id TEXT PRIMARY KEY,
        owner TEXT NOT NULL,
        lease_ms INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
      ) WITHOUT ROWID;
      -- Append-only notes on tasks and subtasks; id is the note's event id (its provenance).
      CREATE TABLE notes (
        id TEXT PRIMARY KEY,
        entity_kind TEXT NOT NULL,
        entity_id TEXT NOT NULL,
        author TEXT NOT NULL,
        text TEXT NOT NULL,
        clock INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX notes_by_entity ON notes (entity_id, clock);
      -- The temporary keys of applied plans and the entities they created.
      CREATE TABLE plan_keys (
        plan TEXT NOT NULL,
        key TEXT NOT NULL,
        entity_kind TEXT NOT NULL,
        entity_id TEXT NOT NULL,
        PRIMARY KEY (plan, key)
      ) WITHOUT ROWID;
      -- grove session: each worktree's actors and last activity.
      CREATE INDEX transactions_by_worktree ON transactions (worktree, committed_at);
      -- What search matches: one row per epic, task and subtask (source '') and per note (source = note id),
      -- kept by triggers, so every projection path (writes, imports, resolutions, rebuild) keeps it.
      CREATE TABLE search_rows (
        entity_id TEXT NOT NULL,
        entity_kind TEXT NOT NULL,
        source TEXT NOT NULL,
        title TEXT NOT NULL,
        body TEXT NOT NULL,
        UNIQUE (entity_id, source)
      );
      -- The index reads its text from search_rows (external content) and keeps no positions (detail=none:
      -- searches are single-token prefix matches), which halves what the triggers cost a bulk insert.
      CREATE VIRTUAL TABLE search USING fts5(title, body, content = 'search_rows', content_rowid = 'rowid',
        detail = none, tokenize = 'unicode61 remove_diacritics 2');
      CREATE TRIGGER search_rows_insert AFTER INSERT ON search_rows BEGIN
        INSERT INTO search (rowid, title, body) VALUES (new.rowid, new.title, new.body);
      END;
      CREATE TRIGGER search_rows_update AFTER UPDATE ON search_rows BEGIN
        INSERT INTO search (search, rowid, title, body) VALUES ('delete', old.rowid, old.title, old.body);
        INSERT INTO search (rowid, title, body) VALUES (new.rowid, new.title, new.body);
      END;
      CREATE TRIGGER search_rows_delete AFTER DELETE ON search_rows BEGIN
        INSERT INTO search (search, rowid, title, body) VALUES ('delete', old.rowid, old.title, old.body);
      END;
      CREATE TRIGGER notes_search_insert AFTER INSERT ON notes BEGIN
        INSERT INTO search_rows (entity_id, entity_kind, source, title, body) VALUES (new.entity_id, new.entity_kind, new.id, '', new.text);
      END;
      CREATE TRIGGER notes_search_delete AFTER DELETE ON notes BEGIN
        DELETE FROM search_rows WHERE entity_id = old.entity_id AND source = old.id;
      END;
      CREATE TRIGGER epics_search_insert AFTER INSERT ON epics BEGIN
        INSERT INTO search_rows (entity_id, entity_kind, source, title, body) VALUES (new.id, 'epic', '', new.title, new.description);
      END;
      CREATE TRIGGER epics_search_update AFTER UPDATE OF title, description ON epics BEGIN
        UPDATE search_rows SET title = new.title, body = new.description WHERE entity_id = new.id AND source = '';
      END;
      CREATE TRIGGER epics_search_delete AFTER DELETE ON epics BEGIN
        DELETE FROM search_rows WHERE entity_id = old.id AND source = '';
      END;
      INSERT INTO search_rows (entity_id, entity_kind, source, title, body) SELECT id, 'epic', '', title, description FROM epics;
      CREATE TRIGGER tasks_search_insert AFTER INSERT ON tasks BEGIN
        INSERT INTO search_rows (entity_id, entity_kind, source, title, body) VALUES (new.id, 'task', '', new.title, new.description);
      END;
      CREATE TRIGGER tasks_search_update AFTER UPDATE OF title, description ON tasks BEGIN
        UPDATE search_rows SET title = new.title, body = new.description WHERE entity_id = new.id AND source = '';
      END;
      CREATE TRIGGER tasks_search_delete AFTER DELETE ON tasks BEGIN
        DELETE FROM search_rows WHERE entity_id = old.id AND source = '';
      END;
      INSERT INTO search_rows (entity_id, entity_kind, source, title, body) SELECT id, 'task', '', title, description FROM tasks;
      CREATE TRIGGER subtasks_search_insert AFTER INSERT ON subtasks BEGIN
        INSERT INTO search_rows (entity_id, entity_kind, source, title, body) VALUES (new.id, 'subtask', '', new.title, new.description);
      END;
      CREATE TRIGGER subtasks_search_update AFTER UPDATE OF title, description ON subtasks BEGIN
        UPDATE search_rows SET title = new.title, body = new.description WHERE entity_id = new.id AND source = '';
      END;
      CREATE TRIGGER subtasks_search_delete AFTER DELETE ON subtasks BEGIN
        DELETE FROM search_rows WHERE entity_id = old.id AND source = '';
      END;
      INSERT INTO search_rows (entity_id, entity_kind, source, title, body) SELECT id, 'subtask', '', title, description FROM subtasks;
    `,
    down: `
      DROP TRIGGER epics_search_insert;
      DROP TRIGGER epics_search_update;
      DROP TRIGGER epics_search_delete;
      DROP TRIGGER tasks_search_insert;
      DROP TRIGGER tasks_search_update;
      DROP TRIGGER tasks_search_delete;
      DROP TRIGGER subtasks_search_insert;
      DROP TRIGGER subtasks_search_update;
      DROP TRIGGER subtasks_search_delete;
      DROP TABLE search_rows;
      DROP TABLE search;
      DROP TABLE plan_keys;
      DROP TABLE notes;
      DROP TABLE leases;
      DROP INDEX transactions_by_worktree;
    `
  },
  {
    version: 5,
    name: "integrity: hash chain per stream (digests sealed in code), quarantine decisions",
    up: `
      -- sha256 over the event, its git context and the previous event of its stream (src/events/chain.ts).
      ALTER TABLE events ADD COLUMN digest TEXT;
      -- A quarantined ref the user chose to ignore at this tip (sync quarantine drop): fetch skips it silently
      -- until the ref moves.
      ALTER TABLE remote_quarantine ADD COLUMN dropped_at INTEGER;
      -- Where this database was created (its file path, written by the code step): a copy opens elsewhere, and
      -- grove doctor notices that it shares the original's replica id.
      CREATE TABLE database_home (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        path TEXT NOT NULL
      );
    `,
    upCode: (db) => {
      sealChains(db)
      db.query("INSERT INTO database_home (id, path) VALUES (1, ?)").run(canonicalPath(db.filename))
    },
    down: `
      DROP TABLE database_home;
      ALTER TABLE remote_quarantine DROP COLUMN dropped_at;
      ALTER TABLE events DROP COLUMN digest;
    `
  },
  {
    version: 6,
    name: "status indexes for paged lists",
    up: `
      -- Paged lists count their matches (meta.pagination.total) by status; task ready finds todo tasks.
      -- Without these, each is a scan of the whole table (EXPLAIN QUERY PLAN in benchmarks/reads.ts).
      CREATE INDEX tasks_by_status ON tasks (status, created_clock);
      CREATE INDEX subtasks_by_status ON subtasks (status, created_clock);
    `,
    down: `
      DROP INDEX tasks_by_status;
      DROP INDEX subtasks_by_status;
    `
  },
  {
    version: 7,
    name: "every side of a conflict record",
    up: `
      -- Every distinct value among the maximal writes, with the writes carrying it (docs/sync.md "Conflicts").
      -- Records made before it have two sides: ours and theirs.
      ALTER TABLE conflicts ADD COLUMN sides TEXT NOT NULL DEFAULT '[]';
      UPDATE conflicts SET sides = json_array(
        json_object('value', ours, 'events', json_array(ours_seq)),
        json_object('value', theirs, 'events', json_array(theirs_seq)));
    `,
    down: `
      ALTER TABLE conflicts DROP COLUMN sides;
    `
  },
  {
    version: 8,
    name: "signed bundles: this replica's key, pinned keys of other replicas, checkpoint signatures",
    up: `
      -- This database's ed25519 key pair (created by its first push): as secret as the database itself.
      CREATE TABLE signing_key (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        public_key TEXT NOT NULL,
        private_key TEXT NOT NULL,
        created_at INTEGER NOT NULL
      );
      -- Each other replica's public key, pinned the first time a fetch saw it sign (trust on first use).
      CREATE TABLE pinned_keys (
        replica TEXT PRIMARY KEY,
        public_key TEXT NOT NULL,
        remote TEXT NOT NULL,
        pinned_at INTEGER NOT NULL
      ) WITHOUT ROWID;
      -- A replica's signature of its stream's chain head at a position, kept so any clone can relay the stream.
      CREATE TABLE checkpoint_signatures (
        replica TEXT NOT NULL,
        branch TEXT NOT NULL,
        pos INTEGER NOT NULL,
        signature TEXT NOT NULL,
        PRIMARY KEY (replica, branch, pos)
      ) WITHOUT ROWID;
    `,
    // Dropping the key would make every clone that pinned it refuse this replica's next push.
    down: irreversible
  },
  {
    version: 9,
    name: "invariant conflicts: cycles and orphans found in the live state after a fetch or pull",
    up: `
      -- One record per violation (key) while pending, in the scope (worktree, stream) of the command that found it.
      CREATE TABLE invariant_conflicts (
        id INTEGER PRIMARY KEY,
        worktree TEXT NOT NULL,
        stream_id INTEGER NOT NULL,
        invariant TEXT NOT NULL,
        key TEXT NOT NULL,
        violation TEXT NOT NULL,
        behind TEXT NOT NULL,
        status TEXT NOT NULL,
        settled_seq INTEGER,
        created_at INTEGER NOT NULL,
        settled_at INTEGER
      );
      CREATE UNIQUE INDEX invariant_conflicts_pending ON invariant_conflicts (key) WHERE status = 'pending';
      CREATE INDEX invariant_conflicts_by_stream ON invariant_conflicts (stream_id, status);
      -- The tasks on the cycles of pending records: task ready and next never offer them.
      CREATE TABLE invariant_cycle_tasks (
        task_id TEXT NOT NULL,
        conflict_id INTEGER NOT NULL,
        PRIMARY KEY (task_id, conflict_id)
      ) WITHOUT ROWID;
    `,
    down: `
      DROP TABLE invariant_cycle_tasks;
      DROP TABLE invariant_conflicts;
    `
  }
,
  {
    version: 10,
    name: "dependency counts per task and subtask (unfinished dependencies, dependents), ready and waypoint indexes",
    up: `
      -- Per node: how many of its dependency edges lead to a node that is not done (or not live), and how many
      -- edges lead into it. task ready and next read them instead of every todo task's edges. Kept by the
      -- triggers below on every path that writes these tables (materializers, resolutions, reprojection); a
      -- rebuild loads the projection without them and counts once at the end (src/projections/EdgeCounts.ts),
      -- and verify compares the columns.
      ALTER TABLE tasks ADD COLUMN unfinished_deps INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE tasks ADD COLUMN dependents INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE subtasks ADD COLUMN unfinished_deps INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE subtasks ADD COLUMN dependents INTEGER NOT NULL DEFAULT 0;
      UPDATE tasks SET unfinished_deps = counted.n FROM (
        SELECT d.source_id AS id, count(*) AS n FROM dependencies d WHERE d.source_kind = 'task'
          AND coalesce((SELECT status FROM tasks WHERE d.target_kind = 'task' AND id = d.target_id),
                      (SELECT status FROM subtasks WHERE d.target_kind = 'subtask' AND id = d.target_id)) IS NOT 'done'
        GROUP BY d.source_id) AS counted
        WHERE tasks.id = counted.id;
      UPDATE tasks SET dependents = counted.n FROM (
        SELECT target_id AS id, count(*) AS n FROM dependencies WHERE target_kind = 'task' GROUP BY target_id) AS counted
        WHERE tasks.id = counted.id;
      UPDATE subtasks SET unfinished_deps = counted.n FROM (
        SELECT d.source_id AS id, count(*) AS n FROM dependencies d WHERE d.source_kind = 'subtask'
          AND coalesce((SELECT status FROM tasks WHERE d.target_kind = 'task' AND id = d.target_id),
                      (SELECT status FROM subtasks WHERE d.target_kind = 'subtask' AND id = d.target_id)) IS NOT 'done'
        GROUP BY d.source_id) AS counted
        WHERE subtasks.id = counted.id;
      UPDATE subtasks SET dependents = counted.n FROM (
        SELECT target_id AS id, count(*) AS n FROM dependencies WHERE target_kind = 'subtask' GROUP BY target_id) AS counted
        WHERE subtasks.id = counted.id;
      -- The ready tasks in the order task ready pages them: its page and its total read only these entries. The
      -- two constant leading columns make SQLite prefer it to tasks_by_status (grove runs no ANALYZE); owner,
      -- epic_id and dependents let next choose and rank its candidates from the index alone.
      CREATE INDEX tasks_ready ON tasks (status, unfinished_deps, created_clock, id, owner, epic_id, dependents)
        WHERE status = 'todo' AND unfinished_deps = 0;
      -- Waypoints: nodes that wait on something and have dependents, the only ones through which a ready task's
      -- dependents reach further (next's ranking, src/projections/Work.ts).
      CREATE INDEX tasks_waypoints ON tasks (id) WHERE dependents > 0 AND unfinished_deps > 0;
      CREATE INDEX subtasks_waypoints ON subtasks (id) WHERE dependents > 0 AND unfinished_deps > 0;
      -- An edge counts for its source while its target is not done, and for its target always.
      CREATE TRIGGER dependencies_unfinished_insert AFTER INSERT ON dependencies
        WHEN coalesce((SELECT status FROM tasks WHERE new.target_kind = 'task' AND id = new.target_id),
                      (SELECT status FROM subtasks WHERE new.target_kind = 'subtask' AND id = new.target_id)) IS NOT 'done' BEGIN
        UPDATE tasks SET unfinished_deps = unfinished_deps + 1 WHERE new.source_kind = 'task' AND id = new.source_id;
        UPDATE subtasks SET unfinished_deps = unfinished_deps + 1 WHERE new.source_kind = 'subtask' AND id = new.source_id;
      END;
      CREATE TRIGGER dependencies_dependents_insert AFTER INSERT ON dependencies BEGIN
        UPDATE tasks SET dependents = dependents + 1 WHERE new.target_kind = 'task' AND id = new.target_id;
        UPDATE subtasks SET dependents = dependents + 1 WHERE new.target_kind = 'subtask' AND id = new.target_id;
      END;
      CREATE TRIGGER dependencies_unfinished_delete AFTER DELETE ON dependencies
        WHEN coalesce((SELECT status FROM tasks WHERE old.target_kind = 'task' AND id = old.target_id),
                      (SELECT status FROM subtasks WHERE old.target_kind = 'subtask' AND id = old.target_id)) IS NOT 'done' BEGIN
        UPDATE tasks SET unfinished_deps = unfinished_deps - 1 WHERE old.source_kind = 'task' AND id = old.source_id;
        UPDATE subtasks SET unfinished_deps = unfinished_deps - 1 WHERE old.source_kind = 'subtask' AND id = old.source_id;
      END;
      CREATE TRIGGER dependencies_dependents_delete AFTER DELETE ON dependencies BEGIN
        UPDATE tasks SET dependents = dependents - 1 WHERE old.target_kind = 'task' AND id = old.target_id;
        UPDATE subtasks SET dependents = dependents - 1 WHERE old.target_kind = 'subtask' AND id = old.target_id;
      END;
      -- tasks: its own counts when it appears with edges already out of or into it (an import out of order, a
      -- restore), and one fewer unfinished for whatever else depends on it when it appears done (its own count,
      -- just made, already leaves out an edge to itself).
      CREATE TRIGGER tasks_counts_insert AFTER INSERT ON tasks
        WHEN new.status = 'done' OR EXISTS (SELECT 1 FROM dependencies WHERE source_kind = 'task' AND source_id = new.id)
          OR EXISTS (SELECT 1 FROM dependencies WHERE target_kind = 'task' AND target_id = new.id) BEGIN
        UPDATE tasks SET
          unfinished_deps = (SELECT count(*) FROM dependencies d WHERE d.source_kind = 'task' AND d.source_id = new.id
            AND coalesce((SELECT status FROM tasks WHERE d.target_kind = 'task' AND id = d.target_id),
                      (SELECT status FROM subtasks WHERE d.target_kind = 'subtask' AND id = d.target_id)) IS NOT 'done'),
          dependents = (SELECT count(*) FROM dependencies WHERE target_kind = 'task' AND target_id = new.id)
          WHERE id = new.id;
        UPDATE tasks SET unfinished_deps = unfinished_deps - 1 WHERE new.status = 'done'
          AND id IN (SELECT source_id FROM dependencies WHERE target_kind = 'task' AND target_id = new.id AND source_kind = 'task' AND source_id <> new.id);
        UPDATE subtasks SET unfinished_deps = unfinished_deps - 1 WHERE new.status = 'done'
          AND id IN (SELECT source_id FROM dependencies WHERE target_kind = 'task' AND target_id = new.id AND source_kind = 'subtask' AND source_id <> new.id);
      END;
      CREATE TRIGGER tasks_unfinished_status AFTER UPDATE OF status ON tasks
        WHEN (old.status = 'done') <> (new.status = 'done') BEGIN
        UPDATE tasks SET unfinished_deps = unfinished_deps + iif(new.status = 'done', -1, 1) WHERE id IN (SELECT source_id FROM dependencies WHERE target_kind = 'task' AND target_id = new.id AND source_kind = 'task');
        UPDATE subtasks SET unfinished_deps = unfinished_deps + iif(new.status = 'done', -1, 1) WHERE id IN (SELECT source_id FROM dependencies WHERE target_kind = 'task' AND target_id = new.id AND source_kind = 'subtask');
      END;
      CREATE TRIGGER tasks_unfinished_delete AFTER DELETE ON tasks WHEN old.status = 'done' BEGIN
        UPDATE tasks SET unfinished_deps = unfinished_deps + 1 WHERE id IN (SELECT source_id FROM dependencies WHERE target_kind = 'task' AND target_id = old.id AND source_kind = 'task');
        UPDATE subtasks SET unfinished_deps = unfinished_deps + 1 WHERE id IN (SELECT source_id FROM dependencies WHERE target_kind = 'task' AND target_id = old.id AND source_kind = 'subtask');
      END;
      -- subtasks: its own counts when it appears with edges already out of or into it (an import out of order, a
      -- restore), and one fewer unfinished for whatever else depends on it when it appears done (its own count,
      -- just made, already leaves out an edge to itself).
      CREATE TRIGGER subtasks_counts_insert AFTER INSERT ON subtasks
        WHEN new.status = 'done' OR EXISTS (SELECT 1 FROM dependencies WHERE source_kind = 'subtask' AND source_id = new.id)
          OR EXISTS (SELECT 1 FROM dependencies WHERE target_kind = 'subtask' AND target_id = new.id) BEGIN
        UPDATE subtasks SET
          unfinished_deps = (SELECT count(*) FROM dependencies d WHERE d.source_kind = 'subtask' AND d.source_id = new.id
            AND coalesce((SELECT status FROM tasks WHERE d.target_kind = 'task' AND id = d.target_id),
                      (SELECT status FROM subtasks WHERE d.target_kind = 'subtask' AND id = d.target_id)) IS NOT 'done'),
          dependents = (SELECT count(*) FROM dependencies WHERE target_kind = 'subtask' AND target_id = new.id)
          WHERE id = new.id;
        UPDATE tasks SET unfinished_deps = unfinished_deps - 1 WHERE new.status = 'done'
          AND id IN (SELECT source_id FROM dependencies WHERE target_kind = 'subtask' AND target_id = new.id AND source_kind = 'task' AND source_id <> new.id);
        UPDATE subtasks SET unfinished_deps = unfinished_deps - 1 WHERE new.status = 'done'
          AND id IN (SELECT source_id FROM dependencies WHERE target_kind = 'subtask' AND target_id = new.id AND source_kind = 'subtask' AND source_id <> new.id);
      END;
      CREATE TRIGGER subtasks_unfinished_status AFTER UPDATE OF status ON subtasks
        WHEN (old.status = 'done') <> (new.status = 'done') BEGIN
        UPDATE tasks SET unfinished_deps = unfinished_deps + iif(new.status = 'done', -1, 1) WHERE id IN (SELECT source_id FROM dependencies WHERE target_kind = 'subtask' AND target_id = new.id AND source_kind = 'task');
        UPDATE subtasks SET unfinished_deps = unfinished_deps + iif(new.status = 'done', -1, 1) WHERE id IN (SELECT source_id FROM dependencies WHERE target_kind = 'subtask' AND target_id = new.id AND source_kind = 'subtask');
      END;
      CREATE TRIGGER subtasks_unfinished_delete AFTER DELETE ON subtasks WHEN old.status = 'done' BEGIN
        UPDATE tasks SET unfinished_deps = unfinished_deps + 1 WHERE id IN (SELECT source_id FROM dependencies WHERE target_kind = 'subtask' AND target_id = old.id AND source_kind = 'task');
        UPDATE subtasks SET unfinished_deps = unfinished_deps + 1 WHERE id IN (SELECT source_id FROM dependencies WHERE target_kind = 'subtask' AND target_id = old.id AND source_kind = 'subtask');
      END;
    `,
    down: `
      DROP TRIGGER dependencies_unfinished_insert;
      DROP TRIGGER dependencies_dependents_insert;
      DROP TRIGGER dependencies_unfinished_delete;
      DROP TRIGGER dependencies_dependents_delete;
      DROP TRIGGER tasks_counts_insert;
      DROP TRIGGER tasks_unfinished_status;
      DROP TRIGGER tasks_unfinished_delete;
      DROP TRIGGER subtasks_counts_insert;
      DROP TRIGGER subtasks_unfinished_status;
      DROP TRIGGER subtasks_unfinished_delete;
      DROP INDEX tasks_ready;
      DROP INDEX tasks_waypoints;
      DROP INDEX subtasks_waypoints;
      ALTER TABLE subtasks DROP COLUMN dependents;
      ALTER TABLE subtasks DROP COLUMN unfinished_deps;
      ALTER TABLE tasks DROP COLUMN dependents;
      ALTER TABLE tasks DROP COLUMN unfinished_deps;
    `
  },
  {
    version: 11,
    name: "cascaded deletes by entity",
    up: `
      -- The events a delete's cascade wrote (cause_id set), by entity: a pull asks whether the log holds a cascaded
      -- delete of an entity whose creation arrives, and probes the stream's heads only then (causality/Learner.ts).
      -- Cascaded deletes are few, so the index is small.
      CREATE INDEX events_cascaded_by_entity ON events (entity_id) WHERE cause_id IS NOT NULL;
    `,
    down: `
      DROP INDEX events_cascaded_by_entity;
    `
  },
  {
    version: 12,
    name: "live rows per kind and status",
    up: `
      -- How many epics, tasks and subtasks are live in each status: a list's paging total reads these rows instead
      -- of counting a status index (at 60,000 tasks the count touched 550 index pages, 9 ms in a fresh process).
      -- Only statuses with live rows have one. Kept by the triggers below on every path that writes the three
      -- tables; a rebuild loads the projection without them and counts once at the end
      -- (src/projections/StatusCounts.ts), and verify compares the table.
      CREATE TABLE status_counts (
        kind TEXT NOT NULL,
        status TEXT NOT NULL,
        n INTEGER NOT NULL,
        PRIMARY KEY (kind, status)
      ) WITHOUT ROWID;
      INSERT INTO status_counts (kind, status, n)
        SELECT 'epic', status, count(*) FROM epics GROUP BY status
        UNION ALL SELECT 'task', status, count(*) FROM tasks GROUP BY status
        UNION ALL SELECT 'subtask', status, count(*) FROM subtasks GROUP BY status;
      CREATE TRIGGER epics_status_count_insert AFTER INSERT ON epics BEGIN
        INSERT INTO status_counts (kind, status, n) VALUES ('epic', new.status, 1) ON CONFLICT DO UPDATE SET n = n + 1;
      END;
      CREATE TRIGGER epics_status_count_update AFTER UPDATE OF status ON epics WHEN old.status IS NOT new.status BEGIN
        UPDATE status_counts SET n = n - 1 WHERE kind = 'epic' AND status = old.status;
        DELETE FROM status_counts WHERE kind = 'epic' AND status = old.status AND n = 0;
        INSERT INTO status_counts (kind, status, n) VALUES ('epic', new.status, 1) ON CONFLICT DO UPDATE SET n = n + 1;
      END;
      CREATE TRIGGER epics_status_count_delete AFTER DELETE ON epics BEGIN
        UPDATE status_counts SET n = n - 1 WHERE kind = 'epic' AND status = old.status;
        DELETE FROM status_counts WHERE kind = 'epic' AND status = old.status AND n = 0;
      END;
      CREATE TRIGGER tasks_status_count_insert AFTER INSERT ON tasks BEGIN
        INSERT INTO status_counts (kind, status, n) VALUES ('task', new.status, 1) ON CONFLICT DO UPDATE SET n = n + 1;
      END;
      CREATE TRIGGER tasks_status_count_update AFTER UPDATE OF status ON tasks WHEN old.status IS NOT new.status BEGIN
        UPDATE status_counts SET n = n - 1 WHERE kind = 'task' AND status = old.status;
        DELETE FROM status_counts WHERE kind = 'task' AND status = old.status AND n = 0;
        INSERT INTO status_counts (kind, status, n) VALUES ('task', new.status, 1) ON CONFLICT DO UPDATE SET n = n + 1;
      END;
      CREATE TRIGGER tasks_status_count_delete AFTER DELETE ON tasks BEGIN
        UPDATE status_counts SET n = n - 1 WHERE kind = 'task' AND status = old.status;
        DELETE FROM status_counts WHERE kind = 'task' AND status = old.status AND n = 0;
      END;
      CREATE TRIGGER subtasks_status_count_insert AFTER INSERT ON subtasks BEGIN
        INSERT INTO status_counts (kind, status, n) VALUES ('subtask', new.status, 1) ON CONFLICT DO UPDATE SET n = n + 1;
      END;
      CREATE TRIGGER subtasks_status_count_update AFTER UPDATE OF status ON subtasks WHEN old.status IS NOT new.status BEGIN
        UPDATE status_counts SET n = n - 1 WHERE kind = 'subtask' AND status = old.status;
        DELETE FROM status_counts WHERE kind = 'subtask' AND status = old.status AND n = 0;
        INSERT INTO status_counts (kind, status, n) VALUES ('subtask', new.status, 1) ON CONFLICT DO UPDATE SET n = n + 1;
      END;
      CREATE TRIGGER subtasks_status_count_delete AFTER DELETE ON subtasks BEGIN
        UPDATE status_counts SET n = n - 1 WHERE kind = 'subtask' AND status = old.status;
        DELETE FROM status_counts WHERE kind = 'subtask' AND status = old.status AND n = 0;
      END;
    `,
    down: `
      DROP TRIGGER epics_status_count_insert;
      DROP TRIGGER epics_status_count_update;
      DROP TRIGGER epics_status_count_delete;
      DROP TRIGGER tasks_status_count_insert;
      DROP TRIGGER tasks_status_count_update;
      DROP TRIGGER tasks_status_count_delete;
      DROP TRIGGER subtasks_status_count_insert;
      DROP TRIGGER subtasks_status_count_update;
      DROP TRIGGER subtasks_status_count_delete;
      DROP TABLE status_counts;
    `
  }
]
