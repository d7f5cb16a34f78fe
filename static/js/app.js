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

// After htmx swaps in a form with errors, the summary gets the focus as on a full page.
document.addEventListener("htmx:afterSwap", function (event) {
  var summary = event.detail.elt && document.querySelector("[data-error-summary]");
  if (summary) {
    summary.focus();
  }
});

// Uploads sent by htmx show their progress in the form's <progress> bar.
document.addEventListener("htmx:xhr:progress", function (event) {
  var form = event.target.closest && event.target.closest("[data-upload-progress]");
  if (!form || !event.detail.lengthComputable) {
    return;
  }
  var box = form.querySelector(".upload-progress");
  var bar = form.querySelector("progress");
  if (box && bar) {
    box.hidden = false;
    bar.value = Math.round((event.detail.loaded / event.detail.total) * 100);
  }
});

// A filter form sent by htmx leaves out its blank fields, so the address a person shares
// names only the filters in use (without JavaScript the server ignores the blanks anyway).
document.addEventListener("htmx:configRequest", function (event) {
  if (event.detail.verb !== "get" || !event.detail.elt.matches("form[data-drop-blank]")) {
    return;
  }
  var parameters = event.detail.parameters;
  var names = parameters instanceof FormData ? Array.from(parameters.keys()) : Object.keys(parameters);
  names.forEach(function (name) {
    var value = parameters instanceof FormData ? parameters.get(name) : parameters[name];
    if (typeof value === "string" && value.trim() === "") {
      if (parameters instanceof FormData) {
        parameters.delete(name);
      } else {
        delete parameters[name];
      }
    }
  });
});
