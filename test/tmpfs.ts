import { spawnSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * A tmpfs of `size` (mount's spelling: "1m") mounted on a new directory, for a test of a disk that
 * fills; `skip` is called, with why, where this process may not mount one (not root, a container
 * without the capability). `fill` writes a file there until no byte more fits, and `free` removes
 * it; `unmount` takes the disk away (close what is open on it first).
 */
export function smallDisk(
  size: string,
  skip: (why: string) => void,
): { dir: string; fill: () => void; free: () => void; unmount: () => void } {
  if (process.getuid?.() !== 0) skip("mounting a small tmpfs to fill needs root");
  const dir = mkdtempSync(join(tmpdir(), "waiter-full-"));
  const mounted = spawnSync("mount", ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", dir], { encoding: "utf8" });
  if (mounted.status !== 0) {
    rmSync(dir, { recursive: true });
    skip(`mount -t tmpfs failed: ${mounted.stderr.trim() || mounted.error?.message}`);
  }
  const filler = join(dir, "filler");
  return {
    dir,
    fill: () => {
      const fd = openSync(filler, "w");
      try {
        for (;;) writeSync(fd, Buffer.alloc(4096));
      } catch (err) {
        if ((err as { code?: string }).code !== "ENOSPC") throw err;
      } finally {
        closeSync(fd);
      }
    },
    free: () => rmSync(filler),
    unmount: () => {
      spawnSync("umount", [dir]);
      rmSync(dir, { recursive: true });
    },
  };
}
