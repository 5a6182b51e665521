// A conversation: keyboard shortcuts, one-click replies, new messages and delivery states every 5 seconds.
(function () {
  var config = document.currentScript.dataset;
  var thread = document.getElementById("thread");
  thread.scrollTop = thread.scrollHeight;
  var form = document.getElementById("reply-form");
  if (form) form.addEventListener("submit", function () {
    // One click, one reply: the button locks; the server also refuses the same form token twice.
    var button = document.getElementById("send"); button.disabled = true; button.textContent = "Queuing…";
  });
  var text = form && form.querySelector("textarea");
  if (text) text.addEventListener("keydown", function (e) { if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) form.requestSubmit(); });
  // Saved replies: picked from the list, or Alt+1..9 in the reply box; inserted where the cursor is.
  var saved = document.getElementById("saved-replies");
  function insert(option) {
    if (!text || !option || !option.dataset.text) return;
    var start = text.selectionStart || 0, end = text.selectionEnd || 0;
    text.value = text.value.slice(0, start) + option.dataset.text + text.value.slice(end);
    text.focus(); text.selectionStart = text.selectionEnd = start + option.dataset.text.length;
  }
  if (saved) saved.addEventListener("change", function () { insert(saved.selectedOptions[0]); saved.selectedIndex = 0; });
  if (text && saved) text.addEventListener("keydown", function (e) {
    if (e.altKey && /^[1-9]$/.test(e.key)) { e.preventDefault(); insert(saved.options[Number(e.key)]); }
  });
  document.addEventListener("keydown", function (e) {
    if (e.target.matches("input, textarea, select") || e.metaKey || e.ctrlKey || e.altKey) return;
    var go = function (id) { var a = document.getElementById(id); if (a) location.href = a.href; };
    if (e.key === "j") go("next");
    else if (e.key === "k") go("prev");
    else if (e.key === "r" && text) { e.preventDefault(); text.focus(); }
    else if (e.key === "e" && document.getElementById("close-form")) document.getElementById("close-form").submit();
    else if (e.key === "u") location.href = config.list;
  });
  var lastId = 0;
  document.querySelectorAll("#thread .msg").forEach(function (m) { lastId = Math.max(lastId, +m.dataset.id); });
  setInterval// A conversation: keyboard shortcuts, one-click replies, new messages and delivery states every 5 seconds.
(function () {
  var config = document.currentScript.dataset;
    if (document.hidden) return;
    var params = new URLSearchParams(location.search); params.set("conversation", config.conversation); params.set("after", lastId);
    fetch(config.poll + "?" + params.toString(), {credentials: "same-origin"}).then(function (r) { return r.ok ? r.json() : null; }).then(function (data) {
      if (!data) return;
      Object.keys(data.counters).forEach(function (k) {
        var el = document.querySelector("[data-counter=" + k + "]");
        if (el) { el.textContent = data.counters[k]; el.classList.toggle("zero", !data.counters[k]); }
      });
      if (data.messages_html && data.messages_html.trim()) {
        var empty = thread.querySelector(".empty"); if (empty) empty.remove();
        thread.insertAdjacentHTML("beforeend", data.messages_html); lastId = data.last_id; thread.scrollTop = thread.scrollHeight;
      }
      Object.keys(data.pending || {}).forEach(function (id) {
        var pill = document.querySelector("[data-delivery='" + id + "']");
        if (pill && pill.textContent !== data.pending[id]) {
          pill.textContent = data.pending[id];
          pill.className = "pill " + ({sent: "ok", failed: "bad", cancelled: "bad", retrying: "warn"}[data.pending[id]] || "brand");
        }
      });
    }).catch(function () {});
  }, 5000);
})();
