// Voice message recorder: record, hear the disguised version, record again, send with the form.
// Without JavaScript (or a microphone) the page keeps its file field for a phone's recording.
// The recording goes into that file field, so it is sent, checked and disguised exactly as an
// attached file; the preview asks the server for the disguised version and stores nothing.
(function () {
  "use strict";
  var box = document.getElementById("recorder");
  if (!box || !window.MediaRecorder || !navigator.mediaDevices || !window.DataTransfer) return;
  var form = box.closest("form");
  var input = form.querySelector("input[type=file][name=voice]");
  var disguise = form.querySelector("input[type=checkbox][name=voice_disguise]");
  var status = box.querySelector(".status");
  var player = box.querySelector("audio");
  var buttons = {};
  ["record", "stop", "again"].forEach(function (name) {
    buttons[name] = box.querySelector("[data-action=" + name + "]");
  });
  var recorder = null, recorded = null, url = null, asked = 0;

  function show(names) {
    Object.keys(buttons).forEach(function (name) { buttons[name].hidden = names.indexOf(name) < 0; });
  }
  function say(text) { status.textContent = text || ""; }
  function play(blob) {
    if (url) URL.revokeObjectURL(url);
    url = URL.createObjectURL(blob);
    player.src = url;
    player.hidden = false;
  }
  function extension(type) {
    if (type.indexOf("ogg") >= 0) return "ogg";
    if (type.indexOf("mp4") >= 0) return "m4a";
    return "webm";
  }

  // What the staff will hear: the server's disguised version, or the recording itself.
  function preview() {
    if (!recorded) return;
    var mine = ++asked;
    player.hidden = true;
    if (disguise && !disguise.checked) {
      play(recorded);
      say(box.dataset.readyReal);
      return;
    }
    say(box.dataset.working);
    var body = new FormData();
    body.append("recording", recorded);
    fetch(box.dataset.preview, {
      method: "POST", body: body, credentials: "same-origin",
      headers: {"X-CSRFToken": form.querySelector("input[name=csrf_token]").value}
    }).then(function (response) {
      if (!response.ok) return response.text().then(function (text) { throw new Error(text); });
      return response.blob();
    }).then(function (blob) {
      if (mine !== asked) return;
      play(blob);
      say(box.dataset.ready);
    }).catch(function (error) {
      if (mine === asked) say(error.message);
    });
  }

  function start() {
    navigator.mediaDevices.getUserMedia({audio: true}).then(function (stream) {
      var chunks = [];
      recorder = new MediaRecorder(stream);
      recorder.ondataavailable = function (event) { if (event.data.size) chunks.push(event.data); };
      recorder.onstop = function () {
        stream.getTracks().forEach(function (track) { track.stop(); });
        var type = recorder.mimeType || "audio/webm";
        recorded = new File(chunks, "voice." + extension(type), {type: type});
        var files = new DataTransfer();
        files.items.add(recorded);
        input.files = files.files;
        show(["again"]);
        preview();
      };
      recorder.start();
      show(["stop"]);
      player.hidden = true;
      say(box.dataset.recording);
    }).catch(function () { say(box.dataset.denied); });
  }

  buttons.record.addEventListener("click", start);
  buttons.again.addEventListener("click", function () {
    recorded = null;
    input.value = "";
    start();
  });
  buttons.stop.addEventListener("click", function () { if (recorder) recorder.stop(); });
  if (disguise) disguise.addEventListener("change", preview);
  input.addEventListener("change", function () {
    // A file chosen by hand replaces the recording.
    recorded = input.files.length ? input.files[0] : null;
    show(["record"]);
    if (recorded) preview(); else { player.hidden = true; say(""); }
  });
  box.hidden = false;
  show(["record"]);
})();
