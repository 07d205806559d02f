// A sweep's coverage, live: the server sends the counts after every answer (server-sent events).
(function () {
  "use strict";
  var section = document.querySelector("[data-sweep-events]");
  if (!section || !window.EventSource) return;
  var source = new EventSource(section.getAttribute("data-sweep-events"));
  source.addEventListener("coverage", function (event) {
    var data = JSON.parse(event.data);
    Object.keys(data).forEach(function (key) {
      var cell = section.querySelector('[data-cov="' + key + '"]');
      if (cell && typeof data[key] === "number") cell.textContent = String(data[key]);
    });
    section.setAttribute("data-live-connected", "1");
  });
})();
