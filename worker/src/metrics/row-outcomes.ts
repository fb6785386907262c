import type { ClassifiedRows } from "./classification";

/**
 * What a bootstrap needs of one part of the test set (the public or the private rows), kept per
 * scored submission (table result_row_outcomes) so that its score can be recomputed on resampled
 * rows: for classification each row's true class, prediction and top-k hit (enough for accuracy,
 * macro-F1 and top-k); for regression each row's predictions and targets (enough for every
 * regression metric, R² included, which needs the targets' spread). Rows are in the split's order;
 * a resample picks entries 0..rows-1.
 */
export type SplitOutcomes =
  | ({ kind: "CLASSIFICATION" } & ClassifiedRows)
  | { kind: "REGRESSION"; width: number; predictions: Float32Array; targets: Float32Array };

export function outcomeRows(outcomes: SplitOutcomes): number {
  return outcomes.kind === "CLASSIFICATION" ? outcomes.labels.length : outcomes.targets.length / outcomes.width;
}

/**
 * The stored form, little-endian:
 *   u8 format (1) | u8 kind (1 classification, 2 regression) | u8 bytes per class index (1 or 2;
 *   0 for regression) | u8 0 | u32 rows | u32 width (class count, or outputs per row)
 * then, classification: labels and predictions (rows x 1 or 2 bytes each), then the top-k hits as
 * bits (ceil(rows / 8) bytes, row i at bit i % 8 of byte i / 8); regression: predictions and targets
 * as float32 (rows x width each). 100,000 rows of 10 classes take 213 KB, of one regression output
 * 800 KB. Regression values are kept as float32: the score itself is computed in float64, and
 * float32's 7 digits are far finer than any interval.
 */
const FORMAT = 1;
const HEADER_BYTES = 12;

export function encodeSplitOutcomes(outcomes: SplitOutcomes): Uint8Array<ArrayBuffer> {
  const rows = outcomeRows(outcomes);
  if (outcomes.kind === "REGRESSION") {
    const values = rows * outcomes.width;
    const bytes = new Uint8Array(HEADER_BYTES + values * 8);
    writeHeader(bytes, 2, 0, rows, outcomes.width);
    const floats = new Float32Array(bytes.buffer, HEADER_BYTES, values * 2);
    floats.set(outcomes.predictions, 0);
    floats.set(outcomes.targets, values);
    return bytes;
  }
  const indexBytes = outcomes.numClasses <= 256 ? 1 : 2;
  const bytes = new Uint8Array(HEADER_BYTES + rows * indexBytes * 2 + Math.ceil(rows / 8));
  writeHeader(bytes, 1, indexBytes, rows, outcomes.numClasses);
  const view = new DataView(bytes.buffer);
  const predictionsAt = HEADER_BYTES + rows * indexBytes;
  const hitsAt = predictionsAt + rows * indexBytes;
  for (let i = 0; i < rows; i++) {
    if (indexBytes === 1) {
      bytes[HEADER_BYTES + i] = outcomes.labels[i];
      bytes[predictionsAt + i] = outcomes.predictions[i];
    } else {
      view.setUint16(HEADER_BYTES + 2 * i, outcomes.labels[i], true);
      view.setUint16(predictionsAt + 2 * i, outcomes.predictions[i], true);
    }
    if (outcomes.inTopK[i]) bytes[hitsAt + (i >> 3)] |= 1 << (i & 7);
  }
  return bytes;
}

function writeHeader(bytes: Uint8Array, kind: number, indexBytes: number, rows: number, width: number) {
  const view = new DataView(bytes.buffer, bytes.byteOffset);
  view.setUint8(0, FORMAT);
  view.setUint8(1, kind);
  view.setUint8(2, indexBytes);
  view.setUint32(4, rows, true);
  view.setUint32(8, width, true);
}

export function decodeSplitOutcomes(stored: Uint8Array): SplitOutcomes {
  // A copy, so that the float32 view below starts on an aligned offset whatever buffer the
  // database driver handed over.
  const bytes = Uint8Array.prototype.slice.call(stored) as Uint8Array;
  if (bytes.length < HEADER_BYTES) throw new RangeError("stored row outcomes are truncated");
  const view = new DataView(bytes.buffer);
  const [format, kind, indexBytes] = [view.getUint8(0), view.getUint8(1), view.getUint8(2)];
  const rows = view.getUint32(4, true);
  const width = view.getUint32(8, true);
  if (format !== FORMAT) throw new RangeError(`stored row outcomes have format ${format}, expected ${FORMAT}`);
  if (kind === 2) {
    const values = rows * width;
    if (bytes.length !== HEADER_BYTES + values * 8) throw new RangeError("stored regression outcomes have the wrong length");
    return {
      kind: "REGRESSION",
      width,
      predictions: new Float32Array(bytes.buffer, HEADER_BYTES, values),
      targets: new Float32Array(bytes.buffer, HEADER_BYTES + values * 4, values),
    };
  }
  if (kind !== 1 || (indexBytes !== 1 && indexBytes !== 2)) throw new RangeError(`stored row outcomes have kind ${kind}/${indexBytes}`);
  if (bytes.length !== HEADER_BYTES + rows * indexBytes * 2 + Math.ceil(rows / 8)) {
    throw new RangeError("stored classification outcomes have the wrong length");
  }
  const labels = new Int32Array(rows);
  const predictions = new Int32Array(rows);
  const inTopK = new Uint8Array(rows);
  const predictionsAt = HEADER_BYTES + rows * indexBytes;
  const hitsAt = predictionsAt + rows * indexBytes;
  for (let i = 0; i < rows; i++) {
    labels[i] = indexBytes === 1 ? bytes[HEADER_BYTES + i] : view.getUint16(HEADER_BYTES + 2 * i, true);
    predictions[i] = indexBytes === 1 ? bytes[predictionsAt + i] : view.getUint16(predictionsAt + 2 * i, true);
    inTopK[i] = (bytes[hitsAt + (i >> 3)] >> (i & 7)) & 1;
  }
  return { kind: "CLASSIFICATION", numClasses: width, labels, predictions, inTopK };
}
