// The board's page: preact + htm, bundled by the board at start (no network, no CDN).
import { h, render } from "preact"
import { useCallback, useEffect, useMemo, useRef, useState } from "preact/hooks"
import htm from "htm"

const html = htm.bind(h)
const statuses = ["todo", "in_progress", "blocked", "done"]
const statusLabel = { todo: "To do", in_progress: "In progress", blocked: "Blocked", done: "Done" }
const pageSize = 50

/** Calls the board's API; a coded failure becomes an Error with `.code` and `.details`. */
const api = async (path, body) => {
  const response = await fetch(path, body === undefined
    ? { headers: { accept: "application/json" } }
    : { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) })
  const reply = await response.json()
  if (reply.ok) return reply.data
  const error = new Error(reply.error.message)
  error.code = reply.error.code
  error.details = reply.error.details
  throw error
}

const short = (sha) => (sha ? sha.slice(0, 8) : "-")
const when = (iso) => (iso ? new Date(iso).toLocaleString() : "-")
const show = (v) => (v === null || v === undefined ? "-" : typeof v === "string" ? v : JSON.stringify(v))
const base = (path) => (path ? path.split("/").filter(Boolean).at(-1) : "-")

/** The hash route: #/board, #/task/ID, #/graph/EPIC, #/worktrees, #/conflicts, #/activity. */
const useRoute = () => {
  const read = () => (location.hash.replace(/^#\/?/, "") || "board").split("/")
  const [route, setRoute] = useState(read)
  useEffect(() => {
    const on = () => setRoute(read())
    addEventListener("hashchange", on)
    // A hash set between the first render and this effect fired no event we heard: read it again.
    on()
    return () => removeEventListener("hashchange", on)
  }, [])
  return route
}

/** Messages the page shows (writes' outcomes, stale edits), announced to screen readers. */
const useMessages = () => {
  const [messages, setMessages] = useState([])
  const say = useCallback((text, kind = "ok") => {
    const id = Math.random()
    setMessages((m) => [...m, { id, text, kind }])
    setTimeout(() => setMessages((m) => m.filter((x) => x.id !== id)), 8000)
  }, [])
  return [messages, say]
}

/** Explains a refused write; a stale one says so plainly (nothing was written). */
const explain = (error) =>
  error.code === "claim_lost"
    ? `Not claimed: ${error.details?.id} is already claimed by ${error.details?.owner}; nothing was written.`
    : error.code === "version_mismatch"
    ? `Not saved: ${error.details?.id ?? "this item"} changed since the page showed it (version ${error.details?.expected} → ${error.details?.actual}). The board now shows the current state; nothing was written.`
    : `Not saved: ${error.message} [${error.code ?? "error"}]`

function Card({ task, byId, onAct }) {
  const waiting = task.waitingOn.map((id) => byId.get(id)?.title ?? id)
  return html`<article class=${`card ${task.status}`} data-id=${task.id} data-version=${task.version} aria-label=${task.title}>
    <div class="title"><a href=${`#/task/${task.id}`}>${task.title}</a></div>
    <div class="meta"><code>${task.id}</code> · v${task.version}${task.owner ? ` · ${task.owner}` : ""}${task.subtasks > 0 ? ` · subtasks ${task.subtasksDone}/${task.subtasks}` : ""}${task.dependencies > 0 ? ` · deps ${task.dependencies - task.waitingOn.length}/${task.dependencies} done` : ""}</div>
    ${task.status === "blocked"
      ? html`<div class="why">${waiting.length > 0 ? `blocked by ${waiting.join(", ")}` : "blocked (no open dependency: set by hand)"}</div>`
      : task.status !== "done" && waiting.length > 0
      ? html`<div class="why">waiting on ${waiting.join(", ")}</div>`
      : null}
    <${Actions} entity=${task} onAct=${onAct} />
  </article>`
}

/** Status moves and claim for a task or subtask, each carrying the version shown. */
function Actions({ entity, onAct }) {
  const kind = entity.id.startsWith("t-") ? "task" : entity.id.startsWith("s-") ? "subtask" : "epic"
  return html`<div class="actions">
    ${kind !== "epic" && entity.status !== "done" && !entity.owner
      ? html`<button data-action="claim" onClick=${() => onAct("claim", entity)}>Claim</button>`
      : null}
    ${kind !== "epic" && entity.owner
      ? html`<button data-action="release" onClick=${() => onAct("release", entity)}>Release</button>`
      : null}
    <label>
      <span class="muted">Move to </span>
      <select aria-label=${`Move ${entity.id} to`} data-action="status" value="" onChange=${(e) => {
        const to = e.currentTarget.value
        e.currentTarget.value = ""
        if (to) onAct("status", entity, to)
      }}>
        <option value="">…</option>
        ${statuses.filter((s) => s !== entity.status).map((s) => html`<option value=${s}>${statusLabel[s]}</option>`)}
      </select>
    </label>
  </div>`
}

function BoardView({ data, onAct }) {
  const [filters, setFilters] = useState({ epic: "", owner: "", worktree: "" })
  const [shown, setShown] = useState({})
  const byId = useMemo(() => new Map(data.tasks.map((t) => [t.id, t])), [data])
  const owners = useMemo(() => [...new Set(data.tasks.map((t) => t.owner).filter(Boolean))].sort(), [data])
  const worktrees = useMemo(() => data.worktrees.map((path, i) => [path, String(i)]).sort(), [data])
  const columns = useMemo(() => {
    const out = Object.fromEntries(statuses.map((s) => [s, []]))
    for (const t of data.tasks) {
      if (filters.epic && t.epicId !== filters.epic) continue
      if (filters.owner && t.owner !== filters.owner) continue
      if (filters.worktree && String(t.worktree) !== filters.worktree) continue
      out[t.status].push(t)
    }
    return out
  }, [data, filters])
  // Options are [label, value] pairs.
  const select = (name, label, options) => html`<label>${label} <select aria-label=${label} data-filter=${name} value=${filters[name]}
      onChange=${(e) => setFilters({ ...filters, [name]: e.currentTarget.value })}>
      <option value="">all</option>
      ${options.map(([text, value]) => html`<option value=${value} data-label=${text}>${text}</option>`)}
    </select></label>`
  return html`<div>
    <div class="filters" role="group" aria-label="Filters">
      ${select("epic", "Epic", data.epics.map((e) => [`${e.title} (${e.id})`, e.id]))}
      ${select("owner", "Owner", owners.map((o) => [o, o]))}
      ${select("worktree", "Worktree", worktrees.map(([path, i]) => [base(path), i]))}
      <span class="muted">${data.tasks.length} tasks</span>
    </div>
    <div class="columns">
      ${statuses.map((s) => {
        const cards = columns[s]
        const limit = shown[s] ?? pageSize
        return html`<section class="column" data-status=${s} aria-label=${statusLabel[s]}>
          <h2>${statusLabel[s]} <span class="count">${cards.length}</span></h2>
          ${cards.slice(0, limit).map((t) => html`<${Card} key=${t.id} task=${t} byId=${byId} onAct=${onAct} />`)}
          ${cards.length > limit
            ? html`<button class="more" onClick=${() => setShown({ ...shown, [s]: limit + pageSize })}>Show ${Math.min(pageSize, cards.length - limit)} more of ${cards.length - limit}</button>`
            : null}
        </section>`
      })}
    </div>
  </div>`
}

/** Loads `path` and reloads it whenever the board's data changes (`tick`). */
const useData = (path, tick) => {
  const [state, setState] = useState({ data: undefined, error: undefined })
  useEffect(() => {
    let live = true
    if (path) api(path).then((data) => live && setState({ data }), (error) => live && setState({ data: undefined, error }))
    return () => (live = false)
  }, [path, tick])
  return state
}

function Failed({ error }) {
  return html`<p class="message error" role="alert">${error.message} [${error.code}]</p>`
}

function TaskView({ id, tick, onAct }) {
  const { data, error } = useData(`/api/entities/${encodeURIComponent(id)}`, tick)
  if (error) return html`<${Failed} error=${error} />`
  if (!data) return html`<p class="loading">Loading…</p>`
  const e = data.entity
  const link = (x) => html`<li><a href=${`#/task/${x.id}`}>${x.title ?? x.id}</a> <code>${x.id}</code> <span class=${`badge ${x.status}`}>${x.status}</span></li>`
  return html`<div data-view="task">
    <section class="panel">
      <h2>${e.title} <span class=${`badge ${e.status}`}>${e.status}</span></h2>
      <table><tbody>
        <tr><th>id</th><td><code>${e.id}</code> (${e.kind})</td></tr>
        <tr><th>version</th><td>${e.version}</td></tr>
        ${e.kind !== "epic" ? html`<tr><th>owner</th><td>${e.owner ?? "-"}</td></tr>` : null}
        ${e.epicId ? html`<tr><th>epic</th><td><a href=${`#/graph/${e.epicId}`}>${e.epicId}</a></td></tr>` : null}
        ${e.taskId ? html`<tr><th>task</th><td><a href=${`#/task/${e.taskId}`}>${e.taskId}</a></td></tr>` : null}
        <tr><th>description</th><td>${e.description || "-"}</td></tr>
      </tbody></table>
      ${e.kind !== "epic" ? html`<${Actions} entity=${e} onAct=${onAct} />` : null}
    </section>
    <section class="panel"><h3>${e.kind === "epic" ? "Tasks" : "Subtasks"} (${data.children.length})</h3><ul>${data.children.map(link)}</ul></section>
    <section class="panel"><h3>Depends on (${data.dependsOn.length})</h3><ul>${data.dependsOn.map(link)}</ul>
      <h3>Depended on by (${data.dependedOnBy.length})</h3><ul>${data.dependedOnBy.map(link)}</ul></section>
    ${e.kind !== "epic" ? html`<section class="panel"><h3>Notes (${data.notes.length})</h3>
      <ul data-list="notes">${data.notes.map((n) => html`<li><span class="muted">${when(n.time)} · ${n.author}${n.worktree ? ` · ${base(n.worktree)}` : ""}</span><div>${n.text}</div></li>`)}</ul>
      <form onSubmit=${(ev) => {
        ev.preventDefault()
        const field = ev.currentTarget.elements.namedItem("note")
        if (field.value.trim()) onAct("note", e, field.value)
        field.value = ""
      }}><label>Add a note <input name="note" aria-label="Note text" size="60" maxlength="2000" /></label> <button type="submit">Add note</button></form>
    </section>` : null}
    <section class="panel"><h3>History (${data.history.length} events)</h3>
      <table data-table="history"><thead><tr><th>time</th><th>event</th><th>actor</th><th>worktree</th><th>branch</th><th>head</th><th>payload</th></tr></thead>
      <tbody>${[...data.history].reverse().map((ev) => html`<tr>
        <td>${when(ev.time)}</td><td>${ev.op} <span class="muted">#${ev.seq}</span></td><td>${ev.actor}</td>
        <td title=${ev.worktree}>${base(ev.worktree)}</td><td>${ev.stream}</td><td><code>${short(ev.head)}</code></td><td><code>${JSON.stringify(ev.payload)}</code></td></tr>`)}
      </tbody></table></section>
  </div>`
}

function GraphView({ epic, epics, tick }) {
  const chosen = epic || epics[0]?.id
  const { data, error } = useData(chosen ? `/api/graph/${encodeURIComponent(chosen)}` : undefined, tick)
  const picker = html`<label>Epic <select aria-label="Epic" value=${chosen} onChange=${(e) => (location.hash = `#/graph/${e.currentTarget.value}`)}>
    ${epics.map((e) => html`<option value=${e.id}>${e.title} (${e.id})</option>`)}</select></label>`
  if (!chosen) return html`<p>No epics yet.</p>`
  if (error) return html`<div>${picker}<${Failed} error=${error} /></div>`
  if (!data) return html`<p class="loading">Loading…</p>`
  const w = 190, hgt = 44, gx = 60, gy = 18
  const pos = new Map(data.nodes.map((n) => [n.id, { x: 10 + n.level * (w + gx), y: 10 + n.row * (hgt + gy) }]))
  const width = Math.max(...data.nodes.map((n) => pos.get(n.id).x + w + 10), 300)
  const height = Math.max(...data.nodes.map((n) => pos.get(n.id).y + hgt + 10), 100)
  const titleOf = new Map(data.nodes.map((n) => [n.id, n.title]))
  return html`<div data-view="graph">
    <div class="filters">${picker}</div>
    <div class="legend"><span class="badge ready">ready</span><span class="badge in_progress">in progress</span><span class="badge done">done</span><span class="badge blocked">blocked</span>
      <span class="chainkey">━ longest remaining chain: ${data.chain.length} (${data.chain.map((id) => titleOf.get(id)).join(" → ") || "nothing left"})</span></div>
    <svg class="graph" width=${width} height=${height} viewBox=${`0 0 ${width} ${height}`} role="img" aria-label=${`Dependency graph of ${data.epic.title}`}>
      ${data.edges.map((e) => {
        // From the prerequisite (left) to the task that depends on it (right).
        const a = pos.get(e.target), b = pos.get(e.source)
        const x1 = a.x + w, y1 = a.y + hgt / 2, x2 = b.x, y2 = b.y + hgt / 2
        return html`<path class=${e.onChain ? "chain" : ""} d=${`M${x1},${y1} C${x1 + gx / 2},${y1} ${x2 - gx / 2},${y2} ${x2},${y2}`} />`
      })}
      ${data.nodes.map((n) => {
        const p = pos.get(n.id)
        return html`<a href=${`#/task/${n.id}`} class=${`${n.state}${n.onChain ? " chain" : ""}`} data-node=${n.id} data-state=${n.state}>
          <title>${n.title} (${n.state})</title>
          <rect x=${p.x} y=${p.y} width=${w} height=${hgt} rx="6" />
          <text x=${p.x + 8} y=${p.y + 18}>${n.title.length > 24 ? `${n.title.slice(0, 23)}…` : n.title}</text>
          <text x=${p.x + 8} y=${p.y + 35} class="muted">${n.state}${n.external ? " · other epic" : ""}</text>
        </a>`
      })}
    </svg>
  </div>`
}

function WorktreesView({ tick }) {
  const { data, error } = useData("/api/worktrees", tick)
  if (error) return html`<${Failed} error=${error} />`
  if (!data) return html`<p class="loading">Loading…</p>`
  return html`<table data-view="worktrees"><thead><tr><th>worktree</th><th>branch</th><th>head</th><th>actors</th><th>claims</th><th>last activity</th><th>commits vs default</th><th>events vs default</th><th>pending conflicts</th></tr></thead>
    <tbody>${data.map((w) => html`<tr data-worktree=${w.path}>
      <td title=${w.path}>${base(w.path)}${w.current ? html` <span class="badge ready">this board</span>` : null}</td>
      <td>${w.branch ?? "(detached)"}</td><td><code>${short(w.head)}</code></td>
      <td>${w.actors.join(", ") || "-"}</td>
      <td>${w.claims.length === 0 ? "-" : w.claims.map((c) => html`<div><a href=${`#/task/${c.id}`}>${c.title}</a> (${c.owner})</div>`)}</td>
      <td>${when(w.lastActivity)}</td>
      <td>${w.commits ? `${w.commits.behind} behind, ${w.commits.ahead} ahead` : "-"}</td>
      <td>${"error" in w.sync ? w.sync.error : `${w.sync.behind} behind, ${w.sync.ahead} ahead`}</td>
      <td>${"error" in w.sync ? "-" : html`<a href="#/conflicts">${w.sync.pendingConflicts}</a>`}</td>
    </tr>`)}</tbody></table>`
}

function EventLine({ label, event }) {
  return event
    ? html`<div class="muted">${label}: ${event.op} #${event.seq} by ${event.actor} on ${event.stream} at ${base(event.worktree)} (${short(event.head)}), ${when(event.time)}</div>`
    : null
}

/**
 * A conflict's resolution, previewed (a dry run) then applied: `body(choice, dryRun)` is what is posted, `said(choice)`
 * what the board says once it is applied. Any failure is said and the view refreshed.
 */
function useResolution(c, say, refresh, body, said) {
  const [preview, setPreview] = useState(undefined)
  const resolve = async (choice, dryRun) => {
    try {
      const result = await api(`/api/conflicts/${c.id}/resolve`, body(choice, dryRun))
      if (dryRun) setPreview({ choice, result })
      else {
        say(said(choice))
        setPreview(undefined)
        refresh()
      }
    } catch (error) {
      say(explain(error), "error")
      setPreview(undefined)
      refresh()
    }
  }
  return { preview, setPreview, resolve }
}

function ConflictCard({ conflict: c, say, refresh }) {
  const { preview, setPreview, resolve } = useResolution(
    c,
    say,
    refresh,
    (use, dryRun) => ({ use, dryRun, ...(dryRun ? {} : { expect: [c.id] }) }),
    (use) => `Conflict #${c.id} resolved with ${use}.`
  )
  const side = (label, value, event) => html`<div class="side"><strong>${label}</strong><pre>${show(value)}</pre><${EventLine} label="event" event=${event} /></div>`
  return html`<article class="panel" data-conflict=${c.id}>
    <h3>#${c.id} ${c.entity.kind} <a href=${`#/task/${c.entity.id}`}>${c.entity.id}</a> · ${c.field}</h3>
    <div class="sides">${side("base", c.base, c.baseEvent)}${side("ours", c.ours, c.oursEvent)}${side("theirs", c.theirs, c.theirsEvent)}</div>
    ${c.mine
      ? html`<div class="actions">
          <button data-preview="ours" onClick=${() => resolve("ours", true)}>Preview ours</button>
          <button data-preview="theirs" onClick=${() => resolve("theirs", true)}>Preview theirs</button>
        </div>`
      : html`<p class="muted">Resolve from that worktree (${c.scope.worktree}): a resolution is written in its scope.</p>`}
    ${preview
      ? html`<div class="preview" role="region" aria-label="Resolution preview">
          <p>Resolving with <strong>${preview.choice}</strong> writes:</p>
          <ul>${preview.result.resolutions.flatMap((r) => r.writes).map((w) => html`<li><code>${w.op}</code> ${w.entity} ${w.field} = <code>${show(w.value)}</code></li>`)}</ul>
          <button class="primary" data-apply=${preview.choice} onClick=${() => resolve(preview.choice, false)}>Apply ${preview.choice}</button>
          <button onClick=${() => setPreview(undefined)}>Cancel</button>
        </div>`
      : null}
  </article>`
}

/** A cycle or an orphan (`kind: "invariant"`): what is wrong, the events behind it, and each choice in plain words. */
function InvariantCard({ conflict: c, say, refresh }) {
  const { preview, setPreview, resolve } = useResolution(
    c,
    say,
    refresh,
    (choice, dryRun) => ({ use: choice.use, dryRun }),
    (choice) => `Conflict ${c.id} resolved: ${choice.does}.`
  )
  return html`<article class="panel" data-conflict=${c.id}>
    <h3>${c.id} ${c.invariant}</h3>
    <p>${c.problem}</p>
    <ul>${c.events.map((e) => html`<li key=${e.entity}>${e.role} ${e.entity}: <${EventLine} label="event" event=${e.event} /></li>`)}</ul>
    ${c.mine
      ? html`<div class="actions">${c.choices.map((choice) => html`<button key=${choice.use} data-preview=${choice.use} title=${choice.use} onClick=${() => resolve(choice, true)}>${choice.does}</button>`)}</div>`
      : html`<p class="muted">Resolve from that worktree (${c.scope.worktree}): a resolution is written in its scope.</p>`}
    ${preview
      ? html`<div class="preview" role="region" aria-label="Resolution preview">
          <p>To <strong>${preview.choice.does}</strong>, grove writes:</p>
          <ul>${preview.result.resolutions.flatMap((r) => r.writes).map((w) => html`<li><code>${w.op}</code> ${w.entity} ${w.field} = <code>${show(w.value)}</code></li>`)}</ul>
          <button class="primary" data-apply=${preview.choice.use} onClick=${() => resolve(preview.choice, false)}>Apply</button>
          <button onClick=${() => setPreview(undefined)}>Cancel</button>
        </div>`
      : null}
  </article>`
}

function ConflictsView({ tick, say, refresh }) {
  const { data, error } = useData("/api/conflicts", tick)
  if (error) return html`<${Failed} error=${error} />`
  if (!data) return html`<p class="loading">Loading…</p>`
  if (data.length === 0) return html`<p data-view="conflicts">No pending conflicts.</p>`
  const scopes = new Map()
  for (const c of data) {
    const key = `${c.scope.branch} at ${c.scope.worktree}`
    scopes.set(key, [...(scopes.get(key) ?? []), c])
  }
  return html`<div data-view="conflicts">${[...scopes].map(([scope, list]) => html`<section>
    <h2>${scope} <span class="muted">(${list.length} pending)</span></h2>
    ${list.map((c) => html`<${c.kind === "invariant" ? InvariantCard : ConflictCard} key=${c.id} conflict=${c} say=${say} refresh=${refresh} />`)}
  </section>`)}</div>`
}

function ActivityView({ events }) {
  return html`<table data-view="activity"><thead><tr><th>time</th><th>event</th><th>entity</th><th>actor</th><th>worktree</th><th>branch</th><th>head</th></tr></thead>
    <tbody>${events.map((ev) => html`<tr key=${ev.seq} data-seq=${ev.seq}>
      <td>${when(ev.time)}</td><td>${ev.op} <span class="muted">#${ev.seq}</span></td>
      <td>${ev.entityKind === "dependency" ? ev.entityId : html`<a href=${`#/task/${ev.entityId}`}>${ev.entityId}</a>`}</td>
      <td>${ev.actor}</td><td title=${ev.worktree}>${base(ev.worktree)}</td><td>${ev.branch}</td><td><code>${short(ev.head)}</code></td></tr>`)}</tbody></table>`
}

const views = [["board", "Board"], ["graph", "Graph"], ["worktrees", "Worktrees"], ["conflicts", "Conflicts"], ["activity", "Activity"]]

function App() {
  const route = useRoute()
  const [board, setBoard] = useState(undefined)
  const [loadError, setLoadError] = useState(undefined)
  const [tick, setTick] = useState(0)
  const [events, setEvents] = useState([])
  const [connected, setConnected] = useState(false)
  const [messages, say] = useMessages()
  const [theme, setTheme] = useState(localStorage.getItem("grove-theme") ?? "")
  const pending = useRef(undefined)

  const reload = useCallback(() => api("/api/board").then(setBoard, setLoadError), [])
  // Many changes in a burst reload once.
  const refresh = useCallback(() => {
    clearTimeout(pending.current)
    pending.current = setTimeout(() => {
      reload()
      setTick((t) => t + 1)
    }, 50)
  }, [reload])

  useEffect(() => {
    // The board first; the activity list after it, so it never delays the first cards.
    reload().then(() => api("/api/events?limit=200").then((old) => setEvents((live) => [...live, ...old.filter((e) => !live.some((l) => l.seq === e.seq))])), () => {})
    // The browser reconnects by itself and sends Last-Event-ID: the board replays what the page missed.
    const source = new EventSource("/api/stream")
    source.onopen = () => setConnected(true)
    source.onerror = () => setConnected(false)
    source.addEventListener("change", (message) => {
      const update = JSON.parse(message.data)
      if (update.events.length > 0) setEvents((old) => [...[...update.events].reverse(), ...old].slice(0, 500))
      refresh()
    })
    return () => source.close()
  }, [])

  useEffect(() => {
    if (theme) document.documentElement.dataset.theme = theme
    else delete document.documentElement.dataset.theme
    localStorage.setItem("grove-theme", theme)
  }, [theme])

  useEffect(() => {
    // First data on screen: what the load benchmark and the tests wait for.
    if (board && !document.body.dataset.ready) document.body.dataset.ready = String(Math.round(performance.now()))
  }, [board])

  const onAct = useCallback(async (action, entity, to) => {
    try {
      if (action === "claim") {
        await api(`/api/entities/${entity.id}/claim`, { ifVersion: entity.version })
        say(`Claimed ${entity.id}.`)
      } else if (action === "release") {
        await api(`/api/entities/${entity.id}/release`, {})
        say(`Released ${entity.id}.`)
      } else if (action === "note") {
        await api(`/api/entities/${entity.id}/notes`, { text: to })
        say(`Note added to ${entity.id}.`)
      } else {
        await api(`/api/entities/${entity.id}/status`, { status: to, ifVersion: entity.version })
        say(`${entity.id} moved to ${statusLabel[to]}.`)
      }
    } catch (error) {
      say(explain(error), "error")
    }
    refresh()
  }, [refresh, say])

  const [view, arg] = route
  const body = loadError
    ? html`<${Failed} error=${loadError} />`
    : !board
    ? html`<p class="loading">Loading the board…</p>`
    : view === "task" ? html`<${TaskView} id=${arg} tick=${tick} onAct=${onAct} />`
    : view === "graph" ? html`<${GraphView} epic=${arg} epics=${board.epics} tick=${tick} />`
    : view === "worktrees" ? html`<${WorktreesView} tick=${tick} />`
    : view === "conflicts" ? html`<${ConflictsView} tick=${tick} say=${say} refresh=${refresh} />`
    : view === "activity" ? html`<${ActivityView} events=${events} />`
    : html`<${BoardView} data=${board} onAct=${onAct} />`
  return html`<div>
    <header>
      <h1>grove board</h1>
      <nav aria-label="Views">${views.map(([id, label]) => html`<a href=${`#/${id}`} aria-current=${view === id || (id === "board" && view === "task") ? "page" : undefined}>${label}</a>`)}</nav>
      <span class=${`live ${connected ? "on" : "off"}`} data-live=${connected ? "on" : "off"}>${connected ? "live" : "reconnecting"}</span>
      <span class="me">${board ? `${board.me.actor} · ${board.me.stream} · ${base(board.me.worktree)}` : ""}</span>
      <button aria-label="Switch light or dark theme" onClick=${() => setTheme(theme === "dark" ? "light" : theme === "light" ? "" : "dark")}>Theme: ${theme || "system"}</button>
    </header>
    <main>${body}</main>
    <div class="messages" role="status" aria-live="polite">${messages.map((m) => html`<div class=${`message ${m.kind}`}>${m.text}</div>`)}</div>
  </div>`
}

document.getElementById("app").textContent = ""
render(html`<${App} />`, document.getElementById("app"))
