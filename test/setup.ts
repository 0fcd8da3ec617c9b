import { setClock } from "../src/time.js";

// Test files may share a worker: each starts on the real clock, whatever the one before set.
setClock();
