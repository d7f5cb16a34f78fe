// Behaviour of every page, kept out of the HTML: the Content-Security-Policy allows no inline script.
document.addEventListener("DOMContentLoaded", function () {
  // GOV.UK error summary: move focus to it, so screen readers announce the problems first.
  var summary = document.querySelector("[data-error-summary]");
  if (summary) {
    summary.focus();
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
