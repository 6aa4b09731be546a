// Progressive enhancements only: every page works without this file.
(function () {
  "use strict";
  // Ask before destructive actions marked with data-confirm.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  });
  // Branding page: update the header preview while colours and the name are typed.
  var form = document.getElementById("branding-form");
  if (form) {
    var hex = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i;
    var update = function () {
      var primary = form.elements.primary.value.trim();
      var secondary = form.elements.secondary.value.trim();
      var name = document.getElementById("preview-name");
      if (name) { name.textContent = form.elements.name.value; }
      if (!hex.test(primary) || !hex.test(secondary)) { return; }
      var link = document.getElementById("preview-css");
      if (!link) {
        link = document.createElement("link");
        link.rel = "stylesheet";
        link.id = "preview-css";
        document.head.appendChild(link);
      }
      link.href = "/brand.css?primary=" + encodeURIComponent(primary) + "&secondary=" + encodeURIComponent(secondary);
    };
    form.addEventListener("input", update);
  }
})();
