// Refresh the queue's rows every few seconds, so a new urgent follow-up shows without a reload.
(function () {
  "use strict";
  var table = document.getElementById("queue");
  var body = document.getElementById("queue-rows");
  var note = document.getElementById("refreshed");
  if (!table || !body) { return; }
  var url = table.getAttribute("data-rows-url");
  var EVERY_MS = 3000;

  function refresh() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) {
        if (response.redirected || response.status === 401) { window.location.reload(); return null; }
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.text();
      })
      .then(function (html) {
        if (html === null) { return; }
        var template = document.createElement("template");
        template.innerHTML = html;
        var counts = template.content.getElementById("counts");
        if (counts) {
          counts.content.querySelectorAll("[data-count]").forEach(function (span) {
            // The status tabs and the "Parent replied" filter show the whole queue's counts.
            document.querySelectorAll("[data-count='" + span.getAttribute("data-count") + "']")
              .forEach(function (shown) { shown.textContent = span.textContent; });
          });
        }
        body.innerHTML = html;
        if (note) { note.textContent = "Updated " + new Date().toLocaleTimeString() + "."; }
      })
      .catch(function () {
        if (note) { note.textContent = "Could not refresh; retrying."; }
      });
  }
  window.setInterval(refresh, EVERY_MS);
})();
