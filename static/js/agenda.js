/* Agenda editor: drag an item to reorder. An enhancement only — the up and
   down buttons do the same without JavaScript. Each drop posts the item's
   new position to its move URL (the form's CSRF token comes along), then
   reloads the page so what is shown is what was saved. */
(function () {
  "use strict";
  var list = document.querySelector("[data-agenda-editor]");
  if (!list || !window.fetch) return;
  var rows = Array.prototype.slice.call(list.querySelectorAll("li[data-move-url]"));
  if (rows.length < 2 || !rows[0].querySelector("input[name=csrf_token]")) return;
  var help = document.querySelector("[data-drag-help]");
  if (help) help.hidden = false;
  var dragged = null;

  function positionOf(row) {
    return Array.prototype.indexOf.call(list.children, row) + 1;
  }

  function save(row, position) {
    var body = new URLSearchParams();
    body.set("csrf_token", row.querySelector("input[name=csrf_token]").value);
    body.set("position", String(position));
    list.setAttribute("aria-busy", "true");
    fetch(row.getAttribute("data-move-url"), {
      method: "POST",
      body: body,
      credentials: "same-origin"
    }).then(function () {
      window.location.reload();
    });
  }

  rows.forEach(function (row) {
    row.setAttribute("draggable", "true");
    row.addEventListener("dragstart", function (event) {
      dragged = row;
      row.classList.add("is-dragging");
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", row.id);
    });
    row.addEventListener("dragend", function () {
      row.classList.remove("is-dragging");
      rows.forEach(function (r) { r.classList.remove("is-drop-target"); });
    });
    row.addEventListener("dragover", function (event) {
      if (!dragged || dragged === row) return;
      event.preventDefault();
      event.dataTransfer.dropEffect = "move";
      row.classList.add("is-drop-target");
    });
    row.addEventListener("dragleave", function () {
      row.classList.remove("is-drop-target");
    });
    row.addEventListener("drop", function (event) {
      event.preventDefault();
      if (!dragged || dragged === row) return;
      save(dragged, positionOf(row));
    });
  });
})();
