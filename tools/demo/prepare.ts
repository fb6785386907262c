/**
 * Prepares the `task2` demo (MNIST digits):
 *
 *   npx tsx tools/demo/prepare.ts --data-dir ./var/data --out ./var/demo
 *
 * - `<data-dir>/task2/inputs.npy`, `labels.npy` (the HIDDEN test set) and
 *   `<data-dir>/task2/train.npz` (the public training set): files to import, not a worker's
 *   DATA_DIR (the seed prepares them in a staging folder and imports them as a dataset version,
 *   `DATA_DIR/task2/versions/<sha256>/`);
 * - `<out>/train.npz` (a copy of the public training set) and `<out>/baseline.onnx` (logistic
 *   regression trained on it), for participants to download. Nothing hidden goes into `<out>`.
 *
 * Prints a JSON summary, including the baseline's accuracy on the hidden test set (computed in
 * TypeScript, for information only). Deterministic: rerunning rewrites the same bytes.
 */
import { copyFile, mkdir, writeFile } from "node:fs/promises";
import path from "node:path";

import { MNIST_CLASSES, MNIST_TASK_SLUG, loadMnistTestSet, prepareMnistTask2 } from "./mnist-dataset";
import { accuracy, exportBaselineOnnx, predictProbabilities, trainDemoBaseline } from "./train-baseline";

export interface PrepareDemoResult {
  task: string;
  dataDir: string;
  outDir: string;
  trainRows: number;
  testRows: number;
  baselinePath: string;
  trainPath: string;
  baselineBytes: number;
  trainingMs: number;
  testAccuracy: number;
}

export async function prepareDemo(opts: { dataDir: string; outDir: string }): Promise<PrepareDemoResult> {
  const dataDir = path.resolve(opts.dataDir);
  const outDir = path.resolve(opts.outDir);
  const { trainRows, testRows } = await prepareMnistTask2(dataDir);

  const started = performance.now();
  const model = trainDemoBaseline();
  const trainingMs = Math.round(performance.now() - started);
  const onnx = exportBaselineOnnx(model);

  const test = loadMnistTestSet();
  const testAccuracy = accuracy(predictProbabilities(model, test.x, test.rows), test.y, test.rows, MNIST_CLASSES);

  await mkdir(outDir, { recursive: true });
  const baselinePath = path.join(outDir, "baseline.onnx");
  const trainPath = path.join(outDir, "train.npz");
  await writeFile(baselinePath, onnx);
  await copyFile(path.join(dataDir, MNIST_TASK_SLUG, "train.npz"), trainPath);

  return {
    task: MNIST_TASK_SLUG,
    dataDir,
    outDir,
    trainRows,
    testRows,
    baselinePath,
    trainPath,
    baselineBytes: onnx.byteLength,
    trainingMs,
    testAccuracy,
  };
}

function parseArgs(argv: string[]): { dataDir: string; outDir: string } {
  let dataDir = "./var/data";
  let outDir = "./var/demo";
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [flag, inline] = arg.includes("=") ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)] : [arg, undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined || v === "") throw new Error(`${flag} needs a value`);
      return v;
    };
    if (flag === "--data-dir") dataDir = value();
    else if (flag === "--out") outDir = value();
    else if (flag === "--help" || flag === "-h") {
      console.log("usage: npx tsx tools/demo/prepare.ts [--data-dir ./var/data] [--out ./var/demo]");
      process.exit(0);
    } else throw new Error(`unknown argument: ${arg}`);
  }
  return { dataDir, outDir };
}

const invokedDirectly = /(^|[\\/])prepare\.ts$/.test(process.argv[1] ?? "");
if (invokedDirectly) {
  prepareDemo(parseArgs(process.argv.slice(2)))
    .then((result) => {
      console.log(JSON.stringify(result, null, 2));
      console.log(
        `task2: ${result.trainRows} training rows, ${result.testRows} hidden test rows; ` +
          `baseline trained in ${result.trainingMs} ms, accuracy on the hidden test set ${result.testAccuracy.toFixed(4)}`,
      );
    })
    .catch((err: unknown) => {
      console.error(err instanceof Error ? err.message : err);
      process.exit(1);
    });
}
