/* Search pickers: a text field that asks the server as one types and shows
   what it found as a list to choose from (the ARIA combobox pattern). An
   enhancement only — without it the typed username, phone number or request
   number is sent as it is, and the form says whether it names nobody, one
   or several.

   Fields carry data-picker-url (JSON {"items": [...], "more": bool}, the
   text sent as ?q=), data-picker-mode ("fill": the chosen person's username
   goes in the field; "add": the chosen request is checked in the fieldset
   of checkboxes whose id is data-picker-add-to, added there if missing), and data-picker-community: the id
   of the field whose value is sent as ?community=. */
(function () {
  "use strict";
  if (!window.fetch || !document.querySelector) return;

  var WAIT_MS = 250;
  var counter = 0;

  function labelOf(item) {
    if (item.username !== undefined) {
      var parts = [item.display_name, item.username];
      if (item.phone_hint) parts.push(item.phone_hint);
      return parts.join(" · ");
    }
    return "#" + item.id + " " + item.title + (item.status_label ? "（" + item.status_label + "）" : "");
  }

  function setUp(input) {
    var mode = input.getAttribute("data-picker-mode") || "fill";
    var communityField = document.getElementById(input.getAttribute("data-picker-community") || "");
    var addTo = document.getElementById(input.getAttribute("data-picker-add-to") || "");
    var listId = input.id + "-options";
    var list = document.createElement("ul");
    var status = document.createElement("p");
    var chosen = document.createElement("p");
    var items = [];
    var active = -1;
    var timer = null;
    var asked = 0;

    list.id = listId;
    list.className = "picker-options";
    list.setAttribute("role", "listbox");
    list.hidden = true;
    status.className = "picker-status help";
    status.setAttribute("aria-live", "polite");
    chosen.className = "picker-chosen";
    chosen.hidden = true;
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", listId);
    input.parentNode.insertBefore(list, input.nextSibling);
    input.parentNode.insertBefore(status, list.nextSibling);
    input.parentNode.insertBefore(chosen, status.nextSibling);

    function url() {
      var base = input.getAttribute("data-picker-url");
      var query = "q=" + encodeURIComponent(input.value.trim());
      if (communityField) {
        var community = communityField.value;
        if (!community || community === "0") return null;
        query = "community=" + encodeURIComponent(community) + "&" + query;
      }
      return base + (base.indexOf("?") < 0 ? "?" : "&") + query;
    }

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function highlight(index) {
      var options = list.children;
      if (!options.length) return;
      active = (index + options.length) % options.length;
      for (var i = 0; i < options.length; i++) {
        options[i].setAttribute("aria-selected", i === active ? "true" : "false");
      }
      input.setAttribute("aria-activedescendant", options[active].id);
      options[active].scrollIntoView({ block: "nearest" });
    }

    function addChecked(item) {
      var box = addTo.querySelector('input[value="' + String(item.id) + '"]');
      if (!box) {
        var row = document.createElement("div");
        var id = addTo.id + "-found-" + item.id;
        var label = document.createElement("label");
        var empty = addTo.querySelector("p.muted");
        box = document.createElement("input");
        box.type = "checkbox";
        box.name = addTo.id;
        box.value = String(item.id);
        box.id = id;
        label.htmlFor = id;
        label.textContent = labelOf(item);
        row.className = "check-option";
        row.appendChild(box);
        row.appendChild(document.createTextNode(" "));
        row.appendChild(label);
        if (empty) empty.parentNode.removeChild(empty);
        addTo.insertBefore(row, addTo.querySelector(".help, .errors"));
      }
      box.checked = true;
      input.value = "";
      status.textContent = input.getAttribute("data-picker-chosen") + " " + labelOf(item);
    }

    function choose(index) {
      var item = items[index];
      if (!item) return;
      if (mode === "add" && addTo) {
        addChecked(item);
      } else {
        input.value = item.username;
        chosen.textContent = input.getAttribute("data-picker-chosen") + " " + labelOf(item);
        chosen.hidden = false;
        status.textContent = "";
      }
      close();
      input.focus();
    }

    function show(data) {
      items = data.items || [];
      list.textContent = "";
      items.forEach(function (item, index) {
        var option = document.createElement("li");
        option.id = listId + "-" + index;
        option.setAttribute("role", "option");
        option.setAttribute("aria-selected", "false");
        option.textContent = labelOf(item);
        option.addEventListener("click", function () { choose(index); });
        list.appendChild(option);
      });
      if (items.length) {
        list.hidden = false;
        input.setAttribute("aria-expanded", "true");
        status.textContent = data.more ? input.getAttribute("data-picker-more") : "";
      } else {
        close();
        status.textContent = input.getAttribute("data-picker-none");
      }
    }

    function search() {
      var address = url();
      var ask = ++asked;
      if (!address || !input.value.trim()) {
        close();
        status.textContent = "";
        return;
      }
      status.textContent = input.getAttribute("data-picker-loading");
      fetch(address, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          if (!response.ok) throw new Error(String(response.status));
          return response.json();
        })
        .then(function (data) {
          if (ask === asked) show(data);
        })
        .catch(function () {
          if (ask === asked) {
            close();
            status.textContent = "";
          }
        });
    }

    input.addEventListener("input", function () {
      chosen.hidden = true;
      window.clearTimeout(timer);
      timer = window.setTimeout(search, WAIT_MS);
    });
    input.addEventListener("keydown", function (event) {
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        if (list.hidden) return;
        event.preventDefault();
        highlight(active + (event.key === "ArrowDown" ? 1 : -1));
      } else if (event.key === "Enter" && !list.hidden && active >= 0) {
        event.preventDefault(); // choose, do not send the form yet
        choose(active);
      } else if (event.key === "Escape" && !list.hidden) {
        event.preventDefault();
        close();
      }
    });
    input.addEventListener("blur", function () {
      window.setTimeout(close, 200);
    });
    // keep the focus in the field while a suggestion is tapped
    list.addEventListener("mousedown", function (event) { event.preventDefault(); });
    if (communityField) {
      communityField.addEventListener("change", function () {
        chosen.hidden = true;
        if (input.value.trim()) search();
      });
    }
  }

  Array.prototype.forEach.call(document.querySelectorAll("input[data-picker-url]"), function (input) {
    if (!input.id) input.id = "picker-" + ++counter;
    setUp(input);
  });
})();
