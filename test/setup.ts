import { setClock } from "../src/time.js";

// Test files may share a worker: each starts on the real clock, whatever the one before set.
setClock();

// What waiter says of a certificate not trusted depends on NODE_EXTRA_CA_CERTS, which a machine
// may set for everything it runs: in-process, each test starts without it; a spawned waiter is
// given it where a test means to.
delete process.env.NODE_EXTRA_CA_CERTS;
