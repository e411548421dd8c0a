// The statement as the problem page will show it, rendered by the server (same sanitiser).
(function () {
  "use strict";
  const button = document.getElementById("preview-button");
  const form = document.getElementById("problem-form");
  const out = document.getElementById("preview");
  if (!button || !form || !out) return;
  button.addEventListener("click", async () => {
    const body = new FormData();
    body.append("csrf", form.elements.csrf.value);
    body.append("statement", document.getElementById("statement").value);
    const r = await fetch("/admin/problems/preview", { method: "POST", body: body, credentials: "same-origin" });
    out.hidden = false;
    // The server's renderer escapes everything the statement says (html off, math rebuilt
    // from an allow-list), exactly as on the problem page.
    out.innerHTML = r.ok ? await r.text() : "<p class=\"form-error\">preview failed (" + r.status + ")</p>";
  });
})();
