// Polls a job's status on pages that show one (data-job-status-url) and reloads when it ends.
(function () {
  // Bars carry their width as data (the CSP forbids inline styles).
  document.querySelectorAll(".progress-bar[data-progress]").forEach(function (bar) {
    bar.style.width = bar.getAttribute("data-progress") + "%";
  });
  document.querySelectorAll("[data-job-status-url]").forEach(function (el) {
    var url = el.getAttribute("data-job-status-url");
    var bar = el.querySelector(".progress-bar");
    function poll() {
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (job) {
          if (bar) { bar.style.width = job.progress + "%"; bar.textContent = job.progress + "%"; }
          if (job.done) { window.location.reload(); } else { setTimeout(poll, 1000); }
        })
        .catch(function () { setTimeout(poll, 3000); });
    }
    setTimeout(poll, 500);
  });
  // Forms that destroy or archive ask first (data-confirm carries the translated question).
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); }
    });
  });
})();
