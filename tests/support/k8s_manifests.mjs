// The Istio and Envoy Gateway manifests under envoy/, for the tests.
//
//   node k8s_manifests.mjs validate FILE
//       Validates every Istio document in FILE against the Istio CRD schemas
//       shipped by npm @kubernetes-models/istio (Istio 1.29), and refuses
//       fields the schema does not know (kubectl's strict field validation
//       would). Prints one line per document; exits 1 on any error.
//   node k8s_manifests.mjs render FILE
//       Prints (YAML) the Envoy bootstrap the documents in FILE amount to: the
//       Wasm filter the WasmPlugin or EnvoyExtensionPolicy asks for, the
//       listener buffer limit from an EnvoyFilter listener patch or a
//       ClientTrafficPolicy (if any), in front of the storage cluster named as
//       the control plane names it (Istio: outbound|9000||storage.images.svc.
//       cluster.local for Service storage.images port 9000; Envoy Gateway:
//       httproute/<ns>/<route>/rule/0 for the policy's HTTPRoute), with
//       Envoy's default buffer limits. It uses the placeholders the tests'
//       stack renders (ports 8080, 9901, 9000, dist/image_process_filter.wasm).
//       This mirrors what the control planes generate; it is not their code.
//
// The npm modules are found in IPF_K8S_MODELS (a node_modules directory that
// `cargo xtask test` fills).

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const modules = process.env.IPF_K8S_MODELS;
if (!modules) {
  console.error("IPF_K8S_MODELS (a node_modules directory) is not set");
  process.exit(2);
}
const load = (rel) => import(pathToFileURL(join(modules, rel)).href);
const yaml = (await load("js-yaml/dist/js-yaml.mjs")).default;

const [command, file] = process.argv.slice(2);
const docs = yaml.loadAll(readFileSync(file, "utf8")).filter(Boolean);

// ---- validate --------------------------------------------------------------

const istio = {
  "extensions.istio.io/v1alpha1/WasmPlugin": [
    "@kubernetes-models/istio/extensions.istio.io/v1alpha1/WasmPlugin.js",
    "WasmPlugin",
    // Opaque by design (x-kubernetes-preserve-unknown-fields): the plugin's
    // own JSON, which the filter validates at VM start.
    [/^spec\.pluginConfig\./],
  ],
  "networking.istio.io/v1alpha3/EnvoyFilter": [
    "@kubernetes-models/istio/networking.istio.io/v1alpha3/EnvoyFilter.js",
    "EnvoyFilter",
    // Envoy config, checked by loading it in Envoy (render).
    [/^spec\.configPatches\.\d+\.patch\.value\./],
  ],
};

function errorsOf(Model, doc) {
  try {
    new Model(doc).validate();
    return [];
  } catch (e) {
    return (e.errors || [{ instancePath: "", message: e.message }]).map(
      (x) => `${x.instancePath || "/"} ${x.message}`,
    );
  }
}

// The compiled schemas check types and enums but let unknown properties
// through. A property is known if putting a value of the wrong type there
// makes the schema complain at exactly that path.
function unknownFields(Model, doc, opaque) {
  const unknown = [];
  const walk = (node, path) => {
    if (Array.isArray(node)) {
      node.forEach((v, i) => walk(v, [...path, i]));
      return;
    }
    if (node === null || typeof node !== "object") return;
    for (const key of Object.keys(node)) {
      const here = [...path, key];
      const dotted = here.join(".");
      if (opaque.some((re) => re.test(dotted)) || dotted === "metadata") continue;
      const probe = structuredClone(doc);
      let parent = probe;
      for (const p of path) parent = parent[p];
      parent[key] = typeof node[key] === "boolean" ? "probe" : true;
      const pointer = "/" + here.join("/");
      const hit = errorsOf(Model, probe).some((e) => e.startsWith(pointer + " "));
      if (!hit) unknown.push(dotted);
      else walk(node[key], here);
    }
  };
  walk(doc, []);
  return unknown;
}

async function validate() {
  let failed = false;
  for (const doc of docs) {
    const id = `${doc.apiVersion}/${doc.kind}`;
    const entry = istio[id];
    if (!entry) {
      console.log(`${id} ${doc.metadata?.name}: no schema here, not validated`);
      continue;
    }
    const [path, name, opaque] = entry;
    const Model = (await load(path))[name];
    const errors = [
      ...errorsOf(Model, doc),
      ...unknownFields(Model, doc, opaque).map((f) => `${f}: unknown field`),
    ];
    if (errors.length) {
      failed = true;
      console.log(`${id} ${doc.metadata?.name}: INVALID\n  ${errors.join("\n  ")}`);
    } else {
      console.log(`${id} ${doc.metadata?.name}: valid`);
    }
  }
  process.exit(failed ? 1 : 0);
}

// ---- render ----------------------------------------------------------------

function mergeInto(target, patch) {
  for (const [k, v] of Object.entries(patch)) {
    if (v && typeof v === "object" && !Array.isArray(v) && typeof target[k] === "object") {
      mergeInto(target[k], v);
    } else {
      target[k] = v;
    }
  }
}

function bytes(quantity) {
  const m = /^(\d+)(Ki|Mi|Gi)?$/.exec(String(quantity));
  if (!m) throw new Error(`bad quantity ${quantity}`);
  return Number(m[1]) * { undefined: 1, Ki: 1024, Mi: 1 << 20, Gi: 1 << 30 }[m[2]];
}

function wasmFilter(name, rootId, configJson, failurePolicy) {
  return {
    name,
    typed_config: {
      "@type": "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm",
      config: {
        name,
        root_id: rootId,
        failure_policy: failurePolicy,
        vm_config: {
          runtime: "envoy.wasm.runtime.v8",
          // The control plane fetches the code (checking its sha256) and hands
          // Envoy a local file.
          code: { local: { filename: "dist/image_process_filter.wasm" } },
        },
        configuration: {
          "@type": "type.googleapis.com/google.protobuf.StringValue",
          value: configJson,
        },
      },
    },
  };
}

function render() {
  const listener = {
    name: "images",
    address: { socket_address: { address: "127.0.0.1", port_value: 8080 } },
  };
  let filter = null;
  let cluster = null;
  for (const doc of docs) {
    const id = `${doc.apiVersion}/${doc.kind}`;
    const ns = doc.metadata?.namespace ?? "default";
    if (id === "extensions.istio.io/v1alpha1/WasmPlugin") {
      const policy = { FAIL_CLOSE: "FAIL_CLOSED", FAIL_OPEN: "FAIL_OPEN", FAIL_RELOAD: "FAIL_RELOAD" };
      filter = wasmFilter(
        `${ns}.${doc.metadata.name}`,
        doc.spec.pluginName ?? "",
        JSON.stringify(doc.spec.pluginConfig ?? {}),
        policy[doc.spec.failStrategy ?? "FAIL_CLOSE"],
      );
      cluster = "outbound|9000||storage.images.svc.cluster.local";
    } else if (id === "networking.istio.io/v1alpha3/EnvoyFilter") {
      for (const p of doc.spec.configPatches) {
        if (p.applyTo !== "LISTENER" || p.patch.operation !== "MERGE") {
          throw new Error(`render: unsupported EnvoyFilter patch ${p.applyTo}/${p.patch.operation}`);
        }
        mergeInto(listener, p.patch.value);
      }
    } else if (id === "gateway.envoyproxy.io/v1alpha1/EnvoyExtensionPolicy") {
      const w = doc.spec.wasm[0];
      filter = wasmFilter(
        `envoy.filters.http.wasm/envoyextensionpolicy/${ns}/${doc.metadata.name}/wasm/0`,
        w.rootID ?? "",
        JSON.stringify(w.config ?? {}),
        w.failOpen ? "FAIL_OPEN" : "FAIL_CLOSED",
      );
      const route = doc.spec.targetRefs.find((r) => r.kind === "HTTPRoute");
      if (!route) throw new Error("render: the EnvoyExtensionPolicy targets no HTTPRoute");
      cluster = `httproute/${ns}/${route.name}/rule/0`;
    } else if (id === "gateway.envoyproxy.io/v1alpha1/ClientTrafficPolicy") {
      const limit = doc.spec.connection?.bufferLimit;
      if (limit !== undefined) listener.per_connection_buffer_limit_bytes = bytes(limit);
    } else {
      throw new Error(`render: unexpected document ${id}`);
    }
  }
  if (!filter) throw new Error("render: no WasmPlugin or EnvoyExtensionPolicy");
  listener.filter_chains = [
    {
      filters: [
        {
          name: "envoy.filters.network.http_connection_manager",
          typed_config: {
            "@type":
              "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
            stat_prefix: "images",
            codec_type: "AUTO",
            route_config: {
              name: "storage",
              virtual_hosts: [
                {
                  name: "storage",
                  domains: ["*"],
                  routes: [{ match: { prefix: "/" }, route: { cluster, timeout: "60s" } }],
                },
              ],
            },
            http_filters: [
              filter,
              {
                name: "envoy.filters.http.router",
                typed_config: {
                  "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router",
                },
              },
            ],
          },
        },
      ],
    },
  ];
  const bootstrap = {
    admin: { address: { socket_address: { address: "127.0.0.1", port_value: 9901 } } },
    static_resources: {
      listeners: [listener],
      // Like the control planes' clusters: Envoy's default buffer limits.
      clusters: [
        {
          name: cluster,
          type: "STATIC",
          connect_timeout: "2s",
          load_assignment: {
            cluster_name: cluster,
            endpoints: [
              {
                lb_endpoints: [
                  {
                    endpoint: {
                      address: { socket_address: { address: "127.0.0.1", port_value: 9000 } },
                    },
                  },
                ],
              },
            ],
          },
        },
      ],
    },
  };
  process.stdout.write(
    `# Rendered from ${file} by tests/support/k8s_manifests.mjs\n` +
      yaml.dump(bootstrap, { lineWidth: -1, noRefs: true }),
  );
}

if (command === "validate") await validate();
else if (command === "render") render();
else {
  console.error("usage: k8s_manifests.mjs validate|render FILE");
  process.exit(2);
}
