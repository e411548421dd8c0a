// Live batch page: poll GET /api/batches/{id}, move the progress bar and fill the rows in place.
// Everything shown goes through textContent, never innerHTML: names come from uploaded files.
(function () {
  "use strict";
  const root = document.getElementById("batch");
  if (!root || root.dataset.finished === "true") return;
  const id = root.dataset.id;
  const $ = (sel) => document.getElementById(sel);
  const rejudge = root.dataset.kind === "rejudge";  // one more column: the verdict before

  function seconds(v) { return v == null ? "" : v.toFixed(3) + " s"; }
  function memory(v) {
    if (v == null) return "";
    if (v >= 1 << 30) return (v / (1 << 30)).toFixed(1) + " GiB";
    if (v >= 1 << 20) return (v / (1 << 20)).toFixed(1) + " MiB";
    return Math.round(v / 1024) + " KiB";
  }
  function num(v) { return +v.toFixed(6); }
  function badge(verdict) {
    const el = document.createElement("span");
    el.className = "verdict " + (verdict ? "v-" + verdict : "v-pending");
    el.textContent = verdict || "…";
    return el;
  }

  function update(b) {
    const pct = b.total ? (100 * b.done / b.total) : 100;
    $("progress-bar").style.width = pct.toFixed(1) + "%";
    $("progress").setAttribute("aria-valuenow", String(b.done));
    $("progress-text").textContent = b.done + " / " + b.total;
    $("batch-status").textContent = b.status;
    const counts = $("counts");
    counts.replaceChildren();
    for (const [v, n] of Object.entries(b.counts)) {
      counts.append(badge(v), " " + n + " ");
    }
    b.items.forEach((it, i) => {
      const row = $("item-" + i);
      if (!row) return;
      const cells = row.children;
      row.className = it.verdict ? "row-" + it.verdict : "";
      cells[2].textContent = it.status;
      if (it.verdict || !it.error) cells[3].replaceChildren(badge(it.verdict));
      const k = rejudge ? 5 : 4;
      cells[k].textContent = it.score == null ? "" :
        num(it.score) + (it.max_score == null ? "" : " / " + num(it.max_score));
      cells[k + 1].textContent = seconds(it.time);
      cells[k + 2].textContent = memory(it.memory);
    });
    const finished = b.done >= b.total;
    if (finished) {
      const cancel = $("cancel-form");
      if (cancel) cancel.remove();
    }
    return finished;
  }

  let delay = 1000;
  async function poll() {
    try {
      const r = await fetch("/api/batches/" + id, { credentials: "same-origin",
        headers: { "Accept": "application/json" } });
      if (r.ok && update(await r.json())) return;
      delay = r.ok ? 1000 : Math.min(delay * 2, 10000);
    } catch (e) {
      delay = Math.min(delay * 2, 10000);  // server restarting: back off, keep trying
    }
    setTimeout(poll, delay);
  }
  setTimeout(poll, delay);
})();
