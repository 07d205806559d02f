// Gridline console: a little progressive enhancement. Every page works without this script.
// - reveal forms answer in place (the reveal is still a POST with the CSRF token, and audited);
// - forms with data-confirm ask first;
// - live updates: server-sent events add new cases to the list and show a notice.
(function () {
  "use strict";
  var body = document.body;
  var csrf = body.getAttribute("data-csrf");

  function text(key, fallback) {
    return body.getAttribute("data-t-" + key) || fallback;
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement)) return;
    var question = form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
      return;
    }
    if (form.classList.contains("reveal-form") && window.fetch) {
      event.preventDefault();
      fetch(form.action, {
        method: "POST",
        body: new FormData(form),
        headers: { "Accept": "application/json", "X-CSRF-Token": csrf || "" },
        credentials: "same-origin"
      }).then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.json();
      }).then(function (data) {
        var target = form.previousElementSibling;
        while (target && !target.hasAttribute("data-reveal-target")) target = target.previousElementSibling;
        if (target) {
          target.textContent = data.value;  // textContent: the value is shown as text, never as HTML
          target.classList.add("revealed-inline");
        }
        form.remove();
      }).catch(function () { form.submit(); });
    }
  });

  function toast(message, href) {
    var box = document.getElementById("toasts");
    if (!box) return;
    var item = document.createElement("div");
    item.className = "toast";
    if (href) {
      var link = document.createElement("a");
      link.href = href;
      link.textContent = message;
      item.appendChild(link);
    } else {
      item.textContent = message;
    }
    box.appendChild(item);
    setTimeout(function () { item.remove(); }, 8000);
  }

  function refreshRow(caseId, insertIfMissing) {
    var tbody = document.querySelector("tbody[data-live-rows]");
    if (!tbody) return;
    var existing = tbody.querySelector('tr[data-case-id="' + caseId + '"]');
    if (!existing && !insertIfMissing) return;
    fetch("/console/cases/" + encodeURIComponent(caseId) + "/row", { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (!html) return;
        var template = document.createElement("template");
        template.innerHTML = html.trim();  // server-rendered, escaped by the template engine
        var row = template.content.querySelector("tr");
        if (!row) return;
        var table = tbody.closest("table");
        if (table) table.hidden = false;
        var current = tbody.querySelector('tr[data-case-id="' + caseId + '"]');
        if (current) current.replaceWith(row); else tbody.insertBefore(row, tbody.firstChild);
      });
  }

  if (csrf && window.EventSource) {
    var source = new EventSource("/console/events");
    source.addEventListener("case.created", function (event) {
      var data = JSON.parse(event.data);
      toast(text("new-case", "New case") + " " + data.ref, "/console/cases/" + data.case_id);
      refreshRow(data.case_id, true);
      body.setAttribute("data-live-count", String(Number(body.getAttribute("data-live-count") || "0") + 1));
    });
    source.addEventListener("case.updated", function (event) {
      var data = JSON.parse(event.data);
      refreshRow(data.case_id, false);
    });
    body.setAttribute("data-live-connected", "1");
  }

  // A broadcast's delivery counts, refreshed while it is being sent.
  var counts = document.querySelector("[data-broadcast-counts][data-live-counts]");
  if (counts && window.fetch) {
    var poll = function () {
      fetch(counts.getAttribute("data-broadcast-counts"), { headers: { accept: "application/json" } })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (data) {
          if (!data) return;
          Object.keys(data).forEach(function (name) {
            var cell = counts.querySelector('[data-count="' + name + '"]');
            if (cell) cell.textContent = String(data[name]);
          });
          if (data.status === "sending") window.setTimeout(poll, 3000);
        })
        .catch(function () { window.setTimeout(poll, 10000); });
    };
    window.setTimeout(poll, 3000);
  }
})();
