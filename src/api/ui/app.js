// The Blackwell web console: plain ES module, no framework. Every value from the API reaches the page as text
// (textContent, text nodes, attribute values): nothing is parsed as HTML. Data calls carry the bearer token kept in
// sessionStorage; the API decides what a token may see.

const TOKEN_KEY = "blackwell.token";
const POLL_MS = 3000;
const PAGE_SIZES = [25, 50, 100, 200];
const STATUSES = ["healthy", "drift_detected", "reconciling", "error"];
const SEVERITIES = ["critical", "high", "medium", "low"];

const main = document.getElementById("main");
const statusLine = document.getElementById("status");
const who = document.getElementById("who");
const logoutButton = document.getElementById("logout");

// ---------------------------------------------------------------- DOM, text only

/** An element with attributes and children; strings become text nodes, never markup. */
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = String(v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

/** A link inside the console: the path segments are URI-encoded, so data cannot change where it points. */
function link(segments, text, attrs = {}) {
  return h("a", { href: `#/${segments.map(encodeURIComponent).join("/")}`, ...attrs }, text);
}

function badge(value, prefix = "s") {
  const v = value ?? "none";
  return h("span", { class: `badge ${prefix}-${String(v).replace(/[^a-z_]/g, "")}` }, String(v).replace(/_/g, " "));
}

function replace(el, ...children) {
  el.replaceChildren(...children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
}

const pct = (x) => `${(Math.round(x * 1000) / 10).toFixed(1)} %`;
const when = (iso) => {
  if (!iso) return "—";
  const t = Date.parse(iso);
  return Number.isNaN(t)
    ? String(iso)
    : new Date(t)
        .toISOString()
        .replace("T", " ")
        .replace(/\.\d+Z$/, "Z");
};
function age(iso) {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return "—";
  const s = Math.max(0, Math.round((Date.now() - t) / 1000));
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 172800) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86400)} d`;
}
const pretty = (v) => (typeof v === "string" ? v : JSON.stringify(v, null, 2));

// ---------------------------------------------------------------- API calls

const token = () => sessionStorage.getItem(TOKEN_KEY);
/** url → { etag, body } of the last 200: the next poll asks If-None-Match and a 304 reuses the body. */
const cache = new Map();
let lastFreshness = null;

async function getJSON(url) {
  const prev = cache.get(url);
  const headers = { authorization: `Bearer ${token()}`, accept: "application/json" };
  if (prev?.etag) headers["if-none-match"] = prev.etag;
  // no-store: the console does its own revalidation, so a 304 reaches this code instead of the HTTP cache.
  const res = await fetch(url, { headers, cache: "no-store" });
  const lag = res.headers.get("x-blackwell-replica-lag");
  if (lag !== null) lastFreshness = { lag: Number(lag), at: new Date() };
  if (res.status === 401) {
    signOut("The token was refused; sign in again.");
    throw new Error("unauthorized");
  }
  if (res.status === 304 && prev) return { status: 200, body: prev.body, changed: false };
  const body = await res.json().catch(() => null);
  if (res.ok) cache.set(url, { etag: res.headers.get("etag"), body });
  else cache.delete(url);
  return { status: res.status, body, changed: true };
}

async function post(url, body) {
  const res = await fetch(url, {
    method: "POST",
    headers: { authorization: `Bearer ${token()}`, "content-type": "application/json", accept: "application/json" },
    body: JSON.stringify(body),
    cache: "no-store",
  });
  const answer = await res.json().catch(() => null);
  return { status: res.status, body: answer };
}

const api = {
  fleet: (p) => `/v1/clients?${new URLSearchParams(p).toString()}`,
  stacks: (c) => `/v1/clients/${encodeURIComponent(c)}/stacks`,
  history: (c, limit) => `/v1/clients/${encodeURIComponent(c)}/history?limit=${limit}`,
  predictions: (c) => `/v1/clients/${encodeURIComponent(c)}/predictions`,
  components: (c, st) => `/v1/clients/${encodeURIComponent(c)}/stacks/${encodeURIComponent(st)}/components`,
  decision: (c, d, action) => `/v1/clients/${encodeURIComponent(c)}/drifts/${encodeURIComponent(d)}/${action}`,
  reconcile: (c) => `/v1/clients/${encodeURIComponent(c)}/reconcile`,
  reconciliation: (p) => `/v1/reconciliation?${new URLSearchParams(p).toString()}`,
  system: "/v1/system",
};

function errorText(r) {
  const e = r.body?.error;
  return e ? `${r.status} ${e.code}: ${e.message}` : `HTTP ${r.status}`;
}

// ---------------------------------------------------------------- live views

/** Fetches `load()` now and every POLL_MS; calls `render` when any answer changed (not on 304s). */
function live(load, render) {
  let alive = true;
  let timer = null;
  const tick = async () => {
    try {
      const results = await load();
      if (!alive) return;
      if (results.some((r) => r.changed)) render(results);
      showStatus(null);
    } catch (err) {
      if (alive && err.message !== "unauthorized") showStatus(`Update failed: ${err.message}; retrying`);
    }
    if (alive) timer = setTimeout(tick, POLL_MS);
  };
  void tick();
  return {
    stop() {
      alive = false;
      clearTimeout(timer);
    },
    refresh() {
      clearTimeout(timer);
      void tick();
    },
  };
}

function showStatus(problem) {
  const fresh = lastFreshness
    ? `replica lag ${lastFreshness.lag} record(s), checked ${lastFreshness.at.toLocaleTimeString()}`
    : "";
  statusLine.textContent = problem ? `${problem}. ${fresh}` : `Live: updates every ${POLL_MS / 1000} s. ${fresh}`;
}

// ---------------------------------------------------------------- pages

function loginPage(message) {
  who.textContent = "";
  logoutButton.hidden = true;
  const input = h("input", {
    id: "token",
    name: "token",
    type: "password",
    autocomplete: "off",
    required: true,
    minlength: 16,
  });
  const error = h("p", { class: "error", role: "alert" }, message ?? "");
  const form = h(
    "form",
    {
      onsubmit: async (e) => {
        e.preventDefault();
        sessionStorage.setItem(TOKEN_KEY, input.value.trim());
        cache.clear();
        try {
          const r = await getJSON(api.fleet({ limit: 1 }));
          if (r.status !== 200) throw new Error(errorText(r));
          location.hash = "#/fleet";
        } catch (err) {
          if (err.message !== "unauthorized") error.textContent = err.message;
        }
      },
    },
    h("label", { for: "token" }, "API bearer token", input),
    h("button", { class: "primary", type: "submit" }, "Sign in"),
  );
  replace(
    main,
    h(
      "section",
      { class: "panel login" },
      h("h1", {}, "Sign in"),
      h("p", { class: "muted" }, "Use a client token (one client) or an admin token (every client)."),
      form,
      error,
    ),
  );
  input.focus();
  return { stop() {} };
}

function fleetPage(query) {
  const state = {
    q: query.get("q") ?? "",
    status: query.get("status") ?? "",
    sort: query.get("sort") ?? "client_id",
    order: query.get("order") ?? "asc",
    limit: Number(query.get("limit") ?? 50),
    offset: Number(query.get("offset") ?? 0),
  };
  const params = () => {
    const p = { sort: state.sort, order: state.order, limit: String(state.limit), offset: String(state.offset) };
    if (state.q) p.q = state.q;
    if (state.status) p.status = state.status;
    return p;
  };
  const summary = h("div", { id: "fleet-summary" });
  // Its own loop: the fleet's rows never wait for Kafka's offsets.
  const systemBox = h("div", { id: "system-box" });
  const table = h("div", { id: "fleet-table" }, h("p", { class: "muted" }, "Loading the fleet…"));
  const q = h("input", { id: "f-q", type: "search", value: state.q, placeholder: "client id contains…" });
  const status = h(
    "select",
    { id: "f-status" },
    h("option", { value: "" }, "any status"),
    STATUSES.map((s) => h("option", { value: s, selected: s === state.status }, `has ${s.replace(/_/g, " ")}`)),
  );
  const size = h(
    "select",
    { id: "f-size" },
    PAGE_SIZES.map((n) => h("option", { value: n, selected: n === state.limit }, String(n))),
  );
  let view = null;
  // The system view is fleet-wide (admin tokens): after one 403 this token is not asked again.
  let systemAllowed = true;
  const system = async () => {
    if (!systemAllowed) return { status: 403, body: null, changed: false };
    const r = await getJSON(api.system);
    if (r.status === 403) systemAllowed = false;
    return r;
  };
  const restart = () => {
    history.replaceState(null, "", `#/fleet?${new URLSearchParams(params()).toString()}`);
    view?.stop();
    view = live(async () => [await getJSON(api.fleet(params()))], render);
  };
  let debounce = null;
  q.addEventListener("input", () => {
    clearTimeout(debounce);
    debounce = setTimeout(() => {
      state.q = q.value.trim().toLowerCase();
      state.offset = 0;
      restart();
    }, 250);
  });
  status.addEventListener("change", () => {
    state.status = status.value;
    state.offset = 0;
    restart();
  });
  size.addEventListener("change", () => {
    state.limit = Number(size.value);
    state.offset = 0;
    restart();
  });
  const sortBy = (key) => {
    if (state.sort === key) state.order = state.order === "asc" ? "desc" : "asc";
    else [state.sort, state.order] = [key, key === "client_id" ? "asc" : "desc"];
    restart();
  };

  function render([r]) {
    if (r.status !== 200) {
      replace(table, h("p", { class: "error", role: "alert" }, errorText(r)));
      return;
    }
    const f = r.body;
    const t = f.totals;
    replace(
      summary,
      h(
        "div",
        { class: "cards" },
        card("Fleet health", pct(t.health_score), "share of healthy stacks", "fleet-health"),
        card("State consistency", pct(t.consistency_score), "declared components verified matching"),
        card("Clients", String(f.total), "matching the filter"),
        card("Stacks", String(t.stacks), `${t.statuses.healthy} healthy · ${t.statuses.error} in error`),
        card("Open drifts", String(t.open_drifts.total), SEVERITIES.map((s) => `${t.open_drifts[s]} ${s}`).join(" · ")),
        card(
          "Replica",
          f.replica.caught_up ? "caught up" : `${f.replica.lag_records} behind`,
          `as of ${when(f.replica.as_of)}`,
        ),
      ),
    );
    const header = (key, label, num = false) =>
      h(
        "th",
        {
          scope: "col",
          class: num ? "num" : null,
          "aria-sort": state.sort === key ? (state.order === "asc" ? "ascending" : "descending") : "none",
        },
        h(
          "button",
          { type: "button", onclick: () => sortBy(key) },
          label,
          state.sort === key ? (state.order === "asc" ? " ▲" : " ▼") : "",
        ),
      );
    const rows = f.clients.map((c) =>
      h(
        "tr",
        { "data-client": c.client_id },
        h("th", { scope: "row" }, link(["clients", c.client_id], c.client_id)),
        h(
          "td",
          { class: "num", title: `${c.declared_stacks} declared, ${c.stacks} evaluated by the reconciler` },
          String(c.stacks),
          c.declared_stacks > c.stacks
            ? h("span", { class: "muted" }, ` (+${c.declared_stacks - c.stacks} not evaluated yet)`)
            : "",
        ),
        STATUSES.map((s) => h("td", { class: "num" }, String(c.statuses[s]))),
        h(
          "td",
          { class: "num" },
          String(c.open_drifts.total),
          c.open_drifts.total > 0
            ? h(
                "span",
                { class: "muted" },
                ` (${SEVERITIES.filter((s) => c.open_drifts[s] > 0)
                  .map((s) => `${c.open_drifts[s]} ${s}`)
                  .join(", ")})`,
              )
            : "",
        ),
        h("td", {}, badge(c.worst_status)),
        h("td", { class: "num" }, pct(c.health_score)),
        h("td", { class: "num" }, pct(c.consistency_score)),
      ),
    );
    const end = f.offset + f.clients.length;
    replace(
      table,
      h(
        "table",
        { id: "fleet" },
        h("caption", { class: "sr-only" }, "Clients with their stacks by status and open drifts"),
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            header("client_id", "Client"),
            header("stacks", "Stacks", true),
            STATUSES.map((s) => h("th", { scope: "col", class: "num" }, s.replace(/_/g, " "))),
            header("open_drifts", "Open drifts", true),
            header("worst_status", "Worst status"),
            header("health", "Health", true),
            header("consistency", "Consistency", true),
          ),
        ),
        h(
          "tbody",
          {},
          rows.length ? rows : h("tr", {}, h("td", { colspan: 10, class: "muted" }, "No client matches.")),
        ),
      ),
      h(
        "div",
        { class: "pager" },
        h(
          "button",
          {
            type: "button",
            disabled: f.offset === 0,
            onclick: () => {
              state.offset = Math.max(0, state.offset - state.limit);
              restart();
            },
          },
          "← Previous",
        ),
        h("span", {}, f.total === 0 ? "0 clients" : `${f.offset + 1}–${end} of ${f.total} clients`),
        h(
          "button",
          {
            type: "button",
            disabled: f.next_offset === null,
            onclick: () => {
              state.offset = f.next_offset;
              restart();
            },
          },
          "Next →",
        ),
      ),
    );
  }

  replace(
    main,
    h("h1", {}, "Fleet"),
    summary,
    systemBox,
    h(
      "form",
      { class: "filters", role: "search", onsubmit: (e) => e.preventDefault() },
      h("label", { for: "f-q" }, "Client", q),
      h("label", { for: "f-status" }, "Status", status),
      h("label", { for: "f-size" }, "Per page", size),
    ),
    table,
  );
  restart();
  const systemView = live(
    async () => [await system()],
    ([sys]) => replace(systemBox, systemPanel(sys)),
  );
  return {
    stop() {
      clearTimeout(debounce);
      view?.stop();
      systemView.stop();
    },
  };
}

/** The fleet page's system panel: alerts firing, the reconciler's lag and throughput, dead letters by reason. */
function systemPanel(sys) {
  if (sys.status === 403)
    return h("p", { class: "muted" }, "Event lag, dead letters and alerts are fleet-wide: they need an admin token.");
  if (sys.status !== 200) return h("p", { class: "error", role: "alert" }, `System view: ${errorText(sys)}`);
  const s = sys.body;
  const rate = (x) => (x === null ? "measuring…" : `${x < 10 ? x.toFixed(1) : Math.round(x)}/s`);
  const alerts = s.alerts.length
    ? h(
        "ul",
        { class: "alerts" },
        s.alerts.map((a) =>
          h(
            "li",
            { class: `alert alert-${a.severity}`, "data-alert": a.alert },
            h("strong", {}, a.alert),
            ` ${a.summary}`,
          ),
        ),
      )
    : h("p", { class: "muted", "data-alert": "none" }, "No alert firing.");
  const reasons = s.dead_letters.reasons.length
    ? h(
        "table",
        { class: "dead-letters" },
        h("caption", {}, "Dead letters by source and reason"),
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            ["Source topic", "Code", "Records", "Last", "Last message"].map((t) => h("th", { scope: "col" }, t)),
          ),
        ),
        h(
          "tbody",
          {},
          s.dead_letters.reasons.map((d) =>
            h(
              "tr",
              {},
              h("td", {}, d.source_topic),
              h("td", {}, d.code),
              h("td", { class: "num" }, String(d.count)),
              h("td", {}, when(d.last_at)),
              h("td", { class: "message" }, d.last_message),
            ),
          ),
        ),
      )
    : null;
  const window = s.reconciler.window_seconds === null ? "" : ` over ${Math.round(s.reconciler.window_seconds)} s`;
  return h(
    "section",
    { id: "system", "aria-label": "System" },
    h("h2", {}, `Alerts firing (${s.alerts.length})`),
    alerts,
    h(
      "div",
      { class: "cards" },
      card(
        "Event lag",
        `${s.reconciler.lag_records} records`,
        "input records the reconciler has not committed",
        "event-lag",
      ),
      card(
        "Throughput",
        rate(s.reconciler.processed_per_second),
        s.reconciler.processed_per_second === null
          ? "input records processed per second: needs two samples 15 s apart"
          : `processed${window} · arriving ${rate(s.reconciler.ingest_per_second)}`,
        "throughput",
      ),
      card(
        "Dead letters",
        String(s.dead_letters.total),
        s.dead_letters.in_window === null ? "held (last 30 days)" : `held · ${s.dead_letters.in_window} new${window}`,
        "dead-letters",
      ),
    ),
    reasons,
  );
}

function card(label, value, sub, id) {
  return h(
    "div",
    { class: "card", id },
    h("div", { class: "label" }, label),
    h("div", { class: "value" }, value),
    h("div", { class: "label" }, sub),
  );
}

const notVisible = () =>
  h("p", { class: "error", role: "alert" }, "Not found: no such client, or this token may not see it.");

/** The latest policy decision the history shows for a drift: its newest audit's action and reason, or a note. */
function decisionOf(events, drift_id) {
  const e = events.find((x) => x.drift_id === drift_id && (x.kind === "audit" || x.transition === "note"));
  if (!e) return "—";
  if (e.kind === "drift") return e.note ?? "note";
  return `${e.action.replace(/_/g, " ")}${e.reason ? `: ${e.reason}` : ""}`;
}

function clientPage(client) {
  const body = h("div", {}, h("p", { class: "muted" }, "Loading…"));
  replace(main, body);
  const render = ([stacks, hist, predicted, ...components]) => {
    if (stacks.status === 404 || hist.status === 404) return replace(body, h("h1", {}, "Client"), notVisible());
    if (stacks.status !== 200) return replace(body, h("p", { class: "error" }, errorText(stacks)));
    const events = hist.status === 200 ? hist.body.events : [];
    const list = stacks.body.stacks;
    const healthy = list.filter((s) => s.status === "healthy").length;
    replace(
      body,
      h("p", {}, link(["fleet"], "← Fleet")),
      h("h1", { id: "client-title" }, `Client ${stacks.body.client_id}`),
      h(
        "div",
        { class: "cards" },
        card("Stacks", String(list.length), `${healthy} healthy`),
        card(
          "State consistency",
          pct(
            list.length === 0
              ? 1
              : list.reduce((n, s) => n + (s.consistency_score ?? (s.status === "healthy" ? 1 : 0)), 0) / list.length,
          ),
          "declared components verified matching",
        ),
        card("Open drifts", String(list.reduce((n, s) => n + s.drift_details.length, 0)), "across the stacks"),
        card(
          "Replica",
          stacks.body.replica.caught_up ? "caught up" : `${stacks.body.replica.lag_records} behind`,
          `as of ${when(stacks.body.replica.as_of)}`,
        ),
      ),
      list.map((s) =>
        stackPanel(client, s, events, components.find((c) => c.status === 200 && c.body.stack_id === s.stack_id)?.body),
      ),
      h("h2", {}, "Predicted drifts"),
      predictionsTable(predicted.status === 200 ? predicted.body.predictions : null),
      h("h2", {}, "Timeline"),
      timeline(client, events),
    );
  };
  return live(async () => {
    const [stacks, hist, predicted] = await Promise.all([
      getJSON(api.stacks(client)),
      getJSON(api.history(client, 200)),
      getJSON(api.predictions(client)),
    ]);
    const names = stacks.status === 200 ? stacks.body.stacks.map((st) => st.stack_id) : [];
    const components = await Promise.all(names.map((st) => getJSON(api.components(client, st))));
    return [stacks, hist, predicted, ...components];
  }, render);
}

/** The drifts the predictor expects (open predictions), soonest first. */
function predictionsTable(predictions) {
  if (predictions === null) return h("p", { class: "muted" }, "Predictions not available.");
  if (predictions.length === 0) return h("p", { class: "muted" }, "No drift predicted.");
  const soonest = [...predictions].sort((a, b) => (a.expected_at < b.expected_at ? -1 : 1));
  return h(
    "table",
    { class: "predictions" },
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        ["Stack", "Expected drift", "Expected", "Confidence", "Why"].map((x) => h("th", { scope: "col" }, x)),
      ),
    ),
    h(
      "tbody",
      {},
      soonest.map((p) =>
        h(
          "tr",
          { "data-prediction": p.drift_id },
          h("td", {}, p.stack_id),
          h("td", {}, `${p.kind} on ${p.component}`),
          h("td", { title: p.expected_at }, when(p.expected_at)),
          h("td", {}, `${Math.round(p.confidence * 100)}%${p.preempted ? " (heal started early)" : ""}`),
          h("td", {}, `${p.precursor}: ${p.evidence}`),
        ),
      ),
    ),
  );
}

/** Each declared component: what the desired state says, and whether it was verified matching at last_verified. */
function componentsTable(client, c) {
  if (!c) return h("p", { class: "muted" }, "Declared components not available.");
  if (c.components.length === 0) return h("p", { class: "muted" }, "This stack declares no component.");
  const verified = c.last_verified ? `verified ${when(c.last_verified)}` : "not evaluated yet";
  return h(
    "table",
    { class: "components" },
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        ["Component", "Kind", "Desired", "Observed", "Last observed"].map((x) => h("th", { scope: "col" }, x)),
      ),
    ),
    h(
      "tbody",
      {},
      c.components.map((x) =>
        h(
          "tr",
          { "data-component": `${x.kind}:${x.name}` },
          h("th", { scope: "row" }, x.name),
          h("td", {}, x.kind),
          h("td", {}, h("code", {}, typeof x.desired === "string" ? x.desired : JSON.stringify(x.desired))),
          h(
            "td",
            {},
            x.matching
              ? `matching (${verified})`
              : h(
                  "span",
                  {},
                  "drift: ",
                  x.drift_ids.map((d) => link(["clients", client, "drifts", d], d)),
                ),
          ),
          h("td", { class: "observed-at" }, x.observed_at ? when(x.observed_at) : "never"),
        ),
      ),
    ),
  );
}

function stackPanel(client, s, events, components) {
  const policy = s.reconciliation_policy ?? {};
  const resources = Object.entries(s.resources ?? {});
  return h(
    "section",
    { class: "panel", "data-stack": s.stack_id },
    h("h2", {}, `Stack ${s.stack_id} `, badge(s.status)),
    h(
      "div",
      { class: "two" },
      h(
        "dl",
        { class: "facts" },
        fact("Desired version", s.state_version),
        fact("Observed version", s.observed_state_version),
        fact("Desired hash", h("code", {}, s.desired_hash)),
        fact("Observed hash", h("code", {}, s.observed_hash)),
        fact("Applied hash", h("code", {}, s.applied_hash ?? "—")),
        fact("Last applied", when(s.last_applied)),
        fact("Last verified", when(s.last_verified)),
        fact("Updated", when(s.updated_at)),
      ),
      h(
        "dl",
        { class: "facts" },
        fact("Auto-heal", policy.auto_heal ? "on" : "off"),
        fact("Max heal attempts", policy.max_heal_attempts ?? "—"),
        fact("Backoff", policy.heal_backoff ?? "—"),
        fact("Needs approval", (policy.require_approval ?? []).join(", ") || "—"),
        fact("Alert channels", (s.observability?.alert_channels ?? []).join(", ") || "—"),
      ),
    ),
    h("h3", {}, "Components (desired vs observed)"),
    componentsTable(client, components),
    h("h3", {}, "Resources (observed)"),
    resources.length
      ? h(
          "table",
          {},
          h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Resource"), h("th", { scope: "col" }, "Observed"))),
          h(
            "tbody",
            {},
            resources.map(([k, v]) => h("tr", {}, h("th", { scope: "row" }, k), h("td", {}, h("code", {}, v)))),
          ),
        )
      : h("p", { class: "muted" }, "No resource reported yet."),
    h("h3", {}, "Open drifts"),
    s.drift_details.length
      ? h(
          "table",
          { class: "drifts" },
          h(
            "thead",
            {},
            h(
              "tr",
              {},
              ["Drift", "Type", "Component", "Severity", "Confidence", "Age", "Acknowledged", "Policy decision"].map(
                (x) => h("th", { scope: "col" }, x),
              ),
            ),
          ),
          h(
            "tbody",
            {},
            s.drift_details.map((d) =>
              h(
                "tr",
                { "data-drift": d.drift_id },
                h("td", {}, link(["clients", client, "drifts", d.drift_id], d.drift_id)),
                h("td", {}, d.type),
                h("td", {}, d.component),
                h("td", {}, badge(d.severity, "sev")),
                h("td", {}, confidenceText(d.confidence)),
                h("td", { title: when(d.detected_at) }, age(d.detected_at)),
                h("td", {}, d.acknowledged ? "yes" : "no"),
                h("td", {}, decisionOf(events, d.drift_id)),
              ),
            ),
          ),
        )
      : h("p", { class: "muted" }, "No open drift."),
  );
}

/** A drift's confidence as a percentage; "—" for drifts recorded before confidence existed. */
function confidenceText(confidence) {
  return typeof confidence === "number" ? `${Math.round(confidence * 100)}%` : "—";
}

function fact(label, value) {
  return [h("dt", {}, label), h("dd", {}, value ?? "—")];
}

function timeline(client, events) {
  if (!events.length) return h("p", { class: "muted" }, "No history yet.");
  return h(
    "table",
    { class: "timeline" },
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        ["When", "Stack", "Event", "Drift", "By", "Details"].map((x) => h("th", { scope: "col" }, x)),
      ),
    ),
    h(
      "tbody",
      {},
      events.map((e) =>
        h(
          "tr",
          { "data-kind": e.kind },
          h("td", {}, when(e.at)),
          h("td", {}, e.stack_id ?? "—"),
          h("td", {}, eventLabel(e)),
          h(
            "td",
            {},
            e.drift_id ? link(["clients", client, "drifts", e.drift_id], e.drift_id.slice(0, 14) + "…") : "—",
          ),
          h("td", {}, e.kind === "audit" ? (e.approver ?? e.triggered_by ?? "—") : "reconciler"),
          h("td", {}, eventDetails(e)),
        ),
      ),
    ),
  );
}

function eventLabel(e) {
  if (e.kind === "drift") return [`drift ${e.transition} `, badge(e.severity, "sev")];
  return [e.action.replace(/_/g, " "), e.success === false ? " (failed)" : ""];
}

function eventDetails(e) {
  if (e.kind === "drift") return [e.drift_type, " ", e.component, e.note ? ` — ${e.note}` : ""];
  const builds = buildIds(e.changes_made);
  return [e.reason ?? "", builds.length ? h("div", {}, "CodeBuild: ", h("code", {}, builds.join(", "))) : ""];
}

/** CodeBuild build ids anywhere in an audit's changes (`build_id`, or an id like `project:uuid`). */
function buildIds(value, out = []) {
  if (value && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) {
      if (/^build_?id$/i.test(k) && typeof v === "string") out.push(v);
      else buildIds(v, out);
    }
  }
  return [...new Set(out)];
}

// ---------------------------------------------------------------- drift detail

/** Where `expected` and `observed` differ, as JSONPath-like paths. */
export function diff(expected, observed, path = "$", out = []) {
  const isObj = (v) => v !== null && typeof v === "object" && !Array.isArray(v);
  if (isObj(expected) && isObj(observed)) {
    const keys = [...new Set([...Object.keys(expected), ...Object.keys(observed)])].sort();
    for (const k of keys) {
      const p = /^[A-Za-z_$][\w$]*$/.test(k) ? `${path}.${k}` : `${path}[${JSON.stringify(k)}]`;
      if (!(k in observed)) out.push({ path: p, kind: "missing", expected: expected[k] });
      else if (!(k in expected)) out.push({ path: p, kind: "added", observed: observed[k] });
      else diff(expected[k], observed[k], p, out);
    }
  } else if (Array.isArray(expected) && Array.isArray(observed)) {
    for (let i = 0; i < Math.max(expected.length, observed.length); i++) {
      const p = `${path}[${i}]`;
      if (i >= observed.length) out.push({ path: p, kind: "missing", expected: expected[i] });
      else if (i >= expected.length) out.push({ path: p, kind: "added", observed: observed[i] });
      else diff(expected[i], observed[i], p, out);
    }
  } else if (JSON.stringify(expected) !== JSON.stringify(observed)) {
    out.push({ path, kind: "changed", expected, observed });
  }
  return out;
}

function driftPage(client, driftId) {
  const body = h("div", {}, h("p", { class: "muted" }, "Loading…"));
  const answer = h("div", { id: "answer", role: "status", "aria-live": "polite" });
  const reason = h("input", { id: "reason", type: "text", maxlength: 1000, placeholder: "optional, for the audit" });
  let current = null;
  let view = null;
  const act = async (label, url, payload) => {
    for (const b of main.querySelectorAll(".actions button")) b.disabled = true;
    replace(answer, h("p", { class: "muted" }, `${label}: waiting for the reconciler…`));
    try {
      const r = await post(url, payload);
      const ok = r.status >= 200 && r.status < 300;
      let message;
      if (r.body?.error) message = `${r.body.error.code}: ${r.body.error.message}`;
      else if (r.body?.audit)
        message = `${r.body.status}: ${r.body.audit.action}${r.body.audit.reason ? ` — ${r.body.audit.reason}` : ""}`;
      else if (r.body?.reconciliation_id)
        message = `${r.body.status}: ${r.body.drift_count} drift(s), pass ${r.body.reconciliation_id}`;
      else message = r.body?.status ?? "";
      replace(
        answer,
        h(
          "div",
          { class: `answer ${ok ? "ok" : "fail"}` },
          h("strong", { class: "answer-status" }, `${label} → HTTP ${r.status}`),
          " ",
          h("span", { class: "answer-message" }, message),
          h("details", {}, h("summary", {}, "Full answer"), h("pre", {}, pretty(r.body))),
        ),
      );
    } catch (err) {
      replace(answer, h("div", { class: "answer fail" }, `${label} failed: ${err.message}`));
    }
    for (const b of main.querySelectorAll(".actions button")) b.disabled = false;
    view?.refresh();
  };
  const decide = (action) => () =>
    act(action, api.decision(client, driftId, action), reason.value ? { reason: reason.value } : {});
  const actions = h(
    "section",
    { class: "panel", "aria-labelledby": "ops" },
    h("h2", { id: "ops" }, "Operator actions"),
    h(
      "div",
      { class: "actions" },
      h("label", { for: "reason" }, "Reason", reason),
      h("button", { type: "button", id: "act-acknowledge", onclick: decide("acknowledge") }, "Acknowledge"),
      h("button", { type: "button", id: "act-approve", class: "primary", onclick: decide("approve") }, "Approve heal"),
      h("button", { type: "button", id: "act-reject", onclick: decide("reject") }, "Reject heal"),
      h(
        "button",
        {
          type: "button",
          id: "act-reconcile",
          onclick: () => {
            const payload = current?.stack_id ? { stack_id: current.stack_id } : {};
            if (reason.value) payload.reason = reason.value;
            return act("reconcile", api.reconcile(client), payload);
          },
        },
        "Reconcile stack",
      ),
    ),
    answer,
  );
  replace(main, body);

  const render = ([stacks, hist]) => {
    if (stacks.status === 404 || hist.status === 404) return replace(body, h("h1", {}, "Drift"), notVisible());
    if (stacks.status !== 200) return replace(body, h("p", { class: "error" }, errorText(stacks)));
    const events = hist.status === 200 ? hist.body.events : [];
    const mine = events.filter((e) => e.drift_id === driftId);
    let open = null;
    for (const s of stacks.body.stacks)
      for (const d of s.drift_details) if (d.drift_id === driftId) open = { ...d, stack_id: s.stack_id };
    const first = mine.findLast((e) => e.kind === "drift");
    const latest = mine.find((e) => e.kind === "drift");
    current = open ?? (first ? { ...first, type: first.drift_type } : null);
    if (!current) return replace(body, h("h1", {}, "Drift"), notVisible());
    const expected = open ? open.expected : (latest?.expected ?? first.expected);
    const observed = open ? open.observed : (latest?.observed ?? first.observed);
    const changes = diff(expected, observed);
    replace(
      body,
      h("p", {}, link(["clients", client], `← Client ${client}`)),
      h("h1", {}, "Drift ", h("code", {}, driftId), " ", open ? badge("open", "s") : badge("resolved", "s")),
      h(
        "dl",
        { class: "facts" },
        fact("Stack", current.stack_id),
        fact("Type", current.type),
        fact("Component", current.component),
        fact("Severity", badge(current.severity, "sev")),
        fact("Confidence", confidenceText(open ? open.confidence : latest?.confidence)),
        fact("Detected", `${when(current.detected_at ?? first?.at)} (${age(current.detected_at ?? first?.at)} ago)`),
        fact("Acknowledged", open ? (open.acknowledged ? "yes" : "no") : "—"),
        fact("Policy decision", decisionOf(events, driftId)),
      ),
      actions,
      h(
        "section",
        { class: "panel" },
        h("h2", {}, "Expected vs observed"),
        changes.length
          ? h(
              "table",
              { id: "diff" },
              h(
                "thead",
                {},
                h(
                  "tr",
                  {},
                  ["Path", "Difference", "Expected", "Observed"].map((x) => h("th", { scope: "col" }, x)),
                ),
              ),
              h(
                "tbody",
                {},
                changes.map((c) =>
                  h(
                    "tr",
                    { class: `diff-${c.kind}` },
                    h("td", {}, h("code", {}, c.path)),
                    h("td", {}, c.kind),
                    h("td", {}, "expected" in c ? h("pre", {}, pretty(c.expected)) : "—"),
                    h("td", {}, "observed" in c ? h("pre", {}, pretty(c.observed)) : "—"),
                  ),
                ),
              ),
            )
          : h("p", { class: "muted" }, "Expected and observed are equal."),
        h(
          "details",
          {},
          h("summary", {}, "Raw values"),
          h(
            "div",
            { class: "two" },
            h("div", {}, h("h3", {}, "Expected"), h("pre", {}, pretty(expected))),
            h("div", {}, h("h3", {}, "Observed"), h("pre", {}, pretty(observed))),
          ),
        ),
      ),
      h("h2", {}, "Transitions and audit"),
      mine.length ? timeline(client, mine) : h("p", { class: "muted" }, "Nothing recorded yet."),
    );
  };
  view = live(async () => Promise.all([getJSON(api.stacks(client)), getJSON(api.history(client, 500))]), render);
  return view;
}

// ---------------------------------------------------------------- routing

// ---------------------------------------------------------------- reconciliation

const WINDOWS = ["1h", "6h", "24h", "7d"];
const SVG_NS = "http://www.w3.org/2000/svg";

/** An SVG element; attribute values and text are set as values, never parsed as markup. */
function svg(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs ?? {})) el.setAttribute(k, String(v));
  for (const c of children.flat(Infinity))
    if (c !== null && c !== undefined) el.append(c instanceof Node ? c : String(c));
  return el;
}

/** Seconds as a short duration. */
function duration(s) {
  if (s === null || s === undefined) return "—";
  if (s < 120) return `${Math.round(s)} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 172800) return `${(s / 3600).toFixed(1)} h`;
  return `${(s / 86400).toFixed(1)} d`;
}

/** Opened vs resolved per bucket, as paired bars in an inline SVG (scaled to the largest count). */
function bucketChart(buckets, bucketSeconds) {
  const W = 24 * Math.max(1, buckets.length);
  const H = 120;
  const top = Math.max(1, ...buckets.map((b) => Math.max(b.opened, b.resolved)));
  const bar = (i, n, offset, cls, label) => {
    const height = (n / top) * (H - 4);
    return svg(
      "rect",
      { class: cls, x: i * 24 + offset, y: H - height, width: 9, height: Math.max(height, n > 0 ? 1 : 0) },
      svg("title", {}, label),
    );
  };
  const chart = svg(
    "svg",
    {
      class: "chart",
      viewBox: `0 0 ${W} ${H + 1}`,
      preserveAspectRatio: "none",
      role: "img",
      "aria-label": `Drifts opened and resolved per ${duration(bucketSeconds)}; highest bar ${top}`,
    },
    svg("line", { class: "axis", x1: 0, y1: H + 0.5, x2: W, y2: H + 0.5 }),
    buckets.map((b, i) => [
      bar(i, b.opened, 2, "opened", `${when(b.start)}: ${b.opened} opened`),
      bar(i, b.resolved, 12, "resolved", `${when(b.start)}: ${b.resolved} resolved`),
    ]),
  );
  const first = buckets[0]?.start;
  const last = buckets[buckets.length - 1]?.start;
  return h(
    "figure",
    { class: "chart-box", id: "recon-chart" },
    h(
      "figcaption",
      {},
      h("span", { class: "key opened" }, "opened"),
      " ",
      h("span", { class: "key resolved" }, "resolved"),
      ` · max ${top} per ${duration(bucketSeconds)}`,
    ),
    chart,
    h(
      "div",
      { class: "chart-axis muted" },
      h("span", {}, when(first)),
      h("span", {}, `${when(last)} (+${duration(bucketSeconds)})`),
    ),
  );
}

function reconciliationPage(query) {
  const state = {
    window: WINDOWS.includes(query.get("window")) ? query.get("window") : "24h",
    client: query.get("client") ?? "",
  };
  let admin = state.client !== "";
  const params = () => (state.client ? { window: state.window, client: state.client } : { window: state.window });
  const body = h("div", { id: "recon" }, h("p", { class: "muted" }, "Loading…"));
  const windowSelect = h(
    "select",
    { id: "r-window" },
    WINDOWS.map((w) => h("option", { value: w, selected: w === state.window }, w)),
  );
  const clientInput = h("input", {
    id: "r-client",
    type: "search",
    value: state.client,
    placeholder: "every client",
    pattern: "[a-z0-9][a-z0-9._\\-]{0,62}",
  });
  const clientFilter = h("label", { for: "r-client", hidden: !admin }, "Client", clientInput);
  let view = null;
  const restart = () => {
    history.replaceState(null, "", `#/reconciliation?${new URLSearchParams(params()).toString()}`);
    view?.stop();
    view = live(async () => [await getJSON(api.reconciliation(params()))], render);
  };
  windowSelect.addEventListener("change", () => {
    state.window = windowSelect.value;
    restart();
  });
  let debounce = null;
  clientInput.addEventListener("input", () => {
    clearTimeout(debounce);
    debounce = setTimeout(() => {
      const v = clientInput.value.trim().toLowerCase();
      if (v !== "" && !clientInput.checkValidity()) return;
      state.client = v;
      restart();
    }, 400);
  });

  function render([r]) {
    if (r.status === 404) {
      replace(body, notVisible());
      return;
    }
    if (r.status !== 200) {
      replace(body, h("p", { class: "error", role: "alert" }, errorText(r)));
      return;
    }
    const x = r.body;
    // Only an admin token is answered for the whole fleet (client null): it gets the client filter.
    if (x.client === null) admin = true;
    clientFilter.hidden = !admin;
    const ttr = x.time_to_resolve;
    const opened = x.buckets.reduce((n, b) => n + b.opened, 0);
    const resolved = x.buckets.reduce((n, b) => n + b.resolved, 0);
    replace(
      body,
      h(
        "div",
        { class: "cards" },
        card(
          "Heal success rate",
          x.heals.success_rate === null ? "—" : pct(x.heals.success_rate),
          "heals finished in the window",
          "recon-rate",
        ),
        card("Heals", `${x.heals.succeeded} / ${x.heals.failed}`, "succeeded / failed", "recon-heals"),
        card("Time to resolve p50", duration(ttr.p50), `${ttr.count} drift(s) resolved`, "recon-p50"),
        card("p90 / p99", `${duration(ttr.p90)} / ${duration(ttr.p99)}`, "time to resolve", "recon-p90"),
        card("Open drifts", String(x.open_drifts), "now", "recon-open"),
        card("Detected / resolved", `${opened} / ${resolved}`, `in the last ${x.window}`, "recon-trend"),
      ),
      h(
        "h2",
        {},
        `Drifts opened and resolved, ${when(x.from)} – ${when(x.to)}`,
        x.client ? ` · ${x.client}` : " · all clients",
      ),
      bucketChart(x.buckets, x.bucket_seconds),
    );
  }

  replace(
    main,
    h("h1", {}, "Reconciliation"),
    h(
      "form",
      { class: "filters", onsubmit: (e) => e.preventDefault() },
      h("label", { for: "r-window" }, "Window", windowSelect),
      clientFilter,
    ),
    body,
  );
  restart();
  return {
    stop() {
      clearTimeout(debounce);
      view?.stop();
    },
  };
}

let currentView = null;

function signOut(message) {
  sessionStorage.removeItem(TOKEN_KEY);
  cache.clear();
  currentView?.stop();
  currentView = null;
  if (location.hash !== "#/login") history.replaceState(null, "", "#/login");
  currentView = loginPage(message);
}

function route() {
  currentView?.stop();
  currentView = null;
  const [path, search] = location.hash.replace(/^#/, "").split("?");
  const parts = (path ?? "").split("/").filter(Boolean).map(decodeURIComponent);
  if (!token()) {
    if (parts[0] !== "login") history.replaceState(null, "", "#/login");
    currentView = loginPage();
    return;
  }
  who.textContent = `Signed in · token …${token().slice(-4)}`;
  logoutButton.hidden = false;
  if (parts[0] === "clients" && parts.length === 2) currentView = clientPage(parts[1]);
  else if (parts[0] === "clients" && parts[2] === "drifts" && parts.length === 4)
    currentView = driftPage(parts[1], parts[3]);
  else if (parts[0] === "fleet") currentView = fleetPage(new URLSearchParams(search ?? ""));
  else if (parts[0] === "reconciliation") currentView = reconciliationPage(new URLSearchParams(search ?? ""));
  else {
    location.hash = "#/fleet";
    return;
  }
  main.focus({ preventScroll: true });
}

logoutButton.addEventListener("click", () => signOut("Signed out."));
window.addEventListener("hashchange", route);
route();
