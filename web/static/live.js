// What the live pages share: number formatting and the polling loop (polls a JSON URL until
// `update` says the thing is finished, backing off while the server is away).
window.judgeLive = (function () {
  "use strict";

  function seconds(v) { return v == null ? "" : v.toFixed(3) + " s"; }
  function memory(v) {
    if (v == null) return "";
    if (v >= 1 << 30) return (v / (1 << 30)).toFixed(1) + " GiB";
    if (v >= 1 << 20) return (v / (1 << 20)).toFixed(1) + " MiB";
    return Math.round(v / 1024) + " KiB";
  }

  // every: ms between polls while all is well; slowest: the back-off cap after errors.
  function poll(url, update, every, slowest) {
    let delay = every;
    async function once() {
      try {
        const r = await fetch(url, { credentials: "same-origin",
          headers: { "Accept": "application/json" } });
        if (r.ok && update(await r.json())) return;
        delay = r.ok ? every : Math.min(delay * 2, slowest);
      } catch (e) {
        delay = Math.min(delay * 2, slowest);  // server restarting: back off, keep trying
      }
      setTimeout(once, delay);
    }
    setTimeout(once, delay);
  }

  return { seconds: seconds, memory: memory, poll: poll };
})();
