// A button with data-copy="<element id>" copies that element's text (a
// receipt code) to the clipboard and says so in its data-copied text; where
// the clipboard cannot be written (an old browser, a page not served over
// HTTPS) it selects the code, so that a long press copies it. The button is
// hidden in the HTML and shown here: without JavaScript there is nothing to press.
(() => {
  const selectText = (element) => {
    const range = document.createRange();
    range.selectNodeContents(element);
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  };

  const said = (button, text) => {
    const status = document.getElementById(button.dataset.copyStatus);
    if (status) {
      status.textContent = text;
    }
  };

  document.querySelectorAll("button[data-copy]").forEach((button) => {
    const source = document.getElementById(button.dataset.copy);
    if (!source) {
      return;
    }
    button.hidden = false;
    button.addEventListener("click", () => {
      // The code as shown, without the spaces a line break may add.
      const text = source.textContent.trim();
      const fallBack = () => {
        selectText(source);
        said(button, button.dataset.selected || "");
      };
      if (!navigator.clipboard || !window.isSecureContext) {
        fallBack();
        return;
      }
      navigator.clipboard.writeText(text).then(
        () => said(button, button.dataset.copied || ""),
        fallBack,
      );
    });
  });
})();
