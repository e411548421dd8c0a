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
