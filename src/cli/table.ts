import type { ArgSpec, CommandSpec, FlagSpec, GroupSpec } from "./spec.ts"

/**
 * Every grove command as data: words, arguments, flags, one-line summary and
 * an example. The parser, the help and the usage errors are driven by this
 * table; each entry's `module` names the
 * handler module it runs, and only that module loads.
 */

export { version } from "./version.ts"

export const description = "An event-sourced task graph for people and agents working in parallel git worktrees."

const statuses = ["todo", "in_progress", "done", "blocked"] as const

const text = (name: string, description: string, extra: Partial<FlagSpec> = {}): FlagSpec => ({ name, type: "text", description, ...extra })
const integer = (name: string, description: string, extra: Partial<FlagSpec> = {}): FlagSpec => ({ name, type: "integer", description, placeholder: "N", ...extra })
const boolean = (name: string, description: string): FlagSpec => ({ name, type: "boolean", description })
const arg = (name: string, description: string, extra: Partial<ArgSpec> = {}): ArgSpec => ({ name, type: "text", description, ...extra })

/** A conflict id: a field conflict's number, or an invariant conflict's `i<N>`. */
const conflictId = { test: /^i?[1-9]\d*$/, what: "a conflict id (N or iN)" }
const ifVersion = integer("if-version", "refuse (version_mismatch) unless the entity is still at version N")
const descriptionFlag = text("description", "free text", { placeholder: "TEXT" })
const ownerFlag = text("owner", "owner (an empty string clears it)", { placeholder: "NAME" })
const fileFlag = text("file", "read JSON lines from a file, or - for stdin", { placeholder: "PATH" })
const titleList = text("title", "a title; repeat the flag for several", { repeated: true, placeholder: "TEXT" })
const actingFlag = text("owner", "who acts (default: GROVE_ACTOR, else git user.email)", { placeholder: "NAME" })
const leaseFlag = text("lease", "lease length (30m, 90s, 2h): then others may take the claim over", { placeholder: "DURATION" })
const forceFlag = boolean("force", "act although another owner holds the claim")
const searchFlag = text("search", "only those whose title, description or notes contain every word (as word prefixes), best match first", { placeholder: "TEXT" })
const from = text("from", "the source branch (default: origin/HEAD, else init.defaultBranch, else main or master)", { placeholder: "BRANCH" })

/** Paging flags of list commands (docs/cli.md, "Paging"). */
const paging: ReadonlyArray<FlagSpec> = [
  integer("limit", "at most N rows per page (default 50)"),
  text("cursor", "continue after the page that returned this cursor (meta.pagination.next)", { placeholder: "CURSOR" }),
  boolean("all", "every row, no paging")
]
const statusFilter: ReadonlyArray<FlagSpec> = [
  text("status", `only these statuses, comma-separated (${statuses.join(", ")}; default: all but done)`, { placeholder: "LIST" }),
  boolean("all-statuses", "every status, done included")
]


type Kind = "epic" | "task" | "subtask"
const parentOf = { task: "epic", subtask: "task" } as const
const ids = { epic: "e-4k2m9x1qpz", task: "t-4k2m9x1qpz", subtask: "s-4k2m9x1qpz" } as const

const entityCommands = (kind: Kind): ReadonlyArray<CommandSpec> => {
  const id = arg("id", `the ${kind}'s id`)
  const parent = kind === "epic" ? [] : [text(parentOf[kind], `the parent ${parentOf[kind]}`, { required: true, placeholder: "ID" })]
  const owner = kind === "epic" ? [] : [ownerFlag]
  const article = kind === "epic" ? "an" : "a"
  return [
    {
      path: [kind, "create"],
      summary: `Create ${article} ${kind}.`,
      flags: [text("title", "the title", { required: true, placeholder: "TEXT" }), descriptionFlag, ...parent, ...owner],
      example: kind === "epic" ? `grove epic create --title "Search"` : `grove ${kind} create --${parentOf[kind]} ${ids[parentOf[kind]]} --title "Index the titles"`,
      module: "entities"
    },
    {
      path: [kind, "show"],
      summary: `Show ${article} ${kind} with its children and dependencies.`,
      args: [id],
      example: `grove ${kind} show ${ids[kind]}`,
      module: "reads"
    },
    {
      path: [kind, "list"],
      summary: `List ${kind}s, oldest first, a page at a time.`,
      flags: [
        ...(kind === "task" ? [text("epic", "only this epic's tasks", { placeholder: "ID" }), ownerFlag] : kind === "subtask" ? [text("task", "only this task's subtasks", { placeholder: "ID" })] : []),
        ...statusFilter,
        searchFlag,
        ...paging
      ],
      example: `grove ${kind} list --limit 20 --json`,
      module: "reads"
    },
    {
      path: [kind, "update"],
      summary: `Change ${article} ${kind}'s fields; only changed fields are written.`,
      args: [id],
      flags: [
        text("title", "new title", { placeholder: "TEXT" }),
        descriptionFlag,
        { name: "status", type: "choice", choices: statuses, description: "new status" },
        ...owner,
        ifVersion,
        ...(kind === "epic" ? [boolean("force", "with --status done: even while tasks of the epic are open")] : [])
      ],
      example: `grove ${kind} update ${ids[kind]} --status in_progress`,
      module: "entities"
    },
    {
      path: [kind, "delete"],
      summary: `Delete ${article} ${kind}, its children and every dependency touching them.`,
      args: [id],
      flags: [ifVersion],
      example: `grove ${kind} delete ${ids[kind]}`,
      module: "entities"
    },
    ...(kind === "epic" ? [] : [
      {
        path: [kind, "claim"],
        summary: `Atomically claim ${article} ${kind}: of racing claimers exactly one wins; the others exit 1 with claim_lost and the owner. An expired lease can be taken over.`,
        args: [id],
        flags: [actingFlag, leaseFlag, ifVersion],
        example: `grove ${kind} claim ${ids[kind]} --owner agent-1 --lease 30m`,
        module: "work"
      } satisfies CommandSpec,
      {
        path: [kind, "release"],
        summary: `Give a claimed ${kind} back: todo again, no owner. Only its owner, or anyone with --force.`,
        args: [id],
        flags: [actingFlag, forceFlag],
        example: `grove ${kind} release ${ids[kind]}`,
        module: "work"
      } satisfies CommandSpec,
      {
        path: [kind, "heartbeat"],
        summary: `Renew the lease on ${article} ${kind} you claimed (during long work); --lease sets a new length.`,
        args: [id],
        flags: [actingFlag, leaseFlag],
        example: `grove ${kind} heartbeat ${ids[kind]}`,
        module: "work"
      } satisfies CommandSpec,
      {
        path: [kind, "done"],
        summary: `Mark ${article} ${kind} done (once its dependencies are done; a claimed one only by its owner, or with --force). Prints what it unblocked and the next candidate.`,
        args: [id],
        flags: [actingFlag, forceFlag, ifVersion],
        example: `grove ${kind} done ${ids[kind]}`,
        module: "work"
      } satisfies CommandSpec,
      {
        path: [kind, "note"],
        summary: `Append a note to ${article} ${kind}: append-only, concurrent notes on several branches never conflict; show lists them with their provenance.`,
        args: [id, arg("text", "the note")],
        flags: [actingFlag],
        example: `grove ${kind} note ${ids[kind]} "the parser is the bottleneck"`,
        module: "work"
      } satisfies CommandSpec,
      {
        path: [kind, "create-many"],
        summary: `Create many ${kind}s in one transaction: --title repeated, or JSON lines from --file (- for stdin). A bad line rejects the whole batch.`,
        flags: [text(parentOf[kind], `the ${parentOf[kind]} for lines that name none`, { placeholder: "ID" }), titleList, fileFlag],
        example: `grove ${kind} create-many --${parentOf[kind]} ${ids[parentOf[kind]]} --file ${kind}s.jsonl`,
        module: "bulk"
      } satisfies CommandSpec
    ])
  ]
}

export const groups: ReadonlyArray<GroupSpec> = [
  { path: ["epic"], summary: "Epics: the top of the graph." },
  { path: ["task"], summary: "Tasks: the units of work under an epic." },
  { path: ["subtask"], summary: "Subtasks: steps of a task." },
  { path: ["dep"], summary: "Dependency edges between tasks and subtasks." },
  { path: ["events"], summary: "The immutable event log." },
  { path: ["sync"], summary: "Reconcile what branches did concurrently." },
  { path: ["sync", "conflicts"], summary: "Conflicts recorded in this worktree's scope." },
  { path: ["sync", "quarantine"], summary: "What grove holds back: refused refs (r<N>) and unreadable events (e<N>)." },
  { path: ["migrate"], summary: "Inspect and run schema migrations." },
  { path: ["plan"], summary: "Plans: a whole epic in one call." },
  { path: ["agents"], summary: "Instructions for coding agents in AGENTS.md and CLAUDE.md." }
]

const source = arg("source", "the task or subtask that waits")
const target = arg("target", "the task or subtask it waits for")
const quarantineId = arg("id", "r<N> for a ref, e<N> for an event (see sync quarantine list)")
const remoteArg = arg("remote", "a configured git remote (default: the branch's upstream remote, else origin)", { optional: true })

export const commands: ReadonlyArray<CommandSpec> = [
  {
    path: ["init"],
    summary: "Create this repository's grove database (idempotent) and print where it is.",
    example: "grove init",
    module: "migrate"
  },
  {
    path: ["session"],
    summary: "Orientation in one call: this worktree, branch and actor, my claims, task counts, pending conflicts, how far behind the default branch, and what every other worktree is doing.",
    flags: [actingFlag],
    example: "grove session --json",
    module: "session"
  },
  {
    path: ["next"],
    summary: "The best task for this agent, with its context: its own task in progress first, else the ready task that unblocks the most work, then the oldest. --claim claims it in the same transaction.",
    flags: [text("epic", "only this epic's tasks", { placeholder: "ID" }), actingFlag, boolean("claim", "claim the task in the transaction that picks it"), leaseFlag],
    example: "grove next --epic e-4k2m9x1qpz --claim --lease 30m --json",
    module: "next"
  },
  {
    path: ["plan", "apply"],
    summary: "Create an epic with its tasks, subtasks and dependencies, addressed by temporary keys, in one transaction (JSON or JSON lines, docs/agents.md). Re-running changes nothing; an edited plan adds what is new.",
    args: [arg("file", "the plan file, or - for stdin")],
    example: "grove plan apply plan.json",
    module: "plan"
  },
  ...entityCommands("epic"),
  {
    path: ["epic", "progress"],
    summary: "Counts per status, ready and waiting tasks, and the next candidate of an epic.",
    args: [arg("id", "the epic's id")],
    example: "grove epic progress e-4k2m9x1qpz",
    module: "work"
  },
  ...entityCommands("task"),
  {
    path: ["task", "ready"],
    summary: "Tasks in todo whose dependencies are all done and that are on no recorded dependency cycle, a page at a time.",
    flags: [text("epic", "only this epic's tasks", { placeholder: "ID" }), ...paging],
    example: "grove task ready --limit 1 --json",
    module: "task"
  },
  ...entityCommands("subtask"),
  {
    path: ["dep", "add"],
    summary: "SOURCE depends on TARGET: SOURCE cannot start or finish until TARGET is done. Adding an existing edge changes nothing.",
    args: [source, target],
    flags: [boolean("force", "when SOURCE is done and TARGET is not: add the edge and reopen SOURCE to todo")],
    example: "grove dep add t-4k2m9x1qpz t-9v8c7b6n5m",
    module: "dep"
  },
  {
    path: ["dep", "remove"],
    summary: "Remove the edge SOURCE -> TARGET.",
    args: [source, target],
    example: "grove dep remove t-4k2m9x1qpz t-9v8c7b6n5m",
    module: "dep"
  },
  {
    path: ["dep", "list"],
    summary: "List dependency edges.",
    args: [arg("id", "only edges touching this task or subtask", { optional: true })],
    example: "grove dep list t-4k2m9x1qpz",
    module: "dep"
  },
  {
    path: ["dep", "tree"],
    summary: "Everything a task or subtask depends on, transitively, each at its shortest distance; --reverse: what depends on it.",
    args: [arg("id", "the task or subtask at the root")],
    flags: [boolean("reverse", "what depends on it, rather than what it depends on"), integer("depth", "at most N edges away (default: no limit)")],
    example: "grove dep tree t-4k2m9x1qpz --reverse --depth 2",
    module: "work"
  },
  {
    path: ["dep", "add-many"],
    summary: 'Add many edges in one transaction: --edge S:T repeated, or JSON lines {"source","target"} from --file. Existing edges are skipped and reported.',
    flags: [text("edge", "SOURCE:TARGET; repeat for several", { repeated: true, placeholder: "S:T" }), fileFlag],
    example: "grove dep add-many --edge t-4k2m9x1qpz:t-9v8c7b6n5m --edge t-4k2m9x1qpz:t-1a2s3d4f5g",
    module: "bulk"
  },
  {
    path: ["events", "list"],
    summary: "Show the event log (newest N, default 50, in log order).",
    flags: [
      text("stream", "only events written on this branch", { placeholder: "BRANCH" }),
      text("entity", "only events of this entity", { placeholder: "ID" }),
      integer("limit", "at most N rows")
    ],
    example: "grove events list --entity t-4k2m9x1qpz",
    module: "admin"
  },
  {
    path: ["sync", "status"],
    summary: "How this branch's knowledge compares with a source branch, and its pending conflicts.",
    flags: [from],
    example: "grove sync status --from main",
    module: "status"
  },
  {
    path: ["sync", "pull"],
    summary: "Learn what the source branch knows and record the conflicts that creates; never changes the live state.",
    flags: [from],
    example: "grove sync pull --from main",
    module: "pull"
  },
  {
    path: ["sync", "conflicts", "list"],
    summary: "This worktree and branch's pending conflicts, field (N) and invariant (iN: a dependency cycle, an orphan); --all: settled ones too.",
    flags: [boolean("all", "include settled conflicts")],
    example: "grove sync conflicts list --json",
    module: "sync"
  },
  {
    path: ["sync", "conflicts", "show"],
    summary: "One conflict: base, ours, theirs and the events behind each; for an invariant conflict (iN), what is wrong and the --use choices.",
    args: [{ name: "id", type: "text", description: "the conflict's id: N (a field conflict) or iN (an invariant conflict)", pattern: conflictId }],
    example: "grove sync conflicts show 3",
    module: "sync"
  },
  {
    path: ["sync", "resolve"],
    summary: "Settle conflicts with one side's value (or an invariant conflict with one of its choices), as events every peer sees when it pulls.",
    args: [{ name: "id", type: "text", description: "the conflict to settle: N or iN", optional: true, pattern: conflictId }],
    flags: [
      text("use", "a field conflict's side to keep: ours, theirs, or a side's number (conflicts show lists every side); for iN one of the choices `sync conflicts show iN` lists (drop:<source>><target>, restore, delete)", {
        required: true,
        placeholder: "ours|theirs|N|CHOICE"
      }),
      boolean("all", "every pending field conflict of this scope matching the filters"),
      text("entity", "with --all: only this entity", { placeholder: "ID" }),
      text("field", "with --all: only this field", { placeholder: "NAME" }),
      text("expect", "with --all: refuse unless exactly these ids (comma-separated) match", { placeholder: "IDS" }),
      boolean("dry-run", "show base, ours, theirs and what would be written; change nothing")
    ],
    example: "grove sync resolve --all --use theirs --field title --dry-run",
    module: "sync"
  },
  {
    path: ["sync", "fetch"],
    summary: "Import the events other clones pushed to a git remote (grove's refs); then `sync pull --from <branch>` learns them. Idempotent.",
    args: [remoteArg],
    example: "grove sync fetch origin",
    module: "sync"
  },
  {
    path: ["sync", "push"],
    summary: "Fetch, then publish this database's events the remote lacks as bundles under refs/grove/<replica>/<branch>, with plain git push.",
    args: [remoteArg],
    example: "grove sync push origin",
    module: "sync"
  },
  {
    path: ["sync", "quarantine", "list"],
    summary: "Refs a fetch refused and stored events whose payload fails its Schema.",
    example: "grove sync quarantine list --json",
    module: "sync"
  },
  {
    path: ["sync", "quarantine", "show"],
    summary: "One quarantined ref or event, with the reason.",
    args: [quarantineId],
    example: "grove sync quarantine show r1",
    module: "sync"
  },
  {
    path: ["sync", "quarantine", "retry"],
    summary: "Fetch a quarantined ref's remote again and re-check the ref; imported if it verifies now.",
    args: [quarantineId],
    example: "grove sync quarantine retry r1",
    module: "sync"
  },
  {
    path: ["sync", "quarantine", "drop"],
    summary: "Ignore a quarantined ref at its current tip: fetch and push skip it silently until it moves.",
    args: [quarantineId],
    example: "grove sync quarantine drop r1",
    module: "sync"
  },
  {
    path: ["sync", "replica"],
    summary: "This database's replica id, its signing key and the keys pinned for other replicas; --renew gives a copied database its own id (after a backup).",
    flags: [boolean("renew", "give this database a new replica id; what it wrote so far stays the old replica's")],
    example: "grove sync replica --renew",
    module: "sync"
  },
  {
    path: ["sync", "watch"],
    summary: "Keep this worktree reconciled: pull on new data or HEAD changes, one JSON line per tick, WAL upkeep.",
    flags: [
      text("from", "a source branch; repeat for several (default: the default branch)", { repeated: true, placeholder: "BRANCH" }),
      integer("interval", "tick at least every N milliseconds (default 2000)"),
      integer("idle-ms", "PASSIVE checkpoint after N milliseconds without new data (default 5000)"),
      integer("wal-bound-mib", "TRUNCATE checkpoint when the WAL passes N MiB (default 64)"),
      integer("poll-ms", "how often to look for new data and HEAD changes, in milliseconds (default 100)"),
      boolean("once", "run one tick and exit (non-zero when the tick failed)"),
      integer("remote-every", "also fetch and push through a git remote every N milliseconds (sync push)"),
      text("remote", "with --remote-every: the remote (default: upstream, else origin)", { placeholder: "NAME" })
    ],
    example: "grove sync watch --from main --once",
    module: "sync"
  },
  {
    path: ["migrate", "status"],
    summary: "Show applied and pending migrations.",
    example: "grove migrate status",
    module: "migrate"
  },
  {
    path: ["migrate", "up"],
    summary: "Apply every pending migration in one transaction.",
    example: "grove migrate up",
    module: "migrate"
  },
  {
    path: ["migrate", "down"],
    summary: "Revert migrations down to version N, after taking a backup.",
    flags: [integer("to", "the schema version to return to", { required: true })],
    example: "grove migrate down --to 2",
    module: "migrate"
  },
  {
    path: ["migrate", "backup"],
    summary: "Write a consistent copy of the database beside it (VACUUM INTO).",
    flags: [integer("retain", "keep only the newest N backups")],
    example: "grove migrate backup --retain 5",
    module: "migrate"
  },
  {
    path: ["migrate", "restore"],
    summary: "Replace the database's content with a backup's, in one transaction, after backing up the current state.",
    args: [arg("backup", "a backup file (grove migrate backup writes them beside the database)")],
    example: "grove migrate restore .git/grove/grove.db.backup-20261125T160000000Z-00.db",
    module: "migrate"
  },
  {
    path: ["rebuild"],
    summary: "Replay the whole event log into fresh projection tables.",
    example: "grove rebuild",
    module: "admin"
  },
  {
    path: ["verify"],
    summary: "Replay the log into a scratch database and compare per-table checksums with the live tables.",
    example: "grove verify --json",
    module: "admin"
  },
  {
    path: ["board"],
    summary: "Serve a live web board of the graph, the worktrees and their conflicts; prints its URL with a secret token first.",
    flags: [
      integer("port", "port to listen on (default 0: a free one)"),
      text("host", "address to bind (default 127.0.0.1; anything else is reachable by others)", { placeholder: "ADDRESS" }),
      boolean("open", "also open the URL in the default browser (xdg-open / open)")
    ],
    example: "grove board --open",
    module: "board"
  },
  {
    path: ["doctor"],
    summary: "Check the database, the log's integrity, replicas, locks and configuration; --fix repairs what a backup undoes.",
    flags: [boolean("fix", "make the repairs a backup can undo (taking that backup first) and say what was done")],
    example: "grove doctor --fix --json",
    module: "admin"
  },
  {
    path: ["mcp"],
    summary: "Serve the agent loop as Model Context Protocol tools and resources on stdio, for an MCP client to start inside a worktree (docs/agents.md).",
    example: "grove mcp",
    module: "mcp"
  },
  {
    path: ["agents", "install"],
    summary: "Write or update grove's section (the loop, the error codes to handle, the MCP snippet) between markers in AGENTS.md, and in CLAUDE.md when it exists; a second run changes nothing.",
    example: "grove agents install",
    module: "mcp"
  },
  {
    path: ["agents", "print"],
    summary: "Print the section agents install writes, writing nothing.",
    example: "grove agents print",
    module: "mcp"
  }
]

/** Flags every command takes: how to print, and help. */
export const globalFlags: ReadonlyArray<FlagSpec> = [
  boolean("json", "print one JSON envelope {ok, command, data, meta} (errors too, on stdout)"),
  boolean("toon", "print the same envelope as TOON (fewer tokens than JSON)"),
  boolean("compact", "print the envelope as one JSON line without meta"),
  boolean("help", "show this help")
]

/** The top-level command's own flags. */
export const topFlags: ReadonlyArray<FlagSpec> = [boolean("version", "print grove's version")]
