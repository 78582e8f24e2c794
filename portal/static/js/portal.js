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
