// Runs an ONNX model once with ONNX Runtime's CPU provider on raw float32 inputs.
// Usage: node ort_run.js MODEL.onnx OUT_PREFIX IN0.bin [IN1.bin ...]
// Writes OUT_PREFIX<i>.bin (raw float32) for every output and prints their shapes as JSON.
'use strict';
const fs = require('fs');
const ort = require('onnxruntime-node');

async function main() {
  const [model, outPrefix, ...inputs] = process.argv.slice(2);
  const session = await ort.InferenceSession.create(model, {intraOpNumThreads: 1});
  const feeds = {};
  session.inputNames.forEach((name, i) => {
    const meta = session.inputMetadata ? session.inputMetadata[i] : null;
    const buf = fs.readFileSync(inputs[i]);
    const data = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
    const dims = meta && meta.shape ? meta.shape : JSON.parse(process.env.ORT_SHAPES)[i];
    feeds[name] = new ort.Tensor('float32', Float32Array.from(data), dims);
  });
  const results = await session.run(feeds);
  const shapes = [];
  session.outputNames.forEach((name, i) => {
    const t = results[name];
    fs.writeFileSync(`${outPrefix}${i}.bin`, Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength));
    shapes.push(t.dims);
  });
  console.log(JSON.stringify(shapes));
}

main().catch((e) => {
  console.error(`ort_run: ${e.message}`);
  process.exit(1);
});
