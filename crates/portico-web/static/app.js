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
  // Ticket-form designer: "Move up" / "Move down" move the field in the page instead of a
  // round trip; the rows' hidden "order" fields carry the new order when the form is saved.
  var designer = document.querySelector("form[data-reorder]");
  if (designer) {
    designer.addEventListener("click", function (event) {
      var button = event.target.closest && event.target.closest("button[name=move]");
      if (!button) { return; }
      event.preventDefault();
      var row = button.closest("[data-row]");
      var up = /-up$/.test(button.value);
      var other = up ? row.previousElementSibling : row.nextElementSibling;
      var status = document.getElementById("reorder-status");
      var label = row.querySelector("input[name^=label_]").value;
      // Only saved or named fields move; blank rows for new fields stay last.
      if (!other || !other.hasAttribute("data-row") || !other.querySelector("button[name=move]")) {
        status.textContent = label + " is already " + (up ? "first." : "last.");
        return;
      }
      row.parentNode.insertBefore(up ? row : other, up ? other : row);
      button.focus();
      var rows = designer.querySelectorAll("[data-row]");
      var at = 0;
      rows.forEach(function (r, n) {
        var position = r.querySelector("[data-position]");
        if (position) { position.textContent = String(n + 1); }
        if (r === row) { at = n + 1; }
      });
      status.textContent = label + " is now field " + at + ".";
    });
    // Options only matter for choice fields: fold the box away for the other kinds.
    var showOptions = function (select) {
      var box = select.closest("[data-row]").querySelector("[data-options]");
      if (box) { box.hidden = !/select$/.test(select.value); }
    };
    designer.querySelectorAll("select[data-kind]").forEach(showOptions);
    designer.addEventListener("change", function (event) {
      if (event.target.matches && event.target.matches("select[data-kind]")) { showOptions(event.target); }
    });
  }
  // The desk's reply box: while someone types, tell the server now and then, so that colleagues
  // opening the same ticket see who is writing a reply.
  var replyForm = document.querySelector("form[data-replying]");
  if (replyForm && window.fetch) {
    var lastMark = 0;
    replyForm.addEventListener("input", function () {
      var now = Date.now();
      if (now - lastMark < 10000) { return; }
      lastMark = now;
      var body = new URLSearchParams();
      body.set("csrf", replyForm.elements.csrf.value);
      fetch(replyForm.getAttribute("data-replying"), {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: body.toString()
      });
    });
  }
  // Live pages: the server says when what this page shows has changed; the page then fetches
  // itself and swaps in the parts marked data-live, so a reply appears without a reload.
  var live = document.querySelector("[data-live-src]");
  if (live && window.EventSource && window.DOMParser) {
    var refresh = function () {
      fetch(window.location.href, { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) {
          if (!html) { return; }
          var fresh = new DOMParser().parseFromString(html, "text/html");
          var news = [];
          document.querySelectorAll("[data-live]").forEach(function (el) {
            var next = fresh.querySelector('[data-live="' + el.getAttribute("data-live") + '"]');
            if (!next) { return; }
            // A part with a key is replaced only when its key changes: the actions are not
            // swapped for the same ones while someone types a reply.
            var key = el.getAttribute("data-live-key");
            if (key !== null && key === next.getAttribute("data-live-key")) { return; }
            if (key !== null && next.getAttribute("data-live-announce")) {
              news.push(next.getAttribute("data-live-announce"));
            }
            // A reply being typed survives a swap that still offers the reply box.
            var draft = el.querySelector("textarea[name=body]");
            var node = document.importNode(next, true);
            var box = node.querySelector("textarea[name=body]");
            if (draft && box && draft.value) { box.value = draft.value; }
            el.replaceWith(node);
          });
          // Told to screen readers, politely, once the parts are in place.
          var announcer = document.getElementById("live-announcer");
          if (announcer && news.length) { announcer.textContent = news.join(" "); }
        });
    };
    var source = new EventSource(live.getAttribute("data-live-src"));
    source.addEventListener("changed", refresh);
    // The stream ends when the session does; the browser would retry, so stop it.
    source.addEventListener("ended", function () { source.close(); });
  }
})();
