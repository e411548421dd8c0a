// Sample copy buttons, and "Run with custom input" through /api/runs (charged to the user
// like any run; the page's CSRF token goes in X-CSRF-Token, as the API asks of a browser).
(function () {
  "use strict";
  // An interaction sample (ICPC .interaction: every line starts with ">" or "<") is shown as
  // the dialogue it is: what the program writes on one side, what it reads on the other.
  document.querySelectorAll(".statement pre").forEach((pre) => {
    const lines = pre.textContent.replace(/\n$/, "").split("\n");
    if (!lines.length || !lines.every((l) => l.startsWith(">") || l.startsWith("<"))) return;
    const talk = document.createElement("ol");
    talk.className = "dialogue";
    talk.setAttribute("aria-label", "sample interaction");
    for (const line of lines) {
      const li = document.createElement("li");
      const mine = line.startsWith(">");
      li.className = mine ? "writes" : "reads";
      const who = document.createElement("span");
      who.className = "who";
      who.textContent = mine ? "your program" : "judge";
      const said = document.createElement("code");
      said.textContent = line.slice(1).trimStart();
      li.append(who, said);
      talk.append(li);
    }
    pre.replaceWith(talk);
  });
  // Every other code block of the statement gets a copy button (its own sample sections).
  document.querySelectorAll(".statement pre").forEach((pre) => {
    const holder = document.createElement("div");
    holder.className = "sample";
    pre.replaceWith(holder);
    const button = document.createElement("button");
    button.type = "button";
    button.className = "button small ghost copy";
    button.textContent = "Copy";
    button.setAttribute("aria-label", "copy this block");
    holder.append(button, pre);
  });
  document.querySelectorAll(".sample .copy").forEach((button) => {
    button.addEventListener("click", async () => {
      const text = button.parentElement.querySelector("pre").textContent;
      try {
        await navigator.clipboard.writeText(text);
      } catch (e) {
        // No clipboard API (plain http on another host): select the text for Ctrl-C.
        const range = document.createRange();
        range.selectNodeContents(button.parentElement.querySelector("pre"));
        const selection = window.getSelection();
        selection.removeAllRanges();
        selection.addRange(range);
      }
      button.textContent = "Copied";
      setTimeout(() => { button.textContent = "Copy"; }, 1500);
    });
  });

  const run = document.getElementById("run-button");
  const form = document.getElementById("submit-form");
  const out = document.getElementById("run-result");
  if (!run || !form || !out) return;
  function show(parts) {
    out.replaceChildren();
    for (const [label, text, cls] of parts) {
      if (text === null || text === undefined || text === "") continue;
      const h = document.createElement("h4");
      h.textContent = label;
      const body = document.createElement(cls === "verdict" ? "p" : "pre");
      body.textContent = text;
      if (cls) body.className = cls;
      out.append(h, body);
    }
  }
  run.addEventListener("click", async () => {
    const source = document.getElementById("source").value;
    if (!source.trim()) { show([["", "Paste your code above first.", "form-error"]]); return; }
    run.disabled = true;
    show([["", "Running…", "muted"]]);
    try {
      const r = await fetch("/api/runs", {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": form.elements.csrf.value },
        body: JSON.stringify({
          language: document.getElementById("language").value,
          source: source,
          stdin: document.getElementById("run-input").value,
          limits: { cpu_time: Number(run.dataset.cpu), memory: Number(run.dataset.memory) },
        }),
      });
      const body = await r.json();
      if (!r.ok) {
        show([["", typeof body.detail === "string" ? body.detail : "the run was refused (" + r.status + ")", "form-error"]]);
      } else if (body.status === "compile_error") {
        show([["Compilation error", body.compile_output || "", ""]]);
      } else {
        const stats = body.verdict + (body.cpu_time !== null ? " · " + body.cpu_time.toFixed(3) + " s" : "") +
          (body.memory ? " · " + (body.memory / 1048576).toFixed(1) + " MiB" : "");
        show([["Result", stats, "verdict-line"], ["Output", body.stdout, ""], ["Errors", body.stderr, ""],
              ["Message", body.message, "muted"]]);
      }
    } catch (e) {
      show([["", "the judge could not be reached: " + e, "form-error"]]);
    } finally {
      run.disabled = false;
    }
  });
})();
