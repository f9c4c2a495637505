// Images are not uploaded from the editor yet: refuse dropped or pasted files
// instead of keeping them only in the browser.
document.addEventListener("trix-file-accept", function (event) {
  event.preventDefault();
});
