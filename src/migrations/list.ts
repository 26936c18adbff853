import type { Migration } from "./Migration.ts"

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
  }
]
