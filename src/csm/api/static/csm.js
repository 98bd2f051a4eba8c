// CSM web UI: the one script.  Sections marked data-live are refreshed, without a reload,
// when the daemon records findings (server-sent events from /api/v1/findings/stream): the
// page is fetched again and each live section's content is replaced by the new one.
(function () {
  "use strict";
  var live = document.querySelectorAll("[data-live]");
  if (!live.length || !window.EventSource) {
    return;
  }
  var timer = null;

  function replace(doc) {
    live.forEach(function (section) {
      var fresh = doc.getElementById(section.id);
      if (!fresh) {
        return;
      }
      var nodes = Array.prototype.map.call(fresh.childNodes, function (node) {
        return document.importNode(node, true);
      });
      section.replaceChildren.apply(section, nodes);
    });
    document.body.setAttribute("data-refreshed", String(Date.now()));
  }

  function refresh() {
    timer = null;
    fetch(window.location.href, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) {
        return response.ok ? response.text() : Promise.reject(response.status);
      })
      .then(function (html) {
        replace(new DOMParser().parseFromString(html, "text/html"));
      })
      .catch(function () {});
  }

  function soon() {
    if (timer === null) {
      timer = window.setTimeout(refresh, 300);
    }
  }

  var source = new EventSource("/api/v1/findings/stream");
  source.addEventListener("incidents", soon);
  source.addEventListener("lagged", soon);
  source.addEventListener("open", function () {
    document.body.setAttribute("data-stream", "open");
  });
})();
