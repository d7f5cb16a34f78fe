// Behaviour of every page, kept out of the HTML: the Content-Security-Policy allows no inline script.
// With script running, what only a page without it needs (e.g. "show the regencies") hides.
document.documentElement.classList.add("js");
document.addEventListener("DOMContentLoaded", function () {
  // GOV.UK error summary: move focus to it, so screen readers announce the problems first.
  var summary = document.querySelector("[data-error-summary]");
  if (summary) {
    summary.focus();
  }
});
