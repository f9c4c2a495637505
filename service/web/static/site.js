/* Bantin public pages: the little a page does better with script, nothing it needs it for.
   - The category menu folds behind a button on a narrow screen (WAI-ARIA disclosure
     pattern: a real <button>, aria-expanded, Escape closes); without script every link shows.
   - "Chép địa chỉ" buttons copy a feed's address; without script the address is plain text
     to select, and the buttons stay hidden. */
(function () {
  "use strict";

  var narrow = window.matchMedia("(max-width: 40rem)");

  function setUpMenu(nav) {
    var button = nav.querySelector(".menu__toggle");
    if (!button) return;
    function show(open) {
      button.setAttribute("aria-expanded", open ? "true" : "false");
      nav.classList.toggle("menu--open", open);
    }
    nav.classList.add("menu--enhanced");
    button.hidden = false;
    show(false);
    button.addEventListener("click", function () {
      show(button.getAttribute("aria-expanded") !== "true");
    });
    nav.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && narrow.matches && button.getAttribute("aria-expanded") === "true") {
        show(false);
        button.focus();
      }
    });
  }

  function setUpCopying() {
    var status = document.querySelector("[data-copied]");
    var buttons = document.querySelectorAll("[data-copy]");
    if (!status || !navigator.clipboard || !window.isSecureContext) return;
    Array.prototype.forEach.call(buttons, function (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        navigator.clipboard.writeText(button.getAttribute("data-copy")).then(
          function () { status.textContent = status.getAttribute("data-copied"); },
          function () { status.textContent = status.getAttribute("data-copy-failed"); }
        );
      });
    });
  }

  Array.prototype.forEach.call(document.querySelectorAll("[data-menu]"), setUpMenu);
  setUpCopying();
})();
