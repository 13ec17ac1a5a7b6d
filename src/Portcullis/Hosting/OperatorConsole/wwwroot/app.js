// The operator console: one page per view (#/overview, #/domain?name=…, #/cache, #/received, #/sent, #/own),
// each drawn from the JSON API. Values from the network (report contents, DNS, policies) only ever become
// text nodes (h() below); nothing is parsed as markup.
"use strict";
(function () {
  const main = document.getElementById("main");
  const TOKEN = "portcullis-console-auth";

  function h(tag, props, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
      else if (k === "class") e.className = v;
      else e.setAttribute(k, v === true ? "" : String(v));
    }
    for (const c of children.flat()) {
      if (c === undefined || c === null || c === false) continue;
      e.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return e;
  }

  const fmt = n => (n === null || n === undefined) ? "–" : Number(n).toLocaleString("en-US");
  const when = t => t ? t.replace("T", " ").replace(/\.\d+/, "").replace(/(\+00:00|Z)$/, " UTC") : "–";
  const table = (head, rows) => h("table", {}, h("thead", {}, h("tr", {}, head.map(c => h("th", { class: c.endsWith("#") ? "n" : "" }, c.replace(/#$/, ""))))),
    h("tbody", {}, rows));
  const td = (v, cls) => h("td", { class: cls }, v);
  const num = v => td(fmt(v), "n");

  class AuthError extends Error {}

  async function api(path, method) {
    const headers = {};
    const secret = sessionStorage.getItem(TOKEN);
    if (secret) headers.Authorization = secret;
    if (method === "POST") headers["X-Portcullis-Console"] = "1";
    const r = await fetch(path, { method: method || "GET", headers, credentials: "omit", cache: "no-store" });
    if (r.status === 401) throw new AuthError("authentication required");
    const body = await r.json().catch(() => ({ error: `HTTP ${r.status}` }));
    if (!r.ok) throw new Error(body.error || `HTTP ${r.status}`);
    return body;
  }

  function login(message) {
    const user = h("input", { type: "text", id: "login-user", placeholder: "user (basic auth only)", autocomplete: "username" });
    const secret = h("input", { type: "password", id: "login-secret", placeholder: "token or password", autocomplete: "current-password" });
    const form = h("form", { class: "inline", id: "login", onsubmit: e => {
      e.preventDefault();
      const value = user.value ? "Basic " + btoa(unescape(encodeURIComponent(user.value + ":" + secret.value))) : "Bearer " + secret.value;
      sessionStorage.setItem(TOKEN, value);
      route();
    } }, user, secret, h("button", { type: "submit" }, "Sign in"));
    main.replaceChildren(h("h1", {}, "Sign in"), message ? h("p", { class: "error" }, message) : null, form);
  }

  function counts(title, list) {
    if (!list.length) return h("div", {}, h("h2", {}, title), h("p", { class: "muted" }, "none since the daemon started"));
    return h("div", {}, h("h2", {}, title), table(["kind", "last hour#", "last day#"],
      list.map(c => h("tr", {}, td(c.label || "(all)", "nw"), num(c.last_hour), num(c.last_day)))));
  }

  const views = {
    async overview() {
      const o = await api("/api/overview");
      const r = o.resolver;
      const card = (label, value, cls) => h("div", { class: "card" }, h("div", { class: "muted" }, label), h("div", { class: "v " + (cls || "") }, value));
      const days = Math.floor(o.uptime_seconds / 86400), hours = Math.floor(o.uptime_seconds % 86400 / 3600), mins = Math.floor(o.uptime_seconds % 3600 / 60);
      return [h("h1", {}, "Overview"),
        h("div", { class: "cards" },
          card("resolver self-test", r.validates === true ? "validating" : r.validates === false ? "NOT VALIDATING" : "not checked", r.validates ? "good" : "bad"),
          card("uptime", `${days} d ${hours} h ${mins} min`),
          card("cached domains", fmt(o.cache_entries)),
          card("store failures (day)", fmt(o.store_failures.reduce((a, c) => a + c.last_day, 0)))),
        h("p", { id: "resolver-detail" }, `Self-test: ${r.detail} (${r.trust}, checked ${when(r.checked_at)}); started ${when(o.started_at)}`),
        counts("Answers by kind", o.answers), counts("Policy fetch failures", o.fetch_failures), counts("DNS failures", o.dns_failures),
        counts("Cache store failures", o.store_failures), counts("Refresh outcomes", o.refresh), counts("TLS-RPT reports received", o.reports_received)];
    },

    async domain(params) {
      const name = params.get("name") || "";
      const input = h("input", { type: "text", id: "domain-input", value: name, placeholder: "example.com", "aria-label": "domain" });
      const form = h("form", { class: "inline", id: "domain-form", onsubmit: e => { e.preventDefault(); location.hash = "#/domain?name=" + encodeURIComponent(input.value.trim()); } },
        input, h("button", { type: "submit" }, "Look up"));
      const out = [h("h1", {}, "Domain"), form];
      if (!name) return out.concat(h("p", { class: "muted" }, "Type a domain: a live lookup with the evidence `portcullis query` prints, and what the cache holds."));
      const d = await api("/api/domain?name=" + encodeURIComponent(name));
      return out.concat(DomainView.evidence(d, h, table, td, num, when), DomainView.cache(d, h, when, api));
    },

    async cache(params) {
      const q = params.get("q") || "", page = Number(params.get("page") || 1);
      const c = await api(`/api/cache?q=${encodeURIComponent(q)}&page=${page}&size=50`);
      const search = h("input", { type: "search", id: "cache-search", value: q, placeholder: "search domains", "aria-label": "search" });
      const go = p => { location.hash = `#/cache?q=${encodeURIComponent(search.value.trim())}&page=${p}`; };
      const pages = Math.max(1, Math.ceil(c.total / c.page_size));
      return [h("h1", {}, "Cache"),
        h("form", { class: "inline", onsubmit: e => { e.preventDefault(); go(1); } }, search, h("button", { type: "submit" }, "Search")),
        table(["domain", "Postfix gets now", "state", "source", "expires", "hits#"], c.items.map(i => h("tr", { "data-domain": i.domain },
          td(h("a", { href: "#/domain?name=" + encodeURIComponent(i.domain) }, i.domain), "nw"), td(h("code", {}, i.reply ?? i.answer)),
          td(i.state, "nw"), td(i.source, "nw"), td(when(i.expires), "nw"), num(i.hits)))),
        h("div", { class: "pager" }, h("button", { type: "button", disabled: c.page <= 1, onclick: () => go(c.page - 1) }, "‹ previous"),
          h("span", { id: "cache-count" }, `page ${c.page} of ${pages}, ${fmt(c.total)} domain(s)`),
          h("button", { type: "button", disabled: c.page >= pages, onclick: () => go(c.page + 1) }, "next ›"))];
    },

    async received(params) {
      const days = params.get("days") || 30;
      const r = await api("/api/tlsrpt/received?days=" + encodeURIComponent(days));
      const out = [h("h1", {}, `TLS-RPT received since ${r.since}`)];
      if (r.truncated) out.push(h("p", { class: "error" }, "More rows than shown: use `portcullis tlsrpt summary --domain D`."));
      if (!r.domains.length) out.push(h("p", { class: "muted" }, "No reports received in this period."));
      for (const d of r.domains) {
        out.push(h("section", { class: "domain", "data-domain": d.domain },
          h("h2", {}, d.domain, " ", h("span", { class: "muted" }, `${fmt(d.successful)} successful, ${fmt(d.failed)} failed; policy ${d.policy_types.join(", ")}`)),
          window.PortcullisChart.render(d.days, `sessions per day for ${d.domain}`),
          d.failure_types.length ? table(["failure type", "sessions#", "sending MTA IPs"], d.failure_types.map(f =>
            h("tr", {}, td(f.result_type, "nw"), num(f.sessions), td(f.sending_ips.join(", "), "mono")))) : h("p", { class: "muted" }, "No failures."),
          h("p", {}, "Reporters: ", h("span", { class: "reporters" }, d.reporters.join(", ")))));
      }
      return out;
    },

    async sent(params) {
      const r = await api("/api/tlsrpt/sent?days=" + encodeURIComponent(params.get("days") || 30));
      return [h("h1", {}, `TLS-RPT sent since ${r.since}`),
        r.deliveries.length ? table(["day", "domain", "successful#", "failed#", "status", "tries#", "destination", "last error"], r.deliveries.map(d => h("tr", {},
          td(d.day, "nw"), td(d.domain, "nw"), num(d.successful), num(d.failed), td(d.status, "nw"), num(d.attempts), td(d.destination, "mono"), td(d.last_error ?? "")))) :
          h("p", { class: "muted" }, "No reports generated in this period.")];
    },

    async own() {
      const r = await api("/api/domains");
      return [h("h1", {}, "Own domains"),
        r.domains.length ? table(["domain", "mode", "mx", "max_age#", "policy id", "certificate", "days left#", "ready for enforce"], r.domains.map(d => h("tr", { "data-domain": d.domain },
          td(d.domain, "nw"), td(d.mode), td(d.mx.join(", "), "mono"), num(d.max_age), td(d.policy_id, "mono"),
          td(d.certificate ? (d.certificate.error ? "unreadable: " + d.certificate.error : `${d.certificate.subject}, until ${when(d.certificate.not_after)}`) : "none configured"),
          h("td", { class: "n " + (d.certificate && d.certificate.days_left !== null && d.certificate.days_left < 14 ? "bad" : "") }, d.certificate ? fmt(d.certificate.days_left) : "–"),
          td(d.readiness.available ? (d.readiness.ready ? "ready" : "not ready") + ": " + d.readiness.detail : d.readiness.detail)))) :
          h("p", { class: "muted" }, "No publish.domains configured.")];
    },
  };

  async function route() {
    const hash = location.hash.replace(/^#\/?/, "") || "overview";
    const [view, query] = hash.split("?");
    const name = views[view] ? view : "overview";
    for (const a of document.querySelectorAll("#nav a")) a.classList.toggle("active", a.dataset.view === name);
    document.getElementById("logout").hidden = !sessionStorage.getItem(TOKEN);
    main.setAttribute("data-view", name);
    main.setAttribute("aria-busy", "true");
    try {
      main.replaceChildren(...[await views[name](new URLSearchParams(query || ""))].flat().filter(Boolean));
    } catch (e) {
      if (e instanceof AuthError) login(sessionStorage.getItem(TOKEN) ? "That token or password was not accepted." : null);
      else main.replaceChildren(h("h1", {}, name), h("p", { class: "error", id: "error" }, e.message));
    }
    main.setAttribute("aria-busy", "false");
  }

  document.getElementById("logout").addEventListener("click", () => { sessionStorage.removeItem(TOKEN); route(); });
  window.addEventListener("hashchange", route);
  window.PortcullisConsole = { route };
  route();
})();
