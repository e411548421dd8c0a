// Live submission page: poll the JSON API and update the rows in place, no reload.
// Everything shown comes from textContent, never innerHTML: program output stays text.
(function () {
  "use strict";
  const root = document.getElementById("submission");
  if (!root || root.dataset.finished === "true") return;
  const id = root.dataset.id;
  const $ = (sel) => document.getElementById(sel);

  const NAMES = { AC: "Accepted", WA: "Wrong answer", PE: "Presentation error",
    TLE: "Time limit exceeded", MLE: "Memory limit exceeded", OLE: "Output limit exceeded",
    RE: "Runtime error", SV: "Security violation", CE: "Compilation error",
    IE: "Internal error", SK: "Skipped" };

  const { seconds, memory } = window.judgeLive;
  function badge(el, verdict, pending) {
    el.className = "verdict" + (el.classList.contains("big") ? " big" : "") +
      (verdict ? " v-" + verdict : " v-pending");
    el.textContent = verdict || pending;
    el.title = NAMES[verdict] || "";
  }
  function score(s) {
    return s.score == null ? "" : +s.score.toFixed(6) + " / " + +(s.max_score || 0).toFixed(6);
  }

  function update(s) {
    badge($("verdict"), s.verdict, s.status);
    $("verdict-name").textContent = s.verdict ? (NAMES[s.verdict] || s.verdict) : "Grading…";
    $("status").textContent = s.status;
    $("score").textContent = score(s) || "—";
    $("time").textContent = seconds(s.time) || "—";
    $("memory").textContent = memory(s.memory) || "—";
    const msg = $("message");
    msg.hidden = !s.message;
    msg.textContent = s.message || "";
    const compile = $("compile");
    compile.hidden = !s.compile_output;
    $("compile-output").textContent = s.compile_output || "";
    for (const t of s.tests) {
      const row = $("test-" + t.index);
      if (!row) continue;
      row.className = "row-" + t.verdict;
      const cells = row.children;
      badge(cells[1].firstElementChild, t.verdict, "…");
      cells[2].textContent = seconds(t.cpu_time);
      cells[3].textContent = seconds(t.wall_time);
      cells[4].textContent = memory(t.memory);
      if (t.oom_killed) {
        const mark = document.createElement("span");
        mark.className = "oom"; mark.title = "killed by the out-of-memory killer"; mark.textContent = "OOM";
        cells[4].append(" ", mark);
      }
      cells[5].textContent = t.message || "";
    }
    const finished = s.status === "done" || s.status === "error";
    // A compile error (or an internal error before any test) ran no test: no pending rows.
    $("tests").hidden = finished && s.tests.length === 0;
    return finished;
  }

  window.judgeLive.poll("/api/submissions/" + id, update, 300, 5000);
})();
