// A form with data-confirm="…" asks before it is sent (removing someone
// from a grid, a unit or a street's staff). Without JavaScript it is sent
// at once: what it does can be undone by adding the person again.
document.addEventListener("submit", (event) => {
  const question = event.target.dataset && event.target.dataset.confirm;
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});
