// Count the SMS segments of a staff text as it is typed (GSM-7: 160/153, else UCS-2: 70/67).
(function () {
  "use strict";
  // Open the conversation at the parent's first text staff have not seen, else at the latest.
  var transcript = document.querySelector("ol.transcript");
  if (transcript) {
    var unseen = transcript.querySelector("li.unseen");
    transcript.scrollTop = unseen
      ? unseen.getBoundingClientRect().top - transcript.getBoundingClientRect().top - 8
      : transcript.scrollHeight;
  }
  var box = document.getElementById("text-body");
  var out = document.getElementById("segments");
  if (!box || !out) { return; }
  var BASIC = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
  var EXTENDED = "^{}\\[~]|€\f";

  function count(text) {
    var gsm = true, septets = 0, units = 0;
    for (var i = 0; i < text.length; i++) {
      var ch = text.charAt(i);
      if (BASIC.indexOf(ch) >= 0) { septets += 1; }
      else if (EXTENDED.indexOf(ch) >= 0) { septets += 2; }
      else { gsm = false; }
    }
    if (gsm) {
      return { encoding: "GSM-7", length: septets, segments: septets <= 160 ? 1 : Math.ceil(septets / 153) };
    }
    units = text.length; // UTF-16 code units, as carriers count UCS-2
    return { encoding: "UCS-2", length: units, segments: units <= 70 ? 1 : Math.ceil(units / 67) };
  }

  function show() {
    var c = count(box.value.replace(/\s+/g, " ").trim());
    out.textContent = c.length + " characters · " + c.segments + " segment" + (c.segments === 1 ? "" : "s") +
      (c.encoding === "UCS-2" ? " (special characters: 70 per segment)" : "") +
      (c.segments > 3 ? " · too long: keep it to 3 segments" : "");
    out.className = c.segments > 3 ? "hint error" : "hint";
  }
  box.addEventListener("input", show);
  show();
})();
