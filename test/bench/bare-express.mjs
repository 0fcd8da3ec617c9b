// The baseline for webhook ingest: an express endpoint that reads the raw body and answers 204.
import express from "express";

const app = express();
app.post("/webhooks/:source", express.raw({ type: () => true, limit: "1mb" }), (_req, res) => {
  res.status(204).end();
});
const server = app.listen(Number(process.env.PORT), "127.0.0.1", () =>
  process.stderr.write("listening for webhooks\n"),
);
process.on("SIGTERM", () => server.close(() => process.exit(0)));
