// The connect/reconnect link page: asks every few seconds whether the owner got through, then moves on.
(function () {
  var card = document.getElementById("connect-link");
  if (!card || card.dataset.state !== "pending") return;
  var state = document.getElementById("connect-state");
  var input = document.getElementById("connect-url");
  if (input) input.addEventListener("focus", function () { input.select(); });
  function poll() {
    fetch(card.dataset.statusUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : { state: "pending" }; })
      .then(function (answer) {
        if (answer.state === "used" && answer.redirect) { window.location.assign(answer.redirect); return; }
        if (answer.state === "expired") { window.location.reload(); return; }
        setTimeout(poll, 3000);
      })
      .catch(function () { setTimeout(poll, 5000); });
  }
  setTimeout(poll, 3000);
})();
