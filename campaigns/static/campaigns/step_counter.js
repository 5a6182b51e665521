// The step form: a live character count under an invitation note, against LinkedIn's 300.
(function () {
  "use strict";

  function isInvite(textarea) {
    var box = textarea.closest(".inline-related") || document;
    var action = box.querySelector("select[name$='-action']");
    return !action || action.value === "invite";
  }

  function attach(textarea) {
    if (textarea.dataset.counterAttached) return;
    textarea.dataset.counterAttached = "1";
    var limit = parseInt(textarea.dataset.noteLimit, 10);
    var counter = document.createElement("div");
    counter.className = "help note-counter";
    textarea.insertAdjacentElement("afterend", counter);
    function update() {
      if (!isInvite(textarea)) {
        counter.textContent = "";
        return;
      }
      var length = textarea.value.trim().length;
      counter.textContent = length + " / " + limit + " characters (variables count at their value)";
      counter.style.color = length > limit ? "#ba2121" : "";
    }
    textarea.addEventListener("input", update);
    var box = textarea.closest(".inline-related");
    var action = box && box.querySelector("select[name$='-action']");
    if (action) action.addEventListener("change", update);
    update();
  }

  function attachAll() {
    document.querySelectorAll("textarea[data-note-limit]").forEach(attach);
  }

  document.addEventListener("DOMContentLoaded", attachAll);
  document.addEventListener("formset:added", attachAll);
})();
