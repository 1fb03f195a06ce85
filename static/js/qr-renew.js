/* Check-in codes expire: renew the QR images in place every few minutes
   (the page itself stays, so nobody loses their place on it), instead of
   reloading the whole page with <meta http-equiv="refresh">. */
(function () {
  "use strict";
  var box = document.querySelector("[data-renew-seconds]");
  if (!box) { return; }
  var seconds = parseInt(box.getAttribute("data-renew-seconds"), 10);
  if (!(seconds > 0)) { return; }
  window.setInterval(function () {
    Array.prototype.forEach.call(box.querySelectorAll("img[data-qr]"), function (image) {
      image.src = image.getAttribute("data-qr") + "?renewed=" + Date.now();
    });
  }, seconds * 1000);
})();
