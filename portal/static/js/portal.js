/* Amélioration progressive : la page fonctionne sans JavaScript. */
document.addEventListener("DOMContentLoaded", function () {
  // Bring keyboard and screen-reader users to the error summary of a refused form.
  var summary = document.querySelector(".error-summary");
  if (summary) {
    summary.focus();
  }
  // Ask before an irreversible action.
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) {
        event.preventDefault();
      }
    });
  });
  // A link the page exists only to follow (the end of a single sign-on session): follow it at once.
  var follow = document.querySelector("a[data-follow-now]");
  if (follow) {
    window.location.replace(follow.href);
  }
});

// The progress of a running job (an import): follow it without reloading the page; reload once it is finished,
// to show its results. Without JavaScript the page refreshes itself (meta refresh in a noscript element).
document.addEventListener("DOMContentLoaded", function () {
  var box = document.querySelector("[data-progress-url]");
  if (!box || !window.fetch) {
    return;
  }
  var bar = box.querySelector("progress");
  var status = box.querySelector("[data-progress-status]");
  var text = box.querySelector("[data-progress-text]");
  function poll() {
    fetch(box.getAttribute("data-progress-url"), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (state) {
        if (!state) {
          window.setTimeout(poll, 5000);
          return;
        }
        if (state.finished) {
          window.location.reload();
          return;
        }
        bar.max = state.total || 1;
        bar.value = state.total ? state.done : 1;
        status.textContent = state.status_label;
        text.textContent = state.text;
        window.setTimeout(poll, 1000);
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 1000);
});

// Tables on a narrow screen: each cell shows its column's name (portal.css, data-label). The templates of the main
// lists write data-label themselves (without JavaScript too); the other tables get it here, from their headers.
document.addEventListener("DOMContentLoaded", function () {
  function headerText(cell) {
    var copy = cell.cloneNode(true);
    copy.querySelectorAll(".visually-hidden, [aria-hidden=true]").forEach(function (hidden) { hidden.remove(); });
    return copy.textContent.replace(/\s+/g, " ").trim();
  }
  document.querySelectorAll("table.table").forEach(function (table) {
    var head = table.tHead;
    if (!head || !head.rows.length) {
      return;
    }
    var labels = [];
    Array.prototype.forEach.call(head.rows[head.rows.length - 1].cells, function (cell) {
      for (var i = 0; i < (cell.colSpan || 1); i++) {
        labels.push(headerText(cell));
      }
    });
    Array.prototype.forEach.call(table.tBodies, function (body) {
      Array.prototype.forEach.call(body.rows, function (row) {
        var column = 0;
        Array.prototype.forEach.call(row.cells, function (cell) {
          // A row's header (th scope=row) is the title of its block: it needs no label.
          if (!cell.hasAttribute("data-label") && labels[column] && cell.getAttribute("scope") !== "row") {
            cell.setAttribute("data-label", labels[column]);
          }
          column += cell.colSpan || 1;
        });
      });
    });
  });
});
