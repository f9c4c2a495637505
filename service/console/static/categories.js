// The article editor's category list: a search box that narrows the ticked-box list as one
// types, ignoring case and Vietnamese diacritics ("dang" finds "Đảng", as service.text.search_key
// folds). Without this script the whole list shows and works; the box stays hidden.
(function () {
  "use strict";
  const picker = document.getElementById("category-picker");
  const search = document.getElementById("category-search");
  if (!picker || !search) return;
  const labels = Array.from(picker.querySelectorAll("#category-list label"));
  const count = document.getElementById("category-count");
  const fold = (text) =>
    text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/[đĐ]/g, "d").toLowerCase().trim();
  const keys = labels.map((label) => fold(label.textContent));

  function narrow() {
    const words = fold(search.value).split(/\s+/).filter(Boolean);
    let shown = 0;
    labels.forEach((label, i) => {
      const match = words.every((word) => keys[i].includes(word));
      // A ticked box stays in sight: narrowing never hides what is chosen.
      const visible = match || label.querySelector("input").checked;
      label.hidden = !visible;
      if (match) shown += 1;
    });
    count.textContent = words.length && shown === 0 ? picker.dataset.msgNone : "";
  }

  search.addEventListener("input", narrow);
  search.addEventListener("keydown", (event) => {
    // Enter ticks the only match instead of submitting the article.
    if (event.key !== "Enter") return;
    event.preventDefault();
    const matches = labels.filter((label) => !label.hidden && !label.querySelector("input").checked);
    if (matches.length === 1) {
      matches[0].querySelector("input").checked = true;
      search.value = "";
      narrow();
    }
  });
  search.closest(".category-search").hidden = false;
})();
