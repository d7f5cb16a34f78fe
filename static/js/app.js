// Behaviour of every page, kept out of the HTML: the Content-Security-Policy allows no inline script.
document.addEventListener("DOMContentLoaded", function () {
  // GOV.UK error summary: move focus to it, so screen readers announce the problems first.
  var summary = document.querySelector("[data-error-summary]");
  if (summary) {
    summary.focus();
  }
});
