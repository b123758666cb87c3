// Per-node times of one ONNX model under ONNX Runtime's CPU provider (npm
// onnxruntime-node), from its own profiler: what each fused node costs, to set
// beside `convscope-cli profile` step by step.
// Usage: node ort_profile.js MODEL.onnx THREADS RUNS [H W C]
// Prints one JSON object: {"nodes": [{"name", "op", "median_us"}...] in run order, "runs", "threads", "ort_version"}.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const ort = require('onnxruntime-node');

function median(v) {
  const s = [...v].sort((a, b) => a - b), n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

async function main() {
  const [model, threadsArg, runsArg, h = '224', w = '224', c = '3'] = process.argv.slice(2);
  const threads = Number(threadsArg || 1), runs = Number(runsArg || 100);
  if (!model || !(threads >= 1) || !(runs >= 1)) {
    console.error('usage: node ort_profile.js MODEL.onnx THREADS RUNS [H W C]');
    process.exit(2);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ort_profile_'));
  const session = await ort.InferenceSession.create(model, {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    enableProfiling: true,
    profileFilePrefix: path.join(dir, 'trace'),
  });
  const shape = [1, Number(c), Number(h), Number(w)];
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; ++i) data[i] = ((i * 7919) % 2001) / 1000 - 1;
  const feeds = {[session.inputNames[0]]: new ort.Tensor('float32', data, shape)};
  for (let i = 0; i < 3 + runs; ++i) await session.run(feeds);
  session.endProfiling();
  const trace = fs.readdirSync(dir).map((f) => path.join(dir, f))[0];
  const events = JSON.parse(fs.readFileSync(trace, 'utf8'));
  fs.rmSync(dir, {recursive: true, force: true});
  const times = new Map(), ops = new Map();
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time')) continue;
    const name = e.name.slice(0, -'_kernel_time'.length);
    if (!times.has(name)) times.set(name, []);
    times.get(name).push(e.dur);
    ops.set(name, e.args && e.args.op_name);
  }
  let version = 'unknown';
  try {
    version = require('onnxruntime-node/package.json').version;
  } catch (e) {
  }
  const nodes = [...times.entries()].map(([name, t]) => ({name, op: ops.get(name), median_us: median(t)}));
  console.log(JSON.stringify({nodes, runs, threads, ort_version: version}));
}

main().catch((e) => {
  console.error(`ort_profile: ${e.message}`);
  process.exit(1);
});
