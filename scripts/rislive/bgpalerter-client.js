// A RIS Live client that does what BGPalerter's RIS connector does
// (connectors/connectorRIS.js with carefulSubscription, utils/WebSocket.js):
// it connects with the ws library and perMessageDeflate, adds client,
// client_version, instance and connection to the URL, sends one
// ris_subscribe per monitored prefix and one per monitored AS ("ASN$"),
// pings with WebSocket ping frames, and turns each ris_message into
// BGPalerter's announcement/withdrawal components. It prints one JSON line
// per thing that happens, for lg's test (web/rislive_node_test.go).
//
// The one addition: after its subscriptions it sends a JSON ping and
// prints "ready" at the pong, so the test knows they were all processed.
//
//   node bgpalerter-client.js URL PREFIX,... ASN,...
"use strict";
const WebSocket = require("ws");
const crypto = require("crypto");

const [base, prefixArg, asnArg] = process.argv.slice(2);
const out = (o) => process.stdout.write(JSON.stringify(o) + "\n");

const url = new URL(base);
url.searchParams.set("client_version", "2.0.0");
url.searchParams.set("client", "bgpalerter-test");
url.searchParams.set("instance", crypto.randomUUID());
url.searchParams.set("connection", crypto.randomUUID());

const params = { moreSpecific: true, type: "UPDATE", host: null, socketOptions: { includeRaw: false } };
const ws = new WebSocket(url.toString(), { perMessageDeflate: true });

ws.on("open", () => {
  out({ event: "open", extensions: ws.extensions });
  for (const prefix of prefixArg.split(",").filter(Boolean)) {
    ws.send(JSON.stringify({ type: "ris_subscribe", data: { ...params, prefix } }));
  }
  for (const asn of asnArg.split(",").filter(Boolean)) {
    ws.send(JSON.stringify({ type: "ris_subscribe", data: { ...params, path: `${asn}$` } }));
  }
  ws.ping();
  ws.send(JSON.stringify({ type: "ping" }));
});
ws.on("pong", () => out({ event: "pong-frame" }));
ws.on("close", (code) => { out({ event: "close", code }); process.exit(0); });
ws.on("error", (err) => { out({ event: "socket-error", message: String(err) }); process.exit(1); });
ws.on("message", (data) => {
  const message = JSON.parse(data);
  if (message.type === "pong") { out({ event: "ready" }); return; }
  if (message.type === "ris_error") { out({ event: "ris_error", message: message.data.message }); return; }
  if (message.type !== "ris_message") { out({ event: "other", type: message.type }); return; }
  // BGPalerter's ConnectorRIS.transform.
  const m = message.data;
  const path = m.path || [];
  const origin = path.length ? path[path.length - 1] : null;
  if (origin !== null) {
    for (const a of m.announcements || []) {
      for (const prefix of a.prefixes || []) {
        out({ event: "announcement", prefix, peer: m.peer, path, originAS: origin, nextHop: a.next_hop,
          timestamp: m.timestamp * 1000, communities: m.community || [] });
      }
    }
  }
  for (const prefix of m.withdrawals || []) {
    out({ event: "withdrawal", prefix, peer: m.peer, timestamp: m.timestamp * 1000 });
  }
});
