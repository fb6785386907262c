import { PlatformFault } from "../faults";
import type { OutputBatch, OutputTensor } from "./protocol";

/**
 * The parent's side of the child's `batch` messages (protocol.ts): each output of the whole test
 * set, put together batch by batch in row order as they arrive, while the child runs the next one.
 * The child checked the model's shapes (one row per input row, one row shape); a batch that does
 * not continue where the last one ended, or differs from the first in its outputs, is a fault of
 * the sandbox's protocol, never taken as outputs.
 */
export class OutputAssembly {
  private readonly outputs = new Map<string, { rowDims: number[]; rowWidth: number; chunks: OutputTensor["data"][] }>();
  private names: string[] | undefined;
  private rows = 0;

  add(batch: OutputBatch): void {
    if (batch.start !== this.rows) throw protocolFault(`a batch starts at row ${batch.start}, after ${this.rows} rows`);
    const names = batch.outputs.map((output) => output.name);
    if (this.names === undefined) this.names = names;
    else if (names.length !== this.names.length || names.some((name, i) => name !== this.names![i])) {
      throw protocolFault("a batch names other outputs than the first");
    }
    let batchRows: number | undefined;
    for (const output of batch.outputs) {
      const [rows, ...rowDims] = output.dims;
      batchRows ??= rows;
      const rowWidth = rowDims.reduce((a, b) => a * b, 1);
      const known = this.outputs.get(output.name);
      if (rows !== batchRows || !Number.isInteger(rows) || rows < 1) throw protocolFault(`output ${output.name} has ${rows} rows in a batch`);
      if (!(output.data instanceof Float32Array || output.data instanceof Float64Array) || output.data.length !== rows * rowWidth) {
        throw protocolFault(`output ${output.name} has values of the wrong type or count`);
      }
      if (known && (known.rowWidth !== rowWidth || known.rowDims.length !== rowDims.length || known.chunks[0].constructor !== output.data.constructor)) {
        throw protocolFault(`output ${output.name} changed its row shape or type`);
      }
      if (known) known.chunks.push(output.data);
      else this.outputs.set(output.name, { rowDims, rowWidth, chunks: [output.data] });
    }
    this.rows += batchRows ?? 0;
  }

  /** Every output over `rows` rows, in the order of `outputNames` (empty arrays for a test set of no rows). */
  finish(rows: number, outputNames: string[]): OutputTensor[] {
    if (this.rows !== rows) throw protocolFault(`the batches hold ${this.rows} rows of ${rows}`);
    return outputNames.map((name) => {
      const output = this.outputs.get(name);
      if (!output) {
        if (rows > 0) throw protocolFault(`no batch held output ${name}`);
        return { name, dims: [0], data: new Float32Array(0) };
      }
      return { name, dims: [rows, ...output.rowDims], data: concatenated(output.chunks, rows * output.rowWidth) };
    });
  }
}

/** Chunks of one output's values (one type), in order, as one array of `length` values; a single chunk as it is. */
export function concatenated(chunks: OutputTensor["data"][], length: number): OutputTensor["data"] {
  if (chunks.length === 1) return chunks[0];
  const whole = chunks[0] instanceof Float32Array ? new Float32Array(length) : new Float64Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    whole.set(chunk, offset);
    offset += chunk.length;
  }
  return whole;
}

function protocolFault(what: string): PlatformFault {
  return new PlatformFault("SANDBOX_PROTOCOL", `the sandbox's outputs do not add up: ${what}`);
}
