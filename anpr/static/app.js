// The page of `anpr serve`: send a photo to /v1/read, draw what came back.
"use strict";
const $ = (id) => document.getElementById(id);
const COLORS = ["#00dc00", "#ffc800", "#00a0ff", "#dc00dc"];

function setStatus(text, isError) {
  $("status").textContent = text;
  $("status").className = isError ? "error" : "";
}

async function read(file) {
  setStatus("reading " + file.name + " ...");
  $("result").hidden = true;
  const form = new FormData();
  form.append("image", file, file.name);
  form.append("region", $("region").value);
  form.append("crop", $("crop").checked ? "true" : "false");
  const headers = {};
  if ($("key").value) headers["X-API-Key"] = $("key").value;
  let answer;
  try {
    const response = await fetch("/v1/read", { method: "POST", body: form, headers });
    answer = await response.json();
    if (!response.ok) {
      setStatus("error " + response.status + ": " + (answer.error || response.statusText), true);
      return;
    }
  } catch (err) {
    setStatus("the server did not answer: " + err, true);
    return;
  }
  await show(file, answer);
}

async function show(file, record) {
  const bitmap = await createImageBitmap(file, { imageOrientation: "from-image" });
  const canvas = $("canvas");
  canvas.width = bitmap.width;
  canvas.height = bitmap.height;
  const ctx = canvas.getContext("2d");
  ctx.drawImage(bitmap, 0, 0);
  const line = Math.max(2, Math.round(Math.max(bitmap.width, bitmap.height) / 300));
  const list = $("plates");
  list.replaceChildren();
  record.plates.forEach((p, k) => {
    const color = COLORS[k % COLORS.length];
    ctx.strokeStyle = color;
    ctx.lineWidth = line;
    ctx.beginPath();
    const pts = p.corners && p.corners.length === 4 ? p.corners
      : [[p.box[0], p.box[1]], [p.box[0] + p.box[2], p.box[1]],
         [p.box[0] + p.box[2], p.box[1] + p.box[3]], [p.box[0], p.box[1] + p.box[3]]];
    pts.forEach(([x, y], i) => (i ? ctx.lineTo(x, y) : ctx.moveTo(x, y)));
    ctx.closePath();
    ctx.stroke();
    const item = document.createElement("li");
    const text = document.createElement("span");
    text.className = "text";
    text.textContent = p.text;
    item.append(text, " " + p.confidence.toFixed(2) + (p.format ? " (" + p.format.region + " " + p.format.pattern + ")" : ""));
    item.style.borderLeft = "6px solid " + color;
    item.style.paddingLeft = "0.5rem";
    list.append(item);
  });
  if (!record.plates.length) {
    const item = document.createElement("li");
    item.textContent = "no plate found";
    list.append(item);
  }
  $("json").textContent = JSON.stringify(record, null, 2);
  $("result").hidden = false;
  setStatus(file.name + ": " + record.plates.length + " plate(s) in " + record.time_ms + " ms");
}

$("file").addEventListener("change", () => { if ($("file").files[0]) read($("file").files[0]); });
const drop = $("drop");
["dragenter", "dragover"].forEach((e) => drop.addEventListener(e, (ev) => { ev.preventDefault(); drop.classList.add("over"); }));
["dragleave", "drop"].forEach((e) => drop.addEventListener(e, (ev) => { ev.preventDefault(); drop.classList.remove("over"); }));
drop.addEventListener("drop", (ev) => { const f = ev.dataTransfer.files[0]; if (f) read(f); });
