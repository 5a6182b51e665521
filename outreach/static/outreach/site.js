// Every page of the product (base.html). No inline script anywhere: the Content-Security-Policy allows
// scripts from this site only.
(function () {
  // The viewer's timezone, for times on these pages (read by outreach.middleware).
  var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (zone && document.cookie.indexOf("tz=" + zone) === -1) {
    document.cookie = "tz=" + zone + ";path=/;max-age=31536000;SameSite=Lax";
    if (!sessionStorage.getItem("tzReloaded")) { sessionStorage.setItem("tzReloaded", "1"); location.reload(); }
  }
  // A link that posts a form (log out is a POST): <a data-submit="form-id">.
  document.addEventListener("click", function (e) {
    var link = e.target.closest("a[data-submit]");
    if (!link) return;
    var form = document.getElementById(link.dataset.submit);
    if (form) { e.preventDefault(); form.submit(); }
  });
  // A select that submits its form when changed: <select data-autosubmit> (data-clear names a field to empty first).
  document.addEventListener("change", function (e) {
    var select = e.target.closest("select[data-autosubmit]");
    if (!select) return;
    if (select.dataset.clear && select.form.elements[select.dataset.clear]) select.form.elements[select.dataset.clear].value = "";
    select.form.submit();
  });
})();
