// The mock's dashboard: polls the control API of the server that served it (same origin).
// No framework, no build step. Everything shown is set as text, never parsed as HTML.
"use strict";

(() => {
  const $ = (selector) => document.querySelector(selector);
  const body = document.body;
  const state = {
    project: Number(body.dataset.project),
    generation: null,
    since: null,
    paused: false,
    journal: [],
    deliveries: null,
    clock: null,
    clockRead: 0,
    webhooks: false,
  };

  // The control token, when the mock has one: given as /__mock__/#token=... (a fragment never
  // reaches the server), kept for this tab, and dropped from the address bar.
  const TOKEN_KEY = "xsolla-mock-token";
  function readToken() {
    const match = /(?:^#|&)token=([^&]+)/.exec(location.hash);
    if (match) {
      sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(match[1]));
      history.replaceState(null, "", location.pathname + location.search);
    }
    return sessionStorage.getItem(TOKEN_KEY);
  }
  let token = readToken();

  class ControlError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  async function control(method, path, payload) {
    const headers = { Accept: "application/json" };
    if (token) headers.Authorization = `Bearer ${token}`;
    const init = { method, headers, credentials: "same-origin", cache: "no-store" };
    if (payload !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(payload);
    }
    const response = await fetch(new URL(path, location.href), init);
    const text = await response.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch (_) {
      data = null;
    }
    if (!response.ok) {
      throw new ControlError(response.status, (data && data.errorMessage) || text || response.statusText);
    }
    return data;
  }

  function say(message) {
    $("#status").textContent = message;
  }

  function fail(error) {
    const box = $("#error");
    box.textContent = error instanceof ControlError ? `${error.status}: ${error.message}` : String(error);
    box.hidden = false;
  }

  function clearError() {
    $("#error").hidden = true;
    $("#error").textContent = "";
  }

  // --------------------------------------------------------------- tables

  function cell(row, value, options = {}) {
    const td = document.createElement(options.header ? "th" : "td");
    if (options.header) td.scope = "row";
    if (value instanceof Node) td.append(value);
    else td.textContent = value === null || value === undefined || value === "" ? "—" : String(value);
    if (options.className) td.className = options.className;
    if (options.field) td.dataset.field = options.field;
    row.append(td);
    return td;
  }

  function fill(tableId, rows, build) {
    const tbody = document.querySelector(`#${tableId} tbody`);
    const fresh = document.createElement("tbody");
    for (const row of rows) {
      const tr = document.createElement("tr");
      build(tr, row);
      fresh.append(tr);
    }
    tbody.replaceWith(fresh);
  }

  function yesNo(value) {
    return value ? "yes" : "no";
  }

  function limitsText(limits) {
    if (!limits || typeof limits !== "object") return "";
    return Object.entries(limits)
      .map(([k, v]) => `${k.replace(/^redeem_|_limit$/g, "")}: ${typeof v === "object" ? JSON.stringify(v) : v}`)
      .join(", ");
  }

  function counted(name, data) {
    const shown = (data[name] || []).length;
    const total = data[`${name}_total`] ?? shown;
    document.querySelector(`[data-count="${name}"]`).textContent =
      shown < total ? `(${shown} of ${total})` : `(${total})`;
  }

  // -------------------------------------------------------------- store

  function renderStore(data) {
    $("#store-project").textContent = `project ${data.project_id}`;
    for (const name of ["orders", "items", "promotions", "codes", "chains"]) counted(name, data);
    fill("orders", data.orders, (tr, o) => {
      tr.dataset.order = o.order_id;
      tr.dataset.status = o.status;
      cell(tr, o.order_id, { header: true });
      const status = document.createElement("span");
      status.className = `pill status-${o.status}`;
      status.textContent = o.status + (o.sandbox ? " (sandbox)" : "");
      cell(tr, status, { field: "status" });
      cell(tr, o.user);
      cell(tr, (o.items || []).join(", "));
      cell(tr, o.total, { className: "num" });
      cell(tr, o.invoice_id);
      cell(tr, (o.created || "").replace("T", " ").replace("+00:00", ""));
      if (o.token) {
        const link = document.createElement("a");
        link.href = `/paystation4/?token=${encodeURIComponent(o.token)}`;
        link.target = "_blank";
        link.rel = "noopener";
        link.textContent = "Open";
        link.setAttribute("aria-label", `Open the payment page of order ${o.order_id} in a new tab`);
        cell(tr, link);
      } else cell(tr, "");
    });
    fill("items", data.items, (tr, i) => {
      cell(tr, i.sku, { header: true });
      cell(tr, i.name);
      cell(tr, i.type);
      cell(tr, i.is_free ? "free" : [i.price, ...(i.virtual_prices || [])].filter(Boolean).join(" / "), {
        className: "num",
      });
      cell(tr, (i.groups || []).join(", "));
      cell(tr, yesNo(i.is_enabled));
    });
    fill("promotions", data.promotions, (tr, p) => {
      cell(tr, p.id, { header: true });
      cell(tr, p.kind);
      cell(tr, p.external_id ? `${p.name} (${p.external_id})` : p.name);
      cell(tr, p.benefit || (p.items || []).join(", "));
      cell(tr, limitsText(p.limits));
      cell(tr, yesNo(p.active_now));
    });
    fill("codes", data.codes, (tr, c) => {
      cell(tr, c.code, { header: true });
      cell(tr, c.kind);
      cell(tr, c.promotion);
      cell(tr, c.used, { className: "num" });
      cell(tr, c.code_limit, { className: "num" });
      cell(tr, c.user_limit, { className: "num" });
      cell(tr, c.total_limit, { className: "num" });
      if (c.code_limit && c.used >= c.code_limit) tr.classList.add("spent");
    });
    fill("chains", data.chains, (tr, c) => {
      cell(tr, c.id, { header: true });
      cell(tr, c.kind);
      cell(tr, c.name);
      cell(tr, c.steps, { className: "num" });
      cell(tr, yesNo(c.is_enabled));
    });
  }

  async function refreshStore(force = false) {
    const query = !force && state.generation !== null ? `?generation=${state.generation}` : "";
    const data = await control("GET", `projects/${state.project}${query}`);
    state.generation = data.generation;
    if (data.changed) renderStore(data);
  }

  async function refreshProjects() {
    const data = await control("GET", "projects");
    const select = $("#project");
    const current = String(state.project);
    const options = data.projects.map(String);
    if (options.join() === [...select.options].map((o) => o.value).join()) return;
    select.replaceChildren(
      ...options.map((p) => {
        const option = document.createElement("option");
        option.value = p;
        option.textContent = p === String(data.default) ? `${p} (default)` : p;
        option.selected = p === current;
        return option;
      }),
    );
  }

  // ------------------------------------------------------------ journal

  function projectOf(entry) {
    const match = /\/project\/(\d+)(?:\/|$)/.exec(entry.path || "");
    return match ? Number(match[1]) : null;
  }

  function shownEntries() {
    const onlyViolations = $("#only-violations").checked;
    const allProjects = $("#all-projects").checked;
    return state.journal.filter((e) => {
      const violations = e.request_violations.length + e.response_violations.length;
      if (onlyViolations && !violations) return false;
      const project = projectOf(e);
      return allProjects || project === null || project === state.project;
    });
  }

  function time(epochSeconds) {
    return new Date(epochSeconds * 1000).toLocaleTimeString([], { hour12: false });
  }

  function renderJournal() {
    const entries = shownEntries().slice().reverse();
    fill("requests", entries, (tr, e) => {
      const violations = [...e.request_violations, ...e.response_violations];
      tr.dataset.transaction = e.transaction_id;
      tr.dataset.operation = e.operation || "";
      tr.dataset.status = e.status;
      if (violations.length) tr.classList.add("violation");
      if (e.status >= 500) tr.classList.add("server-error");
      cell(tr, time(e.time));
      const query = (e.query || []).map(([k, v]) => `${k}=${v}`).join("&");
      cell(tr, `${e.method} ${e.path}${query ? `?${query}` : ""}`, { header: true, className: "path" });
      cell(tr, e.operation || "no operation", { field: "operation" });
      const status = document.createElement("span");
      status.className = `pill http-${String(e.status)[0]}xx`;
      status.textContent = e.status;
      cell(tr, status, { field: "status" });
      cell(tr, e.user);
      if (violations.length) {
        const details = document.createElement("details");
        const summary = document.createElement("summary");
        summary.textContent = `⚠ ${violations.length} violation${violations.length === 1 ? "" : "s"}`;
        const list = document.createElement("ul");
        for (const [where, items] of [
          ["request", e.request_violations],
          ["response", e.response_violations],
        ]) {
          for (const text of items) {
            const li = document.createElement("li");
            li.textContent = `${where}: ${text}`;
            list.append(li);
          }
        }
        details.append(summary, list);
        cell(tr, details, { field: "violations" });
      } else cell(tr, "none", { field: "violations", className: "muted" });
    });
    $("#journal-count").textContent = `${entries.length} shown`;
  }

  async function refreshJournal() {
    const query = state.since !== null ? `?since=${state.since}` : "";
    const data = await control("GET", `requests${query}`);
    if (!data.requests.length) return;
    state.journal.push(...data.requests);
    state.journal = state.journal.slice(-500);
    state.since = state.journal[state.journal.length - 1].time;
    renderJournal();
  }

  // ----------------------------------------------------------- webhooks

  function clockTime(iso) {
    return iso ? iso.replace("T", " ").replace(/(\.\d+)?(\+00:00|Z)$/, "") : "";
  }

  // One row per attempt (GET /__mock__/webhooks: `webhooks`) and one per delivery still waiting
  // for its time (`pending`), newest first.
  function renderDeliveries(data) {
    const waiting = (data.pending || []).map((p) => ({ ...p, outcome: "waiting", next_attempt_at: p.due }));
    const rows = [...(data.webhooks || []), ...waiting].sort((a, b) =>
      `${a.time || a.due}` < `${b.time || b.due}` ? -1 : 1,
    );
    fill("deliveries", rows.reverse(), (tr, d) => {
      const answer = d.answer || {};
      tr.dataset.event = d.event;
      tr.dataset.delivery = d.id;
      tr.dataset.outcome = d.outcome;
      tr.classList.add(`outcome-${d.outcome.replace(/\s+/g, "-")}`);
      cell(tr, clockTime(d.time), { field: "time" });
      cell(tr, d.event, { header: true, field: "event" });
      cell(tr, d.order_id, { field: "order" });
      cell(tr, d.attempt, { className: "num", field: "attempt" });
      const shown = answer.status ? `${answer.status}${answer.body ? ` ${answer.body}` : ""}` : d.error;
      cell(tr, shown || (d.outcome === "waiting" ? "not sent yet" : ""), { field: "answer" });
      const outcome = document.createElement("span");
      outcome.className = `pill webhook-${d.outcome.replace(/\s+/g, "-")}`;
      outcome.textContent = d.outcome + ((d.violations || []).length ? " ⚠" : "");
      if ((d.violations || []).length) outcome.title = d.violations.join("\n");
      cell(tr, outcome, { field: "outcome" });
      cell(tr, clockTime(d.next_attempt_at), { field: "next" });
      const details = document.createElement("details");
      const summary = document.createElement("summary");
      summary.textContent = "Body";
      const pre = document.createElement("pre");
      pre.textContent = JSON.stringify(d.body, null, 2);
      details.append(summary, pre);
      cell(tr, details);
    });
  }

  async function refreshWebhooks() {
    const data = await control("GET", `webhooks?project_id=${state.project}`);
    const count = (data.webhooks || []).length + (data.pending || []).length;
    $("#webhooks-note").textContent = count ? "" : "No webhook deliveries yet.";
    const key = JSON.stringify(data);
    if (key !== state.deliveries) {
      state.deliveries = key;
      renderDeliveries(data);
    }
  }

  // -------------------------------------------------------------- clock

  function showClock() {
    if (!state.clock) return;
    const now = new Date(Date.parse(state.clock.now) + (Date.now() - state.clockRead));
    const el = $("#clock-now");
    el.dateTime = now.toISOString();
    el.textContent = `${now.toISOString().slice(0, 19).replace("T", " ")} UTC`;
    const offset = state.clock.offset_seconds;
    const days = Math.trunc(offset / 86400);
    const hours = Math.trunc((offset % 86400) / 3600);
    const minutes = Math.trunc((offset % 3600) / 60);
    $("#clock-offset").textContent = Math.abs(offset) < 1 ? "(real time)" : `(${offset > 0 ? "+" : "−"}${Math.abs(days)}d ${Math.abs(hours)}h ${Math.abs(minutes)}m)`;
  }

  async function refreshClock() {
    state.clock = await control("GET", "clock");
    state.clockRead = Date.now();
    showClock();
  }

  async function moveClock(payload, done) {
    clearError();
    try {
      state.clock = await control("POST", "clock", payload);
      state.clockRead = Date.now();
      showClock();
      say(`${done}: the mock's time is now ${state.clock.now}.`);
      await refreshStore(true);
    } catch (error) {
      fail(error);
    }
  }

  // -------------------------------------------------------------- wiring

  $("#advance-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const raw = $("#advance").value.trim();
    const value = /^-?\d+(\.\d+)?$/.test(raw) ? Number(raw) : raw;
    moveClock({ advance: value }, `Advanced by ${raw}`);
  });

  $("#set-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const raw = $("#set").value;
    moveClock({ set: `${raw.length === 16 ? `${raw}:00` : raw}Z` }, "Clock set");
  });

  $("#clock-reset").addEventListener("click", () => moveClock({ reset: true }, "Clock back to real time"));

  $("#reset").addEventListener("click", async () => {
    if (!window.confirm("Reset the mock to its start state? Everything stored since is lost.")) return;
    clearError();
    try {
      const data = await control("POST", "reset");
      state.journal = [];
      state.since = null;
      state.generation = null;
      renderJournal();
      say(`The mock was reset (${data.records} records).`);
      await Promise.all([refreshStore(true), refreshClock(), refreshProjects()]);
    } catch (error) {
      fail(error);
    }
  });

  $("#project").addEventListener("change", async (event) => {
    state.project = Number(event.target.value);
    state.generation = null;
    state.deliveries = null;
    renderJournal();
    try {
      await Promise.all([refreshStore(true), state.webhooks ? refreshWebhooks() : null]);
      say(`Showing project ${state.project}.`);
    } catch (error) {
      fail(error);
    }
  });

  $("#pause").addEventListener("click", (event) => {
    state.paused = !state.paused;
    event.currentTarget.setAttribute("aria-pressed", String(state.paused));
    event.currentTarget.textContent = state.paused ? "Resume live updates" : "Pause live updates";
    say(state.paused ? "Live updates paused." : "Live updates resumed.");
  });

  for (const box of ["#only-violations", "#all-projects"]) $(box).addEventListener("change", renderJournal);

  function every(ms, task) {
    let running = false;
    const tick = async () => {
      if (running || (state.paused && task !== refreshClock)) return;
      running = true;
      try {
        await task();
        body.dataset.live = "true";
      } catch (error) {
        body.dataset.live = "false";
        fail(error);
      } finally {
        running = false;
      }
    };
    tick();
    return setInterval(tick, ms);
  }

  // What this mock offers is in its index: the webhook panel needs GET /__mock__/webhooks.
  let webhookTimer = null;
  function discover() {
    return control("GET", "index.json")
      .then((index) => {
        state.webhooks = index.endpoints.some((e) => e.path === "/__mock__/webhooks" && e.methods.includes("GET"));
        if (state.webhooks && webhookTimer === null) webhookTimer = every(2000, refreshWebhooks);
        else if (!state.webhooks) $("#webhooks-note").textContent = "This mock sends no webhooks.";
      })
      .catch(fail);
  }

  // A token given later in the same tab (the address with #token=... pasted again).
  window.addEventListener("hashchange", async () => {
    const before = token;
    token = readToken();
    if (token === before) return;
    clearError();
    state.generation = null;
    await discover();
    try {
      await Promise.all([refreshStore(true), refreshProjects(), refreshClock()]);
      say("Control token set for this tab.");
    } catch (error) {
      fail(error);
    }
  });

  discover();
  every(1000, refreshJournal);
  every(2000, refreshStore);
  every(10000, refreshClock);
  every(10000, refreshProjects);
  setInterval(showClock, 1000);
})();
