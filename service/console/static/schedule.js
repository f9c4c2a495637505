// The button that schedules says when (decision 0026): as the publication time field
// (#publish_at) changes, the schedule button's label names the typed time ("Hẹn giờ đăng
// 03/02/2027 07:00") and becomes the primary button; with the field empty, publishing now
// is the primary one again. Labels come from the page (data-label-with-time, with "{when}",
// and data-label-without-time), so they are translated with the templates. Without this
// script the server still refuses "publish now" when a different time was typed in.
(function () {
  "use strict";

  var field = document.getElementById("publish_at");
  if (!field || !field.form) return;
  var form = field.form;
  var scheduleButton = form.querySelector("button[data-schedule-button]");
  var nowButton = form.querySelector('button[name="action"][value="publish"]');
  if (!scheduleButton) return;
  var looksLikeTime = /^\d{1,2}\/\d{1,2}\/\d{4} +\d{1,2}:\d{2}$/;

  function update() {
    var value = field.value.trim();
    var timed = looksLikeTime.test(value);
    scheduleButton.textContent = timed
      ? scheduleButton.getAttribute("data-label-with-time").replace("{when}", value)
      : scheduleButton.getAttribute("data-label-without-time");
    if (!nowButton) return;
    scheduleButton.classList.toggle("primary", timed);
    nowButton.classList.toggle("primary", !timed);
  }

  field.addEventListener("input", update);
})();
