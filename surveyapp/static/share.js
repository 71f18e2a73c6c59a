// Share page (fieldwork): a "Copy" button next to each link, where the browser allows it.
// Without this script the link fields stay read-only text to select and copy by hand.
(function () {
  "use strict";
  if (!navigator.clipboard || !window.isSecureContext) { return; }
  document.querySelectorAll(".share-copy").forEach(function (button) {
    var field = document.getElementById(button.getAttribute("aria-controls"));
    var status = button.parentElement.querySelector(".share-copied");
    if (!field || !status) { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(field.value).then(function () {
        status.textContent = status.dataset.message;
      });
    });
    field.addEventListener("focus", function () { field.select(); });
  });
})();
