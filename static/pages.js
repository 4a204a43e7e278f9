// Small progressive helpers for the server-rendered pages. Every page works without them:
// what needs a script (Print, Copy) is `hidden` in the HTML and shown here.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  // A refused form: its error summary takes the focus, so a screen reader reads it first.
  const summary = document.querySelector("[data-autofocus]");
  if (summary) summary.focus();

  // The summary's links move the focus onto the field (a fragment only scrolls to it).
  for (const link of document.querySelectorAll(".error-summary a[href^='#']")) {
    link.addEventListener("click", (event) => {
      const field = document.getElementById(link.getAttribute("href").slice(1));
      if (!field) return;
      event.preventDefault();
      field.scrollIntoView({ block: "center" });
      field.focus();
    });
  }

  // Enter in a search field clicks its own button (the people search of the compose and
  // out-of-office forms), whatever the form's first button is.
  for (const field of document.querySelectorAll("[data-enter-clicks]")) {
    const button = document.getElementById(field.dataset.enterClicks);
    if (!button) continue;
    field.addEventListener("keydown", (event) => {
      if (event.key === "Enter") {
        event.preventDefault();
        button.click();
      }
    });
  }

  // An annex opened in the preview frame: bring the frame into view (on a phone it is above).
  const frame = document.getElementById("preview");
  for (const link of document.querySelectorAll("a[target='preview']")) {
    link.addEventListener("click", () => frame && frame.scrollIntoView({ block: "start" }));
  }

  for (const button of document.querySelectorAll("[data-print]")) {
    button.hidden = false;
    button.addEventListener("click", () => window.print());
  }

  // Copy buttons: the text of the element named by data-copy, then a short confirmation.
  for (const button of document.querySelectorAll("[data-copy]")) {
    const source = document.getElementById(button.dataset.copy);
    const status = document.getElementById(button.dataset.copyStatus || "");
    if (!source) continue;
    button.hidden = false;
    button.addEventListener("click", async () => {
      const text = source.innerText;
      try {
        await navigator.clipboard.writeText(text);
      } catch {
        const range = document.createRange();
        range.selectNodeContents(source);
        const selection = window.getSelection();
        selection.removeAllRanges();
        selection.addRange(range);
        document.execCommand("copy");
      }
      if (status) status.textContent = button.dataset.msgCopied || "";
    });
  }

  // "Your browser does not show PDFs here": only where the browser says it cannot.
  if (navigator.pdfViewerEnabled === false) {
    for (const note of document.querySelectorAll("[data-pdf-note]")) note.hidden = false;
  }
});
