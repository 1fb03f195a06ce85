/* Minutes editor: buttons for headings, lists, bold and a table above the
   textarea, so that a secretary need not know Markdown; and a button that
   selects the next place the draft marks as still to write (【待填写：…】).
   An enhancement only: the toolbar is hidden until this script shows it,
   and the textarea works the same without it. Each change goes through
   insertText where the browser has it (so that Ctrl+Z undoes it) and fires
   "input", so the live preview follows. */
(function () {
  "use strict";
  var bar = document.querySelector("[data-editor-toolbar]");
  if (!bar) return;
  var area = document.getElementById(bar.getAttribute("data-editor-toolbar"));
  if (!area || typeof area.selectionStart !== "number") return;
  var status = bar.querySelector("[data-toolbar-status]");
  var MARK = /【(?:待填写|To write)\s*[：:][^】\n]{0,80}】/g;

  function say(text) {
    if (status) status.textContent = text;
  }

  /* Replace [start, end) with text, then select [selStart, selEnd). */
  function replace(start, end, text, selStart, selEnd) {
    area.focus();
    area.setSelectionRange(start, end);
    var done = false;
    try {
      done = document.execCommand && document.execCommand("insertText", false, text);
    } catch (e) {
      done = false;
    }
    if (!done || area.value.substring(start, start + text.length) !== text) {
      area.setRangeText(text, start, end, "end");
    }
    area.setSelectionRange(selStart, selEnd);
    area.dispatchEvent(new Event("input", { bubbles: true }));
  }

  /* The whole lines the selection touches. */
  function lineRange() {
    var value = area.value;
    var start = value.lastIndexOf("\n", area.selectionStart - 1) + 1;
    var endAt = area.selectionEnd;
    if (endAt > area.selectionStart && value.charAt(endAt - 1) === "\n") endAt -= 1;
    var end = value.indexOf("\n", endAt);
    if (end === -1) end = value.length;
    return { start: start, end: end, lines: value.substring(start, end).split("\n") };
  }

  var HEADING = /^#{1,6}\s+/;
  var BULLET = /^\s*[-*+]\s+/;
  var NUMBER = /^\s*\d+[.)]\s+/;

  function prefixLines(kind) {
    var range = lineRange();
    var lines = range.lines;
    var pattern = kind === "bullets" ? BULLET : kind === "numbers" ? NUMBER : HEADING;
    var wanted = kind === "heading" ? "## " : kind === "subheading" ? "### " : null;
    var filled = lines.filter(function (line) { return line.trim() !== ""; });
    var all = filled.length > 0 && filled.every(function (line) {
      return wanted ? line.indexOf(wanted) === 0 : pattern.test(line);
    });
    var number = 0;
    var out = lines.map(function (line) {
      if (line.trim() === "" && lines.length > 1) return line;
      var bare = line.replace(HEADING, "").replace(BULLET, "").replace(NUMBER, "");
      if (all) return bare; // pressed again: the lines become plain text
      if (kind === "bullets") return "- " + bare;
      if (kind === "numbers") return (number += 1) + ". " + bare;
      return wanted + bare;
    });
    var text = out.join("\n");
    // the lines stay selected: pressing again (or another list) acts on all of them
    replace(range.start, range.end, text, range.start, range.start + text.length);
  }

  function bold() {
    var start = area.selectionStart;
    var end = area.selectionEnd;
    var chosen = area.value.substring(start, end);
    if (/^\*\*[\s\S]*\*\*$/.test(chosen) && chosen.length >= 4) {
      var inner = chosen.slice(2, -2);
      replace(start, end, inner, start, start + inner.length);
      return;
    }
    replace(start, end, "**" + chosen + "**", start + 2, start + 2 + chosen.length);
  }

  function table(button) {
    var heads = (button.getAttribute("data-table-header") || "||").split("|");
    var value = area.value;
    // after the current line, set apart by a blank line (a table must start a block)
    var end = value.indexOf("\n", area.selectionEnd);
    if (end === -1) end = value.length;
    var before = end > 0 && value.charAt(end - 1) !== "\n" ? "\n\n" : "\n";
    var row = "|" + heads.map(function () { return "  "; }).join("|") + "|";
    var text = before +
      "| " + heads.join(" | ") + " |\n" +
      "|" + heads.map(function () { return " --- "; }).join("|") + "|\n" +
      row + "\n" + row + "\n";
    var firstCell = end + before.length + ("| " + heads.join(" | ") + " |\n").length +
      ("|" + heads.map(function () { return " --- "; }).join("|") + "|\n").length + 2;
    replace(end, end, text, firstCell, firstCell);
  }

  function nextPlace() {
    var value = area.value;
    var from = area.selectionEnd;
    MARK.lastIndex = 0;
    var match;
    var first = null;
    var found = null;
    var count = 0;
    while ((match = MARK.exec(value)) !== null) {
      count += 1;
      if (first === null) first = match;
      if (found === null && match.index >= from) found = match;
    }
    found = found || first;
    if (!found) {
      say(bar.getAttribute("data-none-left") || "");
      area.focus();
      return;
    }
    area.focus();
    area.setSelectionRange(found.index, found.index + found[0].length);
    // bring the selection into view: move the caret there, then keep the selection
    var lines = value.substring(0, found.index).split("\n").length;
    var lineHeight = parseFloat(window.getComputedStyle(area).lineHeight) || 20;
    area.scrollTop = Math.max(0, (lines - 3) * lineHeight);
    say(found[0] + " (" + count + ")");
  }

  bar.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-tool]");
    if (!button) return;
    var tool = button.getAttribute("data-tool");
    if (tool === "bold") bold();
    else if (tool === "table") table(button);
    else if (tool === "next") nextPlace();
    else prefixLines(tool);
  });

  /* How many places are still to write, following the typing. */
  var live = document.querySelector("[data-placeholders-live]");
  var counting = null;
  function count() {
    if (!live) return;
    var n = (area.value.match(MARK) || []).length;
    live.textContent = n === 0 ? live.getAttribute("data-none")
      : n === 1 ? live.getAttribute("data-one")
      : live.getAttribute("data-many").replace("{n}", String(n));
    live.classList.toggle("placeholder-live-done", n === 0);
    live.hidden = false;
  }
  area.addEventListener("input", function () {
    window.clearTimeout(counting);
    counting = window.setTimeout(count, 300);
  });
  count();

  bar.hidden = false;
})();
