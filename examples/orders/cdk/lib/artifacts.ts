// What hatch-lambda built: the manifests beside the zips in dist-lambda/, by artifact name.
import * as fs from "node:fs";
import * as path from "node:path";

export interface Artifact {
  name: string;
  kind: "function" | "layer";
  zip: string; // absolute path of the zip
  sha256: string;
  codeSha256: string; // what Lambda reports as CodeSha256
  runtime: string;
  runtimes: string[];
  architecture: string;
  handler: string | null;
  layers: string[]; // the layer artifacts a function was built against
}

export function readArtifacts(directory: string): Map<string, Artifact> {
  const found = new Map<string, Artifact>();
  for (const file of fs.readdirSync(directory).sort()) {
    if (!file.endsWith(".json")) continue;
    const m = JSON.parse(fs.readFileSync(path.join(directory, file), "utf8"));
    // Other JSON files may sit there (a deployment record); a wheelhouse has no archive.
    if (m["hatch-lambda"] === undefined || !m.archive) continue;
    const name: string = m.name ?? "main"; // one artifact without an `artifacts` table
    const seen = found.get(name);
    if (seen !== undefined) {
      throw new Error(
        `${directory} holds two builds of the artifact ${name} (${path.basename(seen.zip)} and ` +
          `${m.archive.file}): build with \`hatch build -t lambda --clean\` so that only the current one remains`,
      );
    }
    found.set(name, {
      name,
      kind: m.kind,
      zip: path.resolve(directory, m.archive.file),
      sha256: m.archive.sha256,
      codeSha256: m.archive["code-sha256"],
      runtime: m.runtime,
      runtimes: m.runtimes,
      architecture: m.architecture,
      handler: m.handler,
      layers: m.layers,
    });
  }
  if (found.size === 0) {
    throw new Error(`no hatch-lambda manifest in ${directory}: run \`hatch build -t lambda\` first`);
  }
  return found;
}
