// Webhook ingest's contract done the plain way: express reads the raw body, node:crypto verifies
// its Standard Webhooks signature (not the standardwebhooks package, whose HMAC is JavaScript and
// would slow the baseline), better-sqlite3 commits it (WAL, synchronous=NORMAL, as waiter's store)
// once per delivery id, and the answer is the stored id in JSON.
import { createHmac, randomUUID, timingSafeEqual } from "node:crypto";
import { join } from "node:path";
import Database from "better-sqlite3";
import express from "express";

const db = new Database(join(process.env.DATA_DIR, "plain.db"));
db.pragma("journal_mode = WAL");
db.pragma("synchronous = NORMAL");
db.exec(`CREATE TABLE IF NOT EXISTS events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, source TEXT NOT NULL,
  dedupe_id TEXT NOT NULL, received_at INTEGER NOT NULL, headers TEXT NOT NULL, body BLOB NOT NULL,
  UNIQUE (source, dedupe_id))`);
const insert = db.prepare(
  "INSERT INTO events (id, source, dedupe_id, received_at, headers, body) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (source, dedupe_id) DO NOTHING",
);
const key = Buffer.from(process.env.SVC_SECRET.replace(/^whsec_/, ""), "base64");

function verified(headers, body) {
  const timestamp = Number(headers["webhook-timestamp"]);
  if (!(Math.abs(Date.now() / 1000 - timestamp) <= 300)) return false;
  const expected = createHmac("sha256", key)
    .update(`${headers["webhook-id"]}.${headers["webhook-timestamp"]}.`)
    .update(body)
    .digest();
  return String(headers["webhook-signature"] ?? "")
    .split(" ")
    .some((signature) => {
      const given = Buffer.from(signature.replace(/^v1,/, ""), "base64");
      return given.length === expected.length && timingSafeEqual(given, expected);
    });
}

const app = express();
app.post("/webhooks/:source", express.raw({ type: () => true, limit: "1mb" }), (req, res) => {
  if (!verified(req.headers, req.body)) {
    res.status(401).json({ error: "signature" });
    return;
  }
  const id = randomUUID();
  const stored = insert.run(
    id,
    req.params.source,
    req.headers["webhook-id"],
    Date.now(),
    JSON.stringify(req.headers),
    req.body,
  );
  res.json({ id, duplicate: stored.changes === 0 });
});
const server = app.listen(Number(process.env.PORT), "127.0.0.1", () =>
  process.stderr.write("listening for webhooks\n"),
);
process.on("SIGTERM", () => server.close(() => process.exit(0)));
