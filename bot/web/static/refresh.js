// Optional: refresh the page's figures from /api/v1/totals every 30 s. The page is complete without it.
"use strict";
(function () {
  function amount(text, decimals) {
    var v = BigInt(text), scale = BigInt(10) ** BigInt(decimals);
    var whole = (v / scale).toLocaleString("en-US");
    var frac = decimals ? (v % scale).toString().padStart(decimals, "0").replace(/0+$/, "") : "";
    return frac ? whole + "." + frac : whole;
  }
  function when(iso) {
    return iso ? iso.slice(0, 10) + " " + iso.slice(11, 16) + " UTC" : "\u2014";
  }
  function set(root, field, text) {
    var el = root.querySelector('[data-field="' + field + '"]');
    if (el && el.textContent !== text) { el.textContent = text; }
  }
  function apply(t) {
    var n = function (x) { return x.toLocaleString("en-US"); };
    set(document, "donations", n(t.donations));
    set(document, "confirmed-count", n(t.confirmed_count));
    set(document, "pending-count", n(t.pending_count));
    set(document, "unique-donors", n(t.unique_donors));
    set(document, "first", when(t.first_donation));
    set(document, "latest", when(t.latest_donation));
    t.assets.forEach(function (a) {
      var row = document.querySelector('tr[data-asset="' + a.asset + '"]');
      if (!row) { return; }
      set(row, "confirmed", amount(a.confirmed, a.decimals));
      set(row, "pending", amount(a.pending, a.decimals));
      set(row, "count", n(a.confirmed_count + a.pending_count));
    });
    if (t.goal) { set(document, "goal-percent", t.goal.percent + "%"); }
  }
  function tick() {
    fetch("/api/v1/totals", { headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (t) { if (t && (t.schema_version === 1 || t.schema_version === 2)) { apply(t); } })
      .catch(function () {});
  }
  window.setInterval(tick, 30000);
})();
