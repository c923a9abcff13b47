// Runs the pod of a rendered Deployment under podman the way a kubelet would: the container's
// image, command/args, env (values, secretKeyRef, configMapKeyRef, $(VAR) expansion), user and
// group (runAsUser/runAsGroup/fsGroup, runAsNonRoot enforced), read-only root without podman's
// extra tmpfs mounts, dropped capabilities, no-new-privileges, configMap/secret volumes as files,
// emptyDirs as owned directories; then polls the startup and readiness probes as rendered.
// Termination as the kubelet does it: preStop exec, then SIGTERM (podman stop) with the grace period.
//
//   node kubelet.mjs start MANIFESTS DEPLOYMENT WORKDIR   -> writes WORKDIR/pod.json, prints it
//   node kubelet.mjs stop WORKDIR                         -> preStop, SIGTERM, wait, exit code
import { readFileSync, writeFileSync, mkdirSync, chownSync, chmodSync, rmSync } from "node:fs";
import { execFileSync, spawnSync } from "node:child_process";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";

const [cmd, a1, a2, a3] = process.argv.slice(2);
const podman = (...args) => execFileSync("podman", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function probe(p, ports) {
  const port = typeof p.httpGet.port === "string" ? ports[p.httpGet.port] : p.httpGet.port;
  const ctl = new AbortController();
  const t = setTimeout(() => ctl.abort(), (p.timeoutSeconds || 1) * 1000);
  try {
    const r = await fetch(`http://127.0.0.1:${port}${p.httpGet.path}`, { signal: ctl.signal });
    return r.status >= 200 && r.status < 400;
  } catch { return false; } finally { clearTimeout(t); }
}

const running = (id) => spawnSync("podman", ["inspect", "--format", "{{.State.Running}}", id], { encoding: "utf8" }).stdout.trim() === "true";

async function await_(name, p, ports, maxTries, id) {
  for (let i = 0; i < maxTries; i++) {
    if (await probe(p, ports)) return i + 1;
    if (!running(id)) throw new Error(`the container exited before its ${name} probe passed`);
    await sleep((p.periodSeconds || 10) * 1000);
  }
  throw new Error(`${name} probe ${p.httpGet.path} failed ${maxTries} times`);
}

async function start(manifests, deployment, work) {
  const docs = parseAllDocuments(readFileSync(manifests, "utf8")).map((d) => d.toJSON()).filter(Boolean);
  const find = (kind, name) => {
    const o = docs.find((d) => d.kind === kind && d.metadata.name === name);
    if (!o) throw new Error(`${kind}/${name} is not in ${manifests}`);
    return o;
  };
  const secretData = (s) => ({
    ...Object.fromEntries(Object.entries(s.data || {}).map(([k, v]) => [k, Buffer.from(v, "base64").toString()])),
    ...(s.stringData || {}),
  });
  const dep = find("Deployment", deployment);
  const spec = dep.spec.template.spec;
  const c = spec.containers[0];
  const psc = spec.securityContext || {}, csc = c.securityContext || {};
  const uid = csc.runAsUser ?? psc.runAsUser, gid = csc.runAsGroup ?? psc.runAsGroup, fsGroup = psc.fsGroup;
  if ((csc.runAsNonRoot ?? psc.runAsNonRoot) && (uid === undefined || uid === 0)) {
    throw new Error("runAsNonRoot with no non-zero runAsUser: the kubelet would refuse (image user not checked here)");
  }
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const args = ["run", "-d", "--name", `kubelet-${deployment}-${process.pid}`, "--pull", "never"];
  // volumes
  const mounts = {};
  for (const v of spec.volumes || []) {
    const dir = join(work, "volumes", v.name);
    mkdirSync(dir, { recursive: true });
    let files = null;
    if (v.configMap) files = find("ConfigMap", v.configMap.name).data || {};
    if (v.secret) files = secretData(find("Secret", v.secret.secretName));
    if (files) {
      const items = (v.configMap || v.secret).items || Object.keys(files).map((k) => ({ key: k, path: k }));
      const mode = (v.configMap || v.secret).defaultMode ?? 0o644;
      for (const it of items) {
        if (!(it.key in files)) throw new Error(`volume ${v.name}: key ${it.key} missing`);
        writeFileSync(join(dir, it.path), files[it.key]);
        chmodSync(join(dir, it.path), mode);
        if (fsGroup !== undefined) chownSync(join(dir, it.path), 0, fsGroup);
      }
      chmodSync(dir, 0o755);
    } else if (v.emptyDir) {
      if (fsGroup !== undefined) { chownSync(dir, 0, fsGroup); chmodSync(dir, 0o2777); } else chmodSync(dir, 0o777);
    } else {
      throw new Error(`volume ${v.name}: only configMap, secret and emptyDir are emulated`);
    }
    mounts[v.name] = dir;
  }
  for (const m of c.volumeMounts || []) {
    args.push("-v", `${mounts[m.name]}:${m.mountPath}:${m.readOnly ? "ro" : "rw"}`);
  }
  // env, with $(VAR) expansion over the variables defined before
  const env = {};
  for (const e of c.env || []) {
    let value = e.value ?? "";
    if (e.valueFrom?.secretKeyRef) value = secretData(find("Secret", e.valueFrom.secretKeyRef.name))[e.valueFrom.secretKeyRef.key];
    if (e.valueFrom?.configMapKeyRef) value = find("ConfigMap", e.valueFrom.configMapKeyRef.name).data[e.valueFrom.configMapKeyRef.key];
    if (value === undefined) throw new Error(`env ${e.name}: its key is missing`);
    value = value.replace(/\$\(([A-Za-z0-9_]+)\)/g, (m, n) => (n in env ? env[n] : m));
    env[e.name] = value;
    args.push("-e", `${e.name}=${value}`);
  }
  if (uid !== undefined) args.push("--user", `${uid}${gid !== undefined ? ":" + gid : ""}`);
  if (fsGroup !== undefined) args.push("--group-add", String(fsGroup));
  if (csc.readOnlyRootFilesystem) args.push("--read-only", "--read-only-tmpfs=false");
  for (const cap of csc.capabilities?.drop || []) args.push("--cap-drop", cap);
  for (const cap of csc.capabilities?.add || []) args.push("--cap-add", cap);
  if (csc.allowPrivilegeEscalation === false) args.push("--security-opt", "no-new-privileges");
  if (c.resources?.limits?.memory) args.push("--memory", c.resources.limits.memory.replace(/i$/, "").toLowerCase());
  if (c.command) args.push("--entrypoint", JSON.stringify(c.command));
  args.push(c.image, ...(c.args || []));
  const t0 = Date.now();
  let id;
  try {
    id = podman(...args);
  } catch (e) {
    spawnSync("podman", ["rm", "-f", args[3]]); // the container podman created before failing
    throw e;
  }
  const ports = Object.fromEntries((c.ports || []).map((p) => [p.name, p.containerPort]));
  const pod = { id, work, ports, t0, grace: spec.terminationGracePeriodSeconds ?? 30,
    preStop: c.lifecycle?.preStop?.exec?.command, podmanArgs: args };
  writeFileSync(join(work, "pod.json"), JSON.stringify(pod, null, 2));
  try {
    if (c.startupProbe) await await_("startup", c.startupProbe, ports, c.startupProbe.failureThreshold || 3, id);
    pod.startedMs = Date.now() - t0;
    if (c.readinessProbe) await await_("readiness", c.readinessProbe, ports, 60, id);
    pod.readyMs = Date.now() - t0;
    if (c.livenessProbe && !(await probe(c.livenessProbe, ports))) throw new Error("liveness probe fails");
  } catch (e) {
    const logs = spawnSync("podman", ["logs", id], { encoding: "utf8" });
    throw new Error(`${e.message}\n--- container log\n${logs.stdout}${logs.stderr}`);
  }
  writeFileSync(join(work, "pod.json"), JSON.stringify(pod, null, 2));
  console.log(JSON.stringify(pod));
}

function stop(work) {
  const pod = JSON.parse(readFileSync(join(work, "pod.json"), "utf8"));
  if (pod.preStop) spawnSync("podman", ["exec", pod.id, ...pod.preStop], { stdio: "inherit" });
  podman("stop", "--time", String(pod.grace), pod.id);
  const code = podman("inspect", "--format", "{{.State.ExitCode}}", pod.id);
  spawnSync("podman", ["logs", pod.id], { stdio: ["ignore", process.stderr, process.stderr] });
  podman("rm", "-f", pod.id);
  console.log(code);
}

if (cmd === "start") await start(a1, a2, a3);
else if (cmd === "stop") stop(a1);
else { console.error("usage: kubelet.mjs start MANIFESTS DEPLOYMENT WORKDIR | stop WORKDIR"); process.exit(2); }
