// Images in the article editor. Each file (dropped or pasted into the body, attached with
// the editor's paperclip, or chosen as the cover) is sent at once to /console/media with
// the session's CSRF token; the server decodes it, strips its metadata and answers its
// address. A refusal is shown next to its field and nothing is kept. The messages come
// from the page (data-msg-* on #cover-field), so they are translated with the templates.
(function () {
  "use strict";

  var cover = document.getElementById("cover-field");
  if (!cover) return;
  var uploadUrl = cover.getAttribute("data-upload-url");
  var pending = 0;

  function message(name) {
    return cover.getAttribute("data-msg-" + name) || "";
  }

  function csrfToken() {
    var input = document.querySelector('form.editor input[name="csrf_token"]');
    return input ? input.value : "";
  }

  function showError(element, text) {
    element.textContent = text;
    element.hidden = !text;
  }

  // Resolves {ok: true, media} or {ok: false, message}; onProgress gets 0..100.
  function send(file, onProgress) {
    return new Promise(function (resolve) {
      var data = new FormData();
      data.append("csrf_token", csrfToken());
      data.append("file", file);
      var request = new XMLHttpRequest();
      request.open("POST", uploadUrl);
      request.upload.addEventListener("progress", function (event) {
        if (event.lengthComputable && onProgress) onProgress((event.loaded / event.total) * 100);
      });
      request.addEventListener("load", function () {
        var body = null;
        try { body = JSON.parse(request.responseText); } catch (e) { body = null; }
        if (request.status === 201 && body) resolve({ ok: true, media: body });
        else if (body && typeof body.message === "string") resolve({ ok: false, message: body.message });
        else if (request.status === 413) resolve({ ok: false, message: message("too-large") });
        else resolve({ ok: false, message: message("failed") });
      });
      request.addEventListener("error", function () { resolve({ ok: false, message: message("failed") }); });
      pending += 1;
      request.addEventListener("loadend", function () { pending -= 1; });
      request.send(data);
    });
  }

  // ---- cover image ----------------------------------------------------------------------
  var urlInput = document.getElementById("image_url");
  var fileInput = document.getElementById("cover_file");
  var status = document.getElementById("cover-status");
  var coverError = document.getElementById("cover_file-error");
  var preview = document.getElementById("cover-preview");
  var choices = document.getElementById("recent-media");

  function setCover(url) {
    urlInput.value = url;
    preview.hidden = true;
    if (url) preview.src = url; else preview.removeAttribute("src");
  }
  // Shown once it has loaded: an address that does not answer shows no broken picture.
  preview.addEventListener("load", function () { preview.hidden = !urlInput.value; });
  preview.addEventListener("error", function () { preview.hidden = true; });
  if (preview.getAttribute("src") && preview.complete && preview.naturalWidth > 0) preview.hidden = false;

  urlInput.addEventListener("change", function () { setCover(urlInput.value.trim()); });

  fileInput.addEventListener("change", function () {
    var file = fileInput.files && fileInput.files[0];
    if (!file) return;
    showError(coverError, "");
    fileInput.removeAttribute("aria-invalid");
    status.textContent = message("uploading");
    send(file, function (percent) {
      status.textContent = message("uploading") + " " + Math.round(percent) + "%";
    }).then(function (result) {
      fileInput.value = "";
      if (result.ok) {
        setCover(result.media.url);
        status.textContent = message("uploaded");
        loadChoices();
      } else {
        // What was there before (typed or chosen) stays as it was.
        status.textContent = "";
        showError(coverError, result.message);
        fileInput.setAttribute("aria-invalid", "true");
        fileInput.focus();
      }
    });
  });

  function loadChoices() {
    var request = new XMLHttpRequest();
    request.open("GET", uploadUrl);
    request.addEventListener("load", function () {
      if (request.status !== 200) return;
      var media = JSON.parse(request.responseText).media;
      if (!media.length) return;
      choices.textContent = "";
      media.forEach(function (item) {
        var button = document.createElement("button");
        button.type = "button";
        button.setAttribute("aria-label", message("choose") + " (" + item.width + " × " + item.height + ")");
        button.setAttribute("aria-pressed", String(item.url === urlInput.value));
        var image = document.createElement("img");
        image.src = item.url;
        image.alt = "";
        image.loading = "lazy";
        button.appendChild(image);
        button.addEventListener("click", function () {
          setCover(item.url);
          Array.prototype.forEach.call(choices.querySelectorAll("button"), function (other) {
            other.setAttribute("aria-pressed", String(other === button));
          });
        });
        choices.appendChild(button);
      });
    });
    request.send();
  }
  loadChoices();

  // ---- images in the body (Trix attachments) --------------------------------------------
  var bodyError = document.getElementById("body_html-upload-error");
  if (window.Trix) {
    // The file name and size are not a caption a reader should see.
    window.Trix.config.attachments.preview.caption = { name: false, size: false };
    window.Trix.config.lang.captionPlaceholder = message("caption");
  }

  document.addEventListener("trix-file-accept", function (event) {
    showError(bodyError, "");
    if (!/^image\/(jpeg|png|webp|gif)$/.test(event.file.type)) {
      event.preventDefault();
      showError(bodyError, message("not-image"));
    }
  });

  document.addEventListener("trix-attachment-add", function (event) {
    var attachment = event.attachment;
    // Until its field below is filled, the picture in the editor says it has no words yet
    // (alt="" rather than none, which would read its address aloud); saving keeps it empty,
    // and publishing refuses it.
    if (attachment.getAttribute("alt") === undefined) attachment.setAttributes({ alt: "" });
    if (!attachment.file) return; // an image already in the body, loaded with it
    send(attachment.file, function (percent) { attachment.setUploadProgress(percent); }).then(function (result) {
      if (result.ok) {
        // No href: a link around the picture to the same picture adds a stop without a name.
        attachment.setAttributes({ url: result.media.url });
        loadChoices(); // an image of the body can be the cover too
      } else {
        attachment.remove();
        showError(bodyError, result.message);
      }
    });
  });

  // ---- words for the body's images (alt) --------------------------------------------------
  // Trix renders an attachment's "alt" attribute on its <img> and so into the HTML it saves,
  // but reads a stored <img> back without it: the alts of the body as loaded are put back on
  // the attachments (matched by address) once the editor starts. Each image then gets a
  // field below the editor; publishing refuses an image without its words (decision 0034).
  var altPanel = document.getElementById("image-alts");
  var altList = document.getElementById("image-alt-list");
  var lacking = altPanel ? JSON.parse(altPanel.getAttribute("data-lacking") || "[]") : [];
  var altFields = []; // [{attachment, item}] in document order
  // The alts of the body as the server read it: Trix has rewritten the hidden input by now.
  var storedAlts = altPanel ? JSON.parse(altPanel.getAttribute("data-alts") || "{}") : {};

  function images(editorElement) {
    return editorElement.editor.getDocument().getAttachments().filter(function (attachment) {
      return attachment.isPreviewable() && attachment.getURL();
    });
  }

  function altField(attachment, number) {
    var id = "alt-" + attachment.id;
    var item = document.createElement("li");
    var thumb = document.createElement("img");
    thumb.src = attachment.getURL();
    thumb.alt = ""; // the field's label names it; the picture is shown to those who see it
    var label = document.createElement("label");
    label.htmlFor = id;
    label.textContent = message("alt-label").replace("{number}", String(number));
    var input = document.createElement("input");
    input.id = id;
    input.maxLength = 300;
    input.value = attachment.getAttribute("alt") || "";
    input.addEventListener("input", function () {
      attachment.setAttributes({ alt: input.value });
      input.removeAttribute("aria-invalid");
      var error = item.querySelector(".field-error");
      if (error) error.hidden = true;
    });
    item.appendChild(thumb);
    var text = document.createElement("div");
    text.appendChild(label);
    text.appendChild(input);
    if (lacking.indexOf(attachment.getURL()) !== -1 && !input.value.trim()) {
      var error = document.createElement("p");
      error.className = "field-error";
      error.id = id + "-error";
      error.textContent = message("alt-lacking");
      input.setAttribute("aria-invalid", "true");
      input.setAttribute("aria-describedby", error.id);
      text.appendChild(error);
    }
    item.appendChild(text);
    return item;
  }

  // Rebuilt only when the images change, so a field keeps its focus while its alt is typed.
  function showAltFields(editorElement) {
    var found = images(editorElement);
    var same = found.length === altFields.length && found.every(function (a, i) { return altFields[i].attachment === a; });
    if (same) return;
    altList.textContent = "";
    altFields = found.map(function (attachment, index) {
      var item = altField(attachment, index + 1);
      altList.appendChild(item);
      return { attachment: attachment, item: item };
    });
    altPanel.hidden = found.length === 0;
  }

  function startEditor(editorElement) {
    // Trix leaves its toolbar's buttons out of the tab order (tabindex -1): put them back, so
    // the toolbar is reachable by keyboard as well as by its shortcuts.
    var toolbar = editorElement.toolbarElement;
    if (toolbar) {
      Array.prototype.forEach.call(toolbar.querySelectorAll("button[tabindex='-1']"), function (button) {
        button.removeAttribute("tabindex");
      });
    }
    if (!altPanel) return;
    images(editorElement).forEach(function (attachment) {
      var alt = storedAlts[attachment.getURL()];
      if (alt && !attachment.getAttribute("alt")) attachment.setAttributes({ alt: alt });
      else if (attachment.getAttribute("alt") === undefined) attachment.setAttributes({ alt: "" });
    });
    altFields = []; // fields built before the alts were put back show them now
    showAltFields(editorElement);
  }
  // This script is deferred: an editor may have started before it ran.
  Array.prototype.forEach.call(document.querySelectorAll("trix-editor"), function (element) {
    if (element.editor) startEditor(element);
  });
  document.addEventListener("trix-initialize", function (event) { startEditor(event.target); });
  document.addEventListener("trix-change", function (event) {
    if (altPanel) showAltFields(event.target);
  });

  // Saving while a file is still on its way would save the article without it.
  var form = document.querySelector("form.editor");
  if (form) {
    form.addEventListener("submit", function (event) {
      if (pending > 0) {
        event.preventDefault();
        status.textContent = message("pending");
      }
    });
  }
})();
