// Submit form niceties: choosing a file picks the language from its extension.
(function () {
  "use strict";
  const file = document.getElementById("file");
  const select = document.getElementById("language");
  if (!file || !select) return;
  const byExt = { c: "c", cc: "cpp", cpp: "cpp", cxx: "cpp", py: "python3", java: "java",
    js: "javascript", rs: "rust", rb: "ruby", pl: "perl", sh: "bash" };
  file.addEventListener("change", () => {
    const name = file.files.length ? file.files[0].name : "";
    const lang = byExt[name.split(".").pop().toLowerCase()];
    if (lang && select.querySelector('option[value="' + lang + '"]')) select.value = lang;
  });
})();

// Tab in the code box inserts four spaces instead of leaving the box; Esc then Tab leaves it
// (keyboard users must not be trapped).
(function () {
  "use strict";
  const box = document.getElementById("source");
  if (!box) return;
  let escaped = false;
  box.addEventListener("keydown", (e) => {
    if (e.key === "Escape") { escaped = true; return; }
    if (e.key !== "Tab" || e.shiftKey || escaped) { escaped = false; return; }
    e.preventDefault();
    const start = box.selectionStart, end = box.selectionEnd;
    box.setRangeText("    ", start, end, "end");
  });
})();

// Line numbers beside the code box, kept in step with its lines and its scrolling.
(function () {
  "use strict";
  const box = document.getElementById("source");
  if (!box) return;
  const frame = document.createElement("div");
  frame.className = "code-frame";
  const gutter = document.createElement("pre");
  gutter.className = "gutter";
  gutter.setAttribute("aria-hidden", "true");
  box.parentNode.insertBefore(frame, box);
  frame.append(gutter, box);
  let shown = 0;
  function number() {
    const lines = box.value.split("\n").length;
    if (lines !== shown) {
      shown = lines;
      gutter.textContent = Array.from({ length: lines }, (_, i) => i + 1).join("\n");
    }
    gutter.scrollTop = box.scrollTop;
  }
  box.addEventListener("input", number);
  box.addEventListener("scroll", () => { gutter.scrollTop = box.scrollTop; });
  number();
})();
