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
    // Numbered 6 in the work plan (other branches add 4 and 5): renumber at merge.
    version: 4,
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
  }
]
