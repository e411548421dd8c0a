// Live standings: poll the set's JSON standings and rebuild the rows in place, no reload.
// Every string is placed with textContent: a user name is text, never markup. The cells'
// text comes from the server (web/set_schemas.py), so the page and this script agree.
(function () {
  "use strict";
  const root = document.getElementById("standings");
  if (!root || root.dataset.final === "true") return;
  const slug = root.dataset.slug;
  const wasOpen = root.dataset.open === "true";

  function td(cls, text) {
    const el = document.createElement("td");
    if (cls) el.className = cls;
    el.textContent = text;
    return el;
  }
  function num(v) { return String(+v.toFixed(6)); }

  function row(r, icpc) {
    const tr = document.createElement("tr");
    tr.dataset.user = r.user;
    if (r.user === root.dataset.me) tr.className = "me";
    tr.append(td("num", String(r.rank)), td("who-cell", r.user));
    for (const c of r.cells) {
      const cell = td("cell k-" + c.kind, "");
      const main = document.createElement("span");
      main.className = "main"; main.textContent = c.text;
      const note = document.createElement("small");
      note.textContent = c.note;
      cell.append(main, note);
      tr.append(cell);
    }
    tr.append(td("cell total", num(r.total)));
    if (icpc) tr.append(td("cell", String(r.penalty)));
    return tr;
  }

  function update(s) {
    if (s.open !== wasOpen) { location.reload(); return true; }  // the problems appear
    const body = document.getElementById("standings-rows");
    if (body) body.replaceChildren(...s.rows.map((r) => row(r, s.style === "icpc")));
    document.getElementById("frozen").hidden = !s.frozen;
    const note = document.getElementById("standings-note");
    if (note && s.final) note.textContent = "Final.";
    root.dataset.updated = s.now;
    return s.final;
  }

  window.judgeLive.poll("/api/sets/" + encodeURIComponent(slug) + "/standings", update, 2000, 15000);
})();
