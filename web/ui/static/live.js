// The live view: subscribes to the looking glass's RIS Live stream
// (/v1/ws/) with the page's filter and shows each message as a row, newest
// first. Every value reaches the page through textContent.
"use strict";
(function () {
  const form = document.getElementById("live-filter");
  const status = document.getElementById("live-status");
  const tbody = document.querySelector("#live tbody");
  const pause = document.getElementById("live-pause");
  const maxRows = 200;
  let paused = false, count = 0;

  function setStatus(text, error) {
    status.textContent = text;
    status.className = "status" + (error ? " error" : "");
  }

  function cell(tr, text, cls) {
    const td = document.createElement("td");
    td.textContent = text == null ? "" : String(text);
    if (cls) td.className = cls;
    tr.appendChild(td);
  }

  function fmtPath(path) {
    return (path || []).map(seg => Array.isArray(seg) ? "{" + seg.join(",") + "}" : String(seg)).join(" ");
  }

  function subscription() {
    const data = {type: "UPDATE", moreSpecific: form.more.checked, socketOptions: {acknowledge: true}};
    for (const [field, key] of [["prefix", "prefix"], ["path", "path"], ["peer", "peer"], ["collector", "host"], ["community", "community"]]) {
      const v = form[field].value.trim();
      if (v) data[key] = v;
    }
    return data;
  }

  function show(d) {
    const tr = document.createElement("tr");
    cell(tr, new Date(d.timestamp * 1000).toISOString().replace("T", " ").replace("Z", ""), "mono nowrap");
    cell(tr, d.type);
    cell(tr, d.peer + " AS" + d.peer_asn + " " + (d.host || ""), "mono");
    cell(tr, (d.announcements || []).flatMap(a => a.prefixes || []).join(" "), "mono");
    cell(tr, (d.withdrawals || []).join(" "), "mono");
    cell(tr, fmtPath(d.path), "mono path");
    cell(tr, (d.community || []).map(c => c.join(":")).join(" "), "mono");
    tbody.insertBefore(tr, tbody.firstChild);
    while (tbody.rows.length > maxRows) tbody.deleteRow(-1);
    count++;
  }

  function connect() {
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(proto + "//" + location.host + "/v1/ws/?client=vantage-ui");
    ws.onopen = () => ws.send(JSON.stringify({type: "ris_subscribe", data: subscription()}));
    ws.onmessage = ev => {
      const msg = JSON.parse(ev.data);
      if (msg.type === "ris_subscribe_ok") setStatus("Subscribed: waiting for updates…");
      else if (msg.type === "ris_error") setStatus(msg.data && msg.data.message || "error", true);
      else if (msg.type === "ris_message" && !paused) {
        show(msg.data);
        setStatus(count + " message" + (count === 1 ? "" : "s") + " (the newest " + maxRows + " shown)");
      }
    };
    ws.onclose = ev => {
      if (status.className.indexOf("error") < 0) setStatus("Disconnected (" + (ev.reason || ev.code) + "); reconnecting…", true);
      setTimeout(connect, 3000);
    };
  }

  pause.addEventListener("click", () => {
    paused = !paused;
    pause.textContent = paused ? "Resume" : "Pause";
    pause.setAttribute("aria-pressed", String(paused));
  });
  connect();
})();
