// The domain view: the evidence document of `portcullis query DOMAIN --json` and the daemon's cache entry
// with its refresh and purge buttons. Text only (h() makes text nodes), like the rest of the console.
"use strict";
window.DomainView = (function () {
  function kv(h, pairs) {
    return h("dl", { class: "kv" }, pairs.filter(p => p[1] !== undefined && p[1] !== null).flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
  }

  function evidence(d, h, table, td, num, when) {
    const e = d.evidence;
    const out = [h("h2", {}, `Evidence for ${e.domain}`),
      kv(h, [["Resolver", `${e.resolver}: ${e.resolver_validates ? "validates DNSSEC" : "NOT VALIDATING"} (${e.resolver_self_test})`],
        ["Decision", h("strong", { id: "verdict" }, e.verdict)], ["Why", e.why],
        ["Postfix answer", h("code", { id: "postfix-answer" }, e.postfix_query)], ["with TLSRPT", h("code", {}, e.postfix_query_with_tlsrpt)]])];
    if (e.dane) {
      out.push(h("h2", {}, "DANE"), kv(h, [["Verdict", e.dane.verdict], ["Reason", e.dane.reason], ["MX", e.dane.mx], ["MX RRset", e.dane.mx_secure ? "DNSSEC secure" : "not secure"]]));
      for (const host of e.dane.hosts) {
        out.push(h("section", { class: "dane-host", "data-host": host.host },
          h("h3", {}, `MX host ${host.host}: ${host.dane}`), h("p", {}, host.reason),
          table(["lookup (DNSSEC status)"], host.lookups.map(l => h("tr", {}, td(l, "mono")))),
          host.tlsa.length ? table(["TLSA at " + (host.tlsa_name || ""), "usable", "why not"], host.tlsa.map(t => h("tr", { class: t.usable ? "good" : "bad" },
            td(t.record, "mono"), td(t.usable ? "usable" : "unusable"), td(t.why || "")))) : h("p", { class: "muted" }, "no TLSA records")));
      }
    } else {
      out.push(h("h2", {}, "DANE"), h("p", { class: "muted" }, "not looked up"));
    }
    if (e.txt) {
      out.push(h("h2", {}, "MTA-STS"), kv(h, [["TXT lookup", e.txt.lookup], ["record", e.txt.record], ["verdict", `${e.txt.status || ""}${e.txt.id ? ", id " + e.txt.id : ""}: ${e.txt.detail || ""}`]]));
      if (e.fetch) out.push(kv(h, [["fetch", `GET ${e.fetch.url}`], ["response", `${e.fetch.status ? "HTTP " + e.fetch.status : "no response"}, Content-Type ${e.fetch.content_type || "-"}, ${e.fetch.bytes} bytes, ${e.fetch.elapsed_ms} ms`],
        ["result", `${e.fetch.ok ? "ok" : "FAILED (" + e.fetch.failure + ")"}: ${e.fetch.detail || ""}`]]));
      if (e.policy) out.push(kv(h, [["policy", `id ${e.policy.id}, mode ${e.policy.mode}, max_age ${e.policy.max_age}, valid until ${when(e.policy.expires)}`], ["mx", e.policy.mx.join(", ")]]));
    } else {
      out.push(h("h2", {}, "MTA-STS"), h("p", { class: "muted" }, "not consulted (the DANE verdict decides)"));
    }
    return out;
  }

  // The cache section redraws itself after refresh or purge (from /api/cache), without another live lookup.
  function cache(d, h, when, api, message) {
    const c = d.cache;
    const status = h("p", { id: "action-status", class: "muted" }, message || "");
    const section = h("section", { id: "cache-entry" });
    const act = (what) => async () => {
      status.textContent = what + "…";
      try {
        const r = await api(`/api/domain/${what}?name=${encodeURIComponent(d.domain)}`, "POST");
        const list = await api(`/api/cache?q=${encodeURIComponent(d.domain)}&size=200`);
        const now = list.items.find(i => i.domain === d.domain) || null;
        const done = what === "purge" ? `purged ${r.purged} entr${r.purged === 1 ? "y" : "ies"}` : `refreshed: ${r.postfix_query}`;
        section.replaceWith(cache({ ...d, cache: now, cache_agrees: null }, h, when, api, done));
      } catch (e) {
        status.textContent = `${what} failed: ${e.message}`;
      }
    };
    section.append(h("h2", {}, "In the daemon's cache"),
      c ? kv(h, [["Postfix gets now", h("code", { id: "cache-reply" }, c.reply ?? "(nothing answerable: the next query resolves live)")], ["state", c.state],
        ["cached answer", h("code", {}, c.answer)], ["source", c.source], ["expires", when(c.expires)], ["hits", c.hits], ["policy id", c.policy_id],
        ["agrees with this lookup", d.cache_agrees === null ? "–" : d.cache_agrees ? "yes" : "NO"]])
        : h("p", { id: "cache-empty", class: "muted" }, "Nothing cached for this domain."),
      h("div", { class: "inline" }, h("button", { type: "button", id: "refresh", onclick: act("refresh") }, "Refresh now"), " ",
        h("button", { type: "button", id: "purge", onclick: act("purge"), disabled: !c }, "Purge")), status);
    return section;
  }

  return { evidence, cache };
})();
