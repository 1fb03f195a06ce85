/* Minutes editor: the preview follows the typing. An enhancement only — the
   "Preview" button posts the form and the server renders the same preview.
   The text is sent (with the form's CSRF token) to the preview URL, which
   answers with HTML already sanitised by the server. */
(function () {
  "use strict";
  var form = document.querySelector("form[data-preview-url]");
  var target = document.getElementById("minutes-preview");
  if (!form || !target || !window.fetch || !window.FormData) return;
  var source = form.querySelector("textarea");
  if (!source) return;
  var note = document.querySelector("[data-preview-live]");
  if (note) note.hidden = false;
  var timer = null;
  var sent = 0;

  function refresh() {
    var number = ++sent;
    var body = new FormData(form);
    body.delete("save");
    body.delete("preview");
    fetch(form.getAttribute("data-preview-url"), {
      method: "POST",
      body: body,
      credentials: "same-origin"
    }).then(function (response) {
      if (!response.ok) throw new Error(String(response.status));
      return response.text();
    }).then(function (html) {
      if (number === sent) target.innerHTML = html;
    }).catch(function () {
      /* the button still works */
    });
  }

  source.addEventListener("input", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(refresh, 500);
  });
})();
