/**
 * The registry of every error code grove can emit. docs/errors.md documents the
 * same set; test/errors.test.ts checks that the two agree.
 *
 * exit 1 = domain error, exit 2 = usage error (DESIGN.md section 8).
 */
export const errorCodes = {
  internal: { exit: 1, summary: "An unexpected defect inside grove (reported, for example, in a sync watch tick line); please report it." },
  usage: { exit: 2, summary: "The command line could not be parsed: unknown command or flag, missing or extra argument." },
  invalid_input: { exit: 2, summary: "A value (flag, argument, environment variable, input line) is malformed or out of range." },
  not_a_repository: { exit: 1, summary: "The working directory is not inside a git repository and GROVE_DB is not set." },
  git_failed: { exit: 1, summary: "A git command grove needed failed." },
  database_unavailable: { exit: 1, summary: "The database file could not be opened or created." },
  database_busy: { exit: 1, summary: "The database stayed locked by another process past the busy timeout." },
  database_error: { exit: 1, summary: "SQLite reported an unexpected error." },
  schema_too_new: { exit: 1, summary: "The database was migrated by a newer grove than this one." },
  migration_checksum_mismatch: { exit: 1, summary: "An applied migration's recorded checksum differs from the code's: the migration was edited after it ran." },
  migration_failed: { exit: 1, summary: "A migration failed; the schema was left exactly as before." },
  migration_irreversible: { exit: 1, summary: "migrate down would cross a migration whose down is irreversible; restore a backup instead." },
  migration_target_invalid: { exit: 1, summary: "migrate down --to N names a version that is not below the current one or not known." },
  backup_failed: { exit: 1, summary: "Writing a backup with VACUUM INTO failed, or a restore failed and was rolled back." },
  backup_invalid: { exit: 1, summary: "migrate restore: the file is missing, not a grove database, fails SQLite's quick_check, or is the live database; nothing was changed." },
  doctor_found_problems: { exit: 1, summary: "grove doctor found at least one error it did not repair (details.findings lists every finding with its code)." },
  not_found: { exit: 1, summary: "No epic, task, subtask or dependency has that id." },
  version_mismatch: { exit: 1, summary: "--if-version N was given but the entity's version is no longer N; nothing was written." },
  invalid_transition: { exit: 1, summary: "The status change is not allowed by the status machine." },
  dependency_not_done: { exit: 1, summary: "The entity cannot enter in_progress or done while a dependency is not done." },
  dependency_cycle: { exit: 1, summary: "The dependency would form a cycle." },
  self_dependency: { exit: 1, summary: "An entity cannot depend on itself." },
  dependency_exists: { exit: 1, summary: "That dependency edge already exists." },
  dependency_source_done: { exit: 1, summary: "dep add / dep add-many: the source is done and the target is not; nothing written (dep add --force reopens the source to todo)." },
  epic_has_open_tasks: { exit: 1, summary: "epic update --status done while tasks of the epic are not done (details.open counts them); --force marks it done anyway." },
  invalid_payload: { exit: 1, summary: "An event payload failed its Schema." },
  bulk_input_invalid: { exit: 1, summary: "A bulk create line is invalid; the whole batch was rejected and nothing was written." },
  unknown_source: { exit: 1, summary: "The sync source is neither a branch of the repository nor a stream grove has seen." },
  expect_mismatch: { exit: 1, summary: "resolve --all --expect: the conflicts matched now differ from the ids previewed; nothing was written." },
  nothing_to_resolve: { exit: 1, summary: "resolve matched no pending conflict in this scope." },
  watch_tick_failed: { exit: 1, summary: "sync watch --once: its one tick printed an error (a pull or the remote exchange failed); details.error is that error." },
  watch_locked: { exit: 1, summary: "Another grove sync watch already watches this worktree (details.pid names it)." },
  remote_not_found: { exit: 1, summary: "sync push/fetch: the remote is not configured (with no REMOTE: the branch has no upstream remote and there is no origin)." },
  bundle_corrupt: { exit: 1, summary: "sync fetch: a grove ref holds a bundle that does not hash to its name, does not decode, or does not follow the ref's positions; that ref was quarantined, nothing of it imported." },
  history_rewritten: { exit: 1, summary: "sync fetch: a grove ref no longer extends what was verified or imported from it; that ref was quarantined, nothing already imported changed." },
  bundle_unauthenticated: { exit: 1, summary: "sync fetch: a grove ref's new bundle is not signed by its replica's pinned key (another key, a signature that does not verify, or unsigned once the replica signs); that ref was quarantined, nothing of it imported." },
  push_rejected: { exit: 1, summary: "sync push: the remote kept rejecting the push (others pushed first each time, after a fetch and retry); nothing was forced." },
  claim_lost: { exit: 1, summary: "The task or subtask is claimed by someone else (details.owner), whose lease, if any, has not expired; nothing was written." },
  not_owner: { exit: 1, summary: "Only the owner of a claimed task or subtask may finish, release or heartbeat it (details.owner); --force overrides done and release." },
  plan_invalid: { exit: 1, summary: "plan apply: the plan file is not a valid plan (details.path names the bad part); nothing was written." },
  token_required: { exit: 1, summary: "grove board: the request carried no valid board token (URL ?token=, the cookie it sets, or Authorization: Bearer); HTTP 401." },
  host_rejected: { exit: 1, summary: "grove board: the Host header names neither the board's address nor an IP literal or localhost on its port (DNS rebinding); HTTP 403." },
  origin_rejected: { exit: 1, summary: "grove board: the Origin (or Sec-Fetch-Site) header shows a cross-site request; HTTP 403." },
  unknown_route: { exit: 1, summary: "grove board: no page or API endpoint has that method and path; HTTP 404." },
  body_too_large: { exit: 1, summary: "grove board: the request body is over the endpoint's size limit; nothing was read or written; HTTP 413." },
  port_unavailable: { exit: 1, summary: "grove board: the address could not be bound (port in use, or not an address of this machine)." },
  unknown_tool: { exit: 1, summary: "grove mcp: the client called a tool the server does not have (tools/list names them)." },
  agents_markers_invalid: { exit: 1, summary: "agents install: AGENTS.md or CLAUDE.md holds grove's begin marker without its end marker, or either twice; nothing was written." },
  agents_write_failed: { exit: 1, summary: "agents install: AGENTS.md or CLAUDE.md could not be read or written." },
  verify_mismatch: { exit: 1, summary: "grove verify found that the live tables differ from a replay of the log." },
  log_tampered: { exit: 1, summary: "The event log was changed behind grove's back: a stream's hash chain is broken or an append-only trigger is missing; rebuild refuses such a log." },
} as const satisfies Record<string, { readonly exit: 1 | 2; readonly summary: string }>

export type ErrorCode = keyof typeof errorCodes

export const exitCodeOf = (code: ErrorCode): 1 | 2 => errorCodes[code].exit
