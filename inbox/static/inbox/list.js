// The inbox list: j/k to move, Enter to open, / to search; counters and rows refresh every 5 seconds.
(function () {
  var config = document.currentScript.dataset;
  var rows = function () { return Array.prototype.slice.call(document.querySelectorAll("#rows tbody tr[data-href]")); };
  var selected = 0;
  function select(i) {
    var all = rows(); if (!all.length) return;
    selected = Math.max(0, Math.min(i, all.length - 1));
    all.forEach(function (r, n) { r.classList.toggle("sel", n === selected); });
    all[selected].scrollIntoView({block: "nearest"});
  }
  document.addEventListener("click", function (e) {
    var row = e.target.closest("tr[data-href]"); if (row && !e.target.closest("a, input, label, button, select")) location.href = row.dataset.href;
  });
  document.addEventListener("keydown", function (e) {
    if (e.target.matches("input, textarea, select") || e.metaKey || e.ctrlKey || e.altKey) return;
    if (e.key === "j") select(selected + 1);
    else if (e.key === "k") select(selected - 1);
    else if (e.key === "Enter" && rows()[selected]) location.href = rows()[selected].dataset.href;
    else if (e.key === "/") { e.preventDefault(); document.querySelector("input[name=q]").focus(); }
  });
  select(0);
  setInterval// The inbox list: j/k to move, Enter to open, / to search; counters and rows refresh every 5 seconds.
(function () {
  var config = document.currentScript.dataset;
    if (document.hidden) return;
    fetch(config.poll + location.search, {credentials: "same-origin"}).then(function (r) { return r.ok ? r.json() : null; }).then(function (data) {
      if (!data) return;
      Object.keys(data.counters).forEach(function (k) {
        var el = document.querySelector("[data-counter=" + k + "]");
        if (el) { el.textContent = data.counters[k]; el.classList.toggle("zero", !data.counters[k]); }
      });
      var body = document.querySelector("#rows tbody");
      if (body && data.rows_html !== undefined && body.innerHTML.trim() !== data.rows_html.trim()) { body.innerHTML = data.rows_html; select(selected); }
    }).catch(function () {});
  }, 5000);
})();
