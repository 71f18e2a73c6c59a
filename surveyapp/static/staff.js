// Staff forms: move focus to the error summary, so that keyboard and screen-reader users
// start from the list of problems (each links to its field).
(function () {
  "use strict";
  var summary = document.getElementById("error-summary");
  if (summary) summary.focus();
})();
