// The console's only script: live import progress, confirmations, and filters that apply on change.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("select.autosubmit").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });
  document.querySelectorAll("form.confirm").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.dataset.confirm)) { event.preventDefault(); }
    });
  });
  var progress = document.getElementById("progress");
  var bar = document.getElementById("bar");
  if (bar) { bar.style.width = "0%"; }
  if (!progress) { return; }
  var text = document.getElementById("progress-text");
  function poll() {
    fetch(progress.dataset.status, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.json(); })
      .then(function (job) {
        if (!job.running) { window.location.reload(); return; }
        if (job.total) {
          bar.style.width = Math.round(100 * job.done / job.total) + "%";
          text.textContent = job.done + " of " + job.total + " customers";
        }
        window.setTimeout(poll, 500);
      })
      .catch(function () { window.setTimeout(poll, 2000); });
  }
  poll();
});
