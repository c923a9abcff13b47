// Validates every object in a rendered manifest file against the Kubernetes OpenAPI JSON schemas
// (npm kubernetes-models; ServiceMonitor from @kubernetes-models/prometheus-operator).
// usage: node validate.mjs FILE -> "N passed, M failed". The packages are ES modules, resolved from
// this file's directory: run.sh copies it next to the node_modules it installed.
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";
const file = process.argv[2];
let ok = 0, failed = 0;

async function modelFor(apiVersion, kind) {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
  const path = group === "monitoring.coreos.com"
    ? `@kubernetes-models/prometheus-operator/${group}/${version}/${kind}`
    : group === "" ? `kubernetes-models/${version}/${kind}` : `kubernetes-models/${group}/${version}/${kind}`;
  return (await import(path))[kind];
}

for (const doc of parseAllDocuments(readFileSync(file, "utf8"))) {
  if (doc.errors.length) { failed++; console.log(`FAIL YAML: ${doc.errors[0].message}`); continue; }
  const obj = doc.toJSON();
  if (!obj) continue;
  const what = `${obj.kind}/${obj.metadata?.name}`;
  try {
    const Model = await modelFor(obj.apiVersion, obj.kind);
    new Model(obj).validate();
    ok++; console.log(`ok   ${what}`);
  } catch (e) {
    failed++; console.log(`FAIL ${what}: ${e.message.split("\n").slice(0, 4).join(" ")}`);
  }
}
console.log(`${ok} passed, ${failed} failed`);
process.exit(failed || ok === 0 ? 1 : 0);
