// The compose page, made safer with JavaScript (it works without it):
// - the fields are saved as a draft on the server a moment after each change (files are
//   kept when the form is submitted: "Save draft", "Send" or a language switch);
// - leaving the page with changes not saved yet asks first.
(function () {
  "use strict";
  var form = document.getElementById("compose-form");
  if (!form || !window.fetch || !window.FormData) return;
  var status = form.querySelector(".autosave-status");
  var dirty = false;      // changed since the last save
  var filesChosen = false; // a file input has a file: only a submit keeps it
  var timer = null;
  var submitting = false;

  function fieldsOnly() {
    var data = new FormData(form);
    data.delete("document");
    data.delete("annexes");
    return data;
  }

  function save() {
    timer = null;
    var sent = dirty;
    dirty = false;
    fetch(form.dataset.autosave, {
      method: "POST",
      body: fieldsOnly(),
      credentials: "same-origin",
      headers: { "X-Requested-With": "fetch" },
    }).then(function (answer) {
      if (!answer.ok) throw new Error(String(answer.status));
      if (status && !dirty) {
        status.textContent = status.dataset.saved;
        status.hidden = false;
      }
    }).catch(function () {
      dirty = dirty || sent; // try again at the next change; the leave warning stays
    });
  }

  function changed(event) {
    if (event.target && event.target.type === "file") {
      filesChosen = Array.prototype.some.call(form.querySelectorAll("input[type=file]"),
        function (input) { return input.files && input.files.length > 0; });
    }
    dirty = true;
    if (status) status.hidden = true;
    if (timer) clearTimeout(timer);
    timer = setTimeout(save, 1500);
  }

  form.addEventListener("input", changed);
  form.addEventListener("change", changed);
  // Any submit of the form (Send, Save draft, a language button of the header) keeps it all.
  document.addEventListener("submit", function (event) {
    if (event.target === form) submitting = true;
  }, true);
  window.addEventListener("beforeunload", function (event) {
    if (submitting || (!dirty && !filesChosen)) return;
    event.preventDefault();
    event.returnValue = form.dataset.leaveWarning; // shown by older browsers only
    return form.dataset.leaveWarning;
  });
})();
