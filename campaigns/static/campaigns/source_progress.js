// A lead source's page: its progress is asked every few seconds while it runs (as the inbox polls).
(function () {
  var box = document.querySelector(".source-progress[data-url]");
  if (!box) return;
  var label = box.querySelector("span"), bar = box.querySelector("div > div");
  function poll() {
    fetch(box.dataset.url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (p) {
        if (!p) return;
        var share = p.max ? Math.min(100, Math.round(100 * p.imported / p.max)) : 0;
        bar.style.width = share + "%";
        label.textContent = p.imported + " / " + p.max + " imported · " + p.found + " found · " + p.skipped +
          " skipped · " + p.pages + " page(s) · " + p.status + (p.stop_reason ? " (" + p.stop_reason + ")" : "");
        if (p.running) setTimeout(poll, 4000);
      })
      .catch(function () { setTimeout(poll, 8000); });
  }
  setTimeout(poll, 2000);
})();
