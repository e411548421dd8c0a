// Live batch page: poll GET /api/batches/{id}, move the progress bar and fill the rows in place.
// Everything shown goes through textContent, never innerHTML: names come from uploaded files.
(function () {
  "use strict";
  const root = document.getElementById("batch");
  if (!root || root.dataset.finished === "true") return;
  const id = root.dataset.id;
  const $ = (sel) => document.getElementById(sel);
  const rejudge = root.dataset.kind === "rejudge";  // one more column: the verdict before

  const { seconds, memory } = window.judgeLive;
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

  window.judgeLive.poll("/api/batches/" + id, update, 1000, 10000);
})();
