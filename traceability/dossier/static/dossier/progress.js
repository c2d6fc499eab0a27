// Progress of dossiers being generated: poll each export's status URL and update its bar;
// reload the page when one finishes (the list then shows its SHA-256 and download link).
// Without JavaScript the page refreshes itself (<noscript> meta refresh) instead.
(function () {
  "use strict";
  function watch(el) {
    var url = el.getAttribute("data-dossier-status");
    var bar = el.querySelector("progress");
    var label = el.querySelector("[data-role=label]");
    var stage = el.querySelector("[data-role=stage]");
    function poll() {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
        .then(function (s) {
          if (bar) { bar.value = s.progress; bar.textContent = s.progress + " %"; }
          if (label) { label.textContent = s.status_label + " · " + s.progress + " %"; }
          if (stage) { stage.textContent = s.stage; }
          if (s.pending) { window.setTimeout(poll, 1500); } else { window.location.reload(); }
        })
        .catch(function () { window.setTimeout(poll, 5000); });
    }
    window.setTimeout(poll, 1000);
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-dossier-status]").forEach(watch);
  });
})();
