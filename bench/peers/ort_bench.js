// Times one ONNX model with ONNX Runtime's CPU provider (npm onnxruntime-node).
// Usage: node ort_bench.js MODEL.onnx THREADS MIN_SECONDS [H W C]
// Prints one JSON object: {"median_ms", "min_ms", "p90_ms", "runs", "threads", "ort_version"}.
'use strict';
const ort = require('onnxruntime-node');

function quantile(sorted, q) {
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[rank - 1];
}

async function main() {
  const [model, threadsArg, minSecondsArg, h = '224', w = '224', c = '3'] = process.argv.slice(2);
  if (!model) {
    console.error('usage: node ort_bench.js MODEL.onnx THREADS MIN_SECONDS [H W C]');
    process.exit(2);
  }
  const threads = Number(threadsArg || 1);
  const minSeconds = Number(minSecondsArg || 1);
  const session = await ort.InferenceSession.create(model, {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  const shape = [1, Number(c), Number(h), Number(w)];
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; ++i) data[i] = ((i * 7919) % 2001) / 1000 - 1;
  const feeds = {[session.inputNames[0]]: new ort.Tensor('float32', data, shape)};
  for (let i = 0; i < 3; ++i) await session.run(feeds);  // warm-up
  const times = [];
  let spent = 0;
  while (times.length < 10 || spent < minSeconds * 1e3) {
    const t0 = process.hrtime.bigint();
    await session.run(feeds);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    times.push(ms);
    spent += ms;
  }
  times.sort((a, b) => a - b);
  const n = times.length;
  const median = n % 2 ? times[(n - 1) / 2] : (times[n / 2 - 1] + times[n / 2]) / 2;
  let version = 'unknown';
  try {
    version = require('onnxruntime-node/package.json').version;
  } catch (e) {
  }
  console.log(JSON.stringify({median_ms: median, min_ms: times[0], p90_ms: quantile(times, 0.9), runs: n, threads,
                              ort_version: version}));
}

main().catch((e) => {
  console.error(`ort_bench: ${e.message}`);
  process.exit(1);
});
