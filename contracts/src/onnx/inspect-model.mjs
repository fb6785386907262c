/**
 * Reads what the intake check needs from an ONNX file without onnxruntime and without decoding
 * tensor data: a minimal protobuf wire-format reader with offsets. raw_data and every other
 * field it does not need are skipped by length, so a 500 MB model costs a walk over its field
 * headers, not a copy of its weights. `inspectOnnxFile` reads the file through a small block
 * cache (BLOCK_BYTES x MAX_BLOCKS), so memory stays bounded whatever the file's size.
 *
 * Field numbers follow onnx.proto (checked against onnx-proto 8.0.1's generated decoder):
 *   ModelProto      ir_version 1, producer_name 2, producer_version 3, graph 7, opset_import 8, functions 25
 *   OperatorSetId   domain 1, version 2
 *   FunctionProto   name 1, node 7, opset_import 9, domain 10
 *   GraphProto      node 1, name 2, initializer 5, input 11, output 12, value_info 13, sparse_initializer 15
 *   NodeProto       input 1, output 2, name 3, op_type 4, attribute 5, domain 7
 *   AttributeProto  name 1, t 5, g 6, tensors 10, graphs 11, sparse_tensor 22, sparse_tensors 23
 *   TensorProto     dims 1, data_type 2, name 8, raw_data 9, external_data 13, data_location 14
 *   SparseTensor    values 1, indices 2, dims 3
 *   ValueInfoProto  name 1, type 2
 *   TypeProto       tensor_type 1, sequence_type 4, map_type 5, sparse_tensor_type 8, optional_type 9
 *   TypeProto.Tensor elem_type 1, shape 2;  TensorShapeProto dim 1;  Dimension dim_value 1, dim_param 2
 *
 * Shared by the web intake (lib/onnx, on worker threads) and the worker, which checks again
 * before onnxruntime loads a model (worker/src/sandbox/child.ts). Plain JavaScript (types in
 * inspect-model.d.mts) so that it can run as a worker thread as it is, with no TypeScript
 * loader and no bundler: see the end of this file.
 */
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { isMainThread, parentPort, workerData } from "node:worker_threads";
/** The bytes are not an ONNX model, or are one cut short. The message is meant for the participant. */
export class OnnxFormatError extends Error {
    code;
    constructor(code, message) {
        super(message);
        this.name = "OnnxFormatError";
        this.code = code;
    }
}
// ---------------------------------------------------------------------------------------------
// Wire format
/** Internal: what went wrong at the byte level. */
class WireError extends Error {
    kind;
    constructor(kind, message) {
        super(message);
        this.kind = kind;
    }
}
const WT_VARINT = 0;
const WT_I64 = 1;
const WT_LEN = 2;
const WT_I32 = 5;
const MAX_DEPTH = 64;
const utf8 = new TextDecoder("utf-8");
function bufferSource(buf) {
    return { length: buf.length, byte: (pos) => buf[pos], bytes: (start, end) => buf.subarray(start, end) };
}
const BLOCK_BYTES = 64 * 1024;
const MAX_BLOCKS = 64; // 4 MB of cache per inspection
/**
 * A file read on demand in 64 KB blocks, the most recent kept. The walk goes forward with short
 * jumps back (a node's attributes), so the cache is hit nearly always; skipped tensor data is
 * never read.
 */
class FileSource {
    fd;
    length;
    blocks = new Map();
    current;
    currentStart = -1;
    constructor(fd) {
        this.fd = fd;
        this.length = fstatSync(fd).size;
        this.current = new Uint8Array(0);
    }
    block(index) {
        let block = this.blocks.get(index);
        if (block) {
            this.blocks.delete(index); // re-insert: Map order is the LRU order
        }
        else {
            block = new Uint8Array(Math.min(BLOCK_BYTES, this.length - index * BLOCK_BYTES));
            readSync(this.fd, block, 0, block.length, index * BLOCK_BYTES);
            if (this.blocks.size >= MAX_BLOCKS)
                this.blocks.delete(this.blocks.keys().next().value);
        }
        this.blocks.set(index, block);
        return block;
    }
    byte(pos) {
        const offset = pos - this.currentStart;
        if (offset >= 0 && offset < this.current.length)
            return this.current[offset];
        if (pos < 0 || pos >= this.length)
            return undefined;
        const index = Math.floor(pos / BLOCK_BYTES);
        this.current = this.block(index);
        this.currentStart = index * BLOCK_BYTES;
        return this.current[pos - this.currentStart];
    }
    bytes(start, end) {
        const out = new Uint8Array(Math.max(0, end - start));
        for (let pos = start; pos < end;) {
            const index = Math.floor(pos / BLOCK_BYTES);
            const block = this.block(index);
            const from = pos - index * BLOCK_BYTES;
            const n = Math.min(block.length - from, end - pos);
            out.set(block.subarray(from, from + n), pos - start);
            pos += n;
        }
        return out;
    }
}
/** Names longer than this are read cut (they cannot match a task's names anyway). */
const MAX_STRING_BYTES = 64 * 1024;
/** External-data tensors listed by name at most (the check shows a few). */
const MAX_EXTERNAL_NAMES = 1000;
class Reader {
    src;
    constructor(src) {
        this.src = src;
    }
    /** Reads a varint at pos; returns [value, next]. int64 values past 2^53 lose precision; negative
     *  int64s (10-byte two's complement) come back negative. */
    varint(pos, end) {
        const src = this.src;
        let result = 0;
        let mul = 1;
        for (let i = 0; i < 10; i++) {
            if (pos >= end)
                throw new WireError("truncated", "a number runs past the end of the data");
            const b = src.byte(pos++);
            result += (b & 0x7f) * mul;
            if (b < 0x80) {
                if (result >= 2 ** 63)
                    result -= 2 ** 64;
                return [result, pos];
            }
            mul *= 128;
        }
        throw new WireError("malformed", "a number is longer than 10 bytes");
    }
    /** The low 32 bits of the varint at pos, as protobuf's int32 parsing keeps them (two's complement). */
    varintLow32(pos) {
        let low = 0;
        for (let i = 0; i < 5; i++) {
            const b = this.src.byte(pos + i);
            low |= (b & 0x7f) << (7 * i);
            if (b < 0x80)
                break;
        }
        return low | 0;
    }
    /** Calls fn for each field of the message in [start, end). */
    fields(start, end, fn) {
        let pos = start;
        const f = { no: 0, wt: 0, value: 0, start: 0, end: 0 };
        while (pos < end) {
            const [key, afterKey] = this.varint(pos, end);
            pos = afterKey;
            const no = Math.floor(key / 8);
            const wt = key % 8;
            if (no < 1 || no > 536870911)
                throw new WireError("malformed", `invalid field number ${no}`);
            f.no = no;
            f.wt = wt;
            f.value = 0;
            f.start = pos;
            switch (wt) {
                case WT_VARINT: {
                    const [v, next] = this.varint(pos, end);
                    f.value = v;
                    pos = next;
                    break;
                }
                case WT_I64:
                    pos += 8;
                    if (pos > end)
                        throw new WireError("truncated", "a fixed-size value runs past the end of the data");
                    break;
                case WT_I32:
                    pos += 4;
                    if (pos > end)
                        throw new WireError("truncated", "a fixed-size value runs past the end of the data");
                    break;
                case WT_LEN: {
                    const [len, next] = this.varint(pos, end);
                    if (len < 0)
                        throw new WireError("malformed", "negative length");
                    f.start = next;
                    pos = next + len;
                    if (pos > end)
                        throw new WireError("truncated", `a field of ${len} bytes runs past the end of the data`);
                    break;
                }
                default:
                    throw new WireError("malformed", `unsupported wire type ${wt}`);
            }
            f.end = pos;
            fn(f);
        }
    }
    string(f) {
        expectWire(f, WT_LEN);
        return utf8.decode(this.src.bytes(f.start, Math.min(f.end, f.start + MAX_STRING_BYTES)));
    }
    int(f) {
        expectWire(f, WT_VARINT);
        return f.value;
    }
    /** A repeated int64 field, packed or not: calls push for each value. */
    ints(f, push) {
        if (f.wt === WT_VARINT) {
            push(f.value);
        }
        else if (f.wt === WT_LEN) {
            let pos = f.start;
            while (pos < f.end) {
                const [v, next] = this.varint(pos, f.end);
                push(v);
                pos = next;
            }
        }
        else {
            throw new WireError("malformed", `field ${f.no} has wire type ${f.wt}; expected an integer`);
        }
    }
}
function expectWire(f, wt) {
    if (f.wt !== wt)
        throw new WireError("malformed", `field ${f.no} has wire type ${f.wt}; expected ${wt}`);
}
// ---------------------------------------------------------------------------------------------
// ONNX messages
const ELEM_TYPE_NAMES = {
    1: "float32",
    2: "uint8",
    3: "int8",
    4: "uint16",
    5: "int16",
    6: "int32",
    7: "int64",
    8: "string",
    9: "bool",
    10: "float16",
    11: "float64",
    12: "uint32",
    13: "uint64",
    14: "complex64",
    15: "complex128",
    16: "bfloat16",
    17: "float8e4m3fn",
    18: "float8e4m3fnuz",
    19: "float8e5m2",
    20: "float8e5m2fnuz",
    21: "uint4",
    22: "int4",
    23: "float4e2m1",
};
export function onnxElemTypeName(elemType) {
    return ELEM_TYPE_NAMES[elemType] ?? `unknown(${elemType})`;
}
function addExternal(w, name) {
    if (w.external.length < MAX_EXTERNAL_NAMES)
        w.external.push(name);
}
function readTensor(w, start, end) {
    let name = "";
    let count = 1;
    let external = false;
    w.r.fields(start, end, (f) => {
        switch (f.no) {
            case 1:
                w.r.ints(f, (d) => {
                    count *= Math.max(0, d);
                });
                break;
            case 8:
                name = w.r.string(f);
                break;
            case 14:
                // onnxruntime's protobuf reads this enum as an int32, keeping the varint's low 32 bits:
                // 2^32 + 1 arrives as 1 (EXTERNAL). Anything but DEFAULT (0) is refused, exactly or not.
                expectWire(f, WT_VARINT);
                if (w.r.varintLow32(f.start) !== 0)
                    external = true;
                break;
        }
    });
    return { name, count, external };
}
/** SparseTensorProto: values (1) and indices (2) are tensors; returns the stored value count. */
function readSparseTensor(w, start, end, label) {
    let name = "";
    let count = 0;
    w.r.fields(start, end, (f) => {
        if (f.no === 1 || f.no === 2) {
            expectWire(f, WT_LEN);
            const t = readTensor(w, f.start, f.end);
            if (f.no === 1) {
                name = t.name;
                count = t.count;
            }
            if (t.external)
                addExternal(w, t.name || `${label}/${f.no === 1 ? "values" : "indices"}`);
        }
    });
    return { name, count };
}
function readValueInfo(r, start, end) {
    const info = { name: "", dtype: "none", shape: [], rankKnown: false };
    r.fields(start, end, (f) => {
        if (f.no === 1)
            info.name = r.string(f);
        else if (f.no === 2) {
            expectWire(f, WT_LEN);
            r.fields(f.start, f.end, (t) => {
                switch (t.no) {
                    case 1: // tensor_type
                        expectWire(t, WT_LEN);
                        info.dtype = onnxElemTypeName(0);
                        r.fields(t.start, t.end, (tt) => {
                            if (tt.no === 1)
                                info.dtype = onnxElemTypeName(r.int(tt));
                            else if (tt.no === 2) {
                                expectWire(tt, WT_LEN);
                                info.rankKnown = true;
                                info.shape = [];
                                r.fields(tt.start, tt.end, (s) => {
                                    if (s.no !== 1)
                                        return;
                                    expectWire(s, WT_LEN);
                                    let dim = null;
                                    r.fields(s.start, s.end, (d) => {
                                        if (d.no === 1)
                                            dim = r.int(d);
                                        else if (d.no === 2) {
                                            const p = r.string(d);
                                            dim = p === "" ? null : p;
                                        }
                                    });
                                    info.shape.push(dim);
                                });
                            }
                        });
                        break;
                    case 4:
                        info.dtype = "sequence";
                        break;
                    case 5:
                        info.dtype = "map";
                        break;
                    case 8:
                        info.dtype = "sparse_tensor";
                        break;
                    case 9:
                        info.dtype = "optional";
                        break;
                }
            });
        }
    });
    return info;
}
function readNode(w, start, end, depth) {
    const r = w.r;
    let opType = "";
    let name = "";
    let domain = "";
    const attributes = [];
    r.fields(start, end, (f) => {
        switch (f.no) {
            case 3:
                name = r.string(f);
                break;
            case 4:
                opType = r.string(f);
                break;
            case 7:
                domain = r.string(f);
                break;
            case 5:
                expectWire(f, WT_LEN);
                attributes.push({ ...f });
                break;
        }
    });
    w.nodeCount++;
    w.domains.add(domain);
    w.opTypes.add(opType);
    const label = name || opType;
    for (const a of attributes)
        readAttribute(w, a.start, a.end, depth, label);
}
function readAttribute(w, start, end, depth, nodeLabel) {
    const r = w.r;
    let attrName = "";
    const tensors = [];
    const sparse = [];
    const graphs = [];
    r.fields(start, end, (f) => {
        switch (f.no) {
            case 1:
                attrName = r.string(f);
                break;
            case 5:
            case 10:
                expectWire(f, WT_LEN);
                tensors.push({ ...f });
                break;
            case 22:
            case 23:
                expectWire(f, WT_LEN);
                sparse.push({ ...f });
                break;
            case 6:
            case 11:
                expectWire(f, WT_LEN);
                graphs.push({ ...f });
                break;
        }
    });
    const label = `${nodeLabel}/${attrName}`;
    for (const t of tensors) {
        const head = readTensor(w, t.start, t.end);
        if (head.external)
            addExternal(w, head.name || label);
    }
    for (const s of sparse)
        readSparseTensor(w, s.start, s.end, label);
    for (const g of graphs) {
        w.subgraphCount++;
        readGraph(w, g.start, g.end, depth + 1);
    }
}
function readGraph(w, start, end, depth) {
    if (depth > MAX_DEPTH)
        throw new WireError("malformed", `subgraphs are nested more than ${MAX_DEPTH} deep`);
    const r = w.r;
    const inputs = [];
    const outputs = [];
    const initializerNames = new Set();
    r.fields(start, end, (f) => {
        switch (f.no) {
            case 1:
                expectWire(f, WT_LEN);
                readNode(w, f.start, f.end, depth);
                break;
            case 5: {
                expectWire(f, WT_LEN);
                const t = readTensor(w, f.start, f.end);
                initializerNames.add(t.name);
                w.paramCount += t.count;
                w.initializerCount++;
                if (t.external)
                    addExternal(w, t.name || "(unnamed initializer)");
                break;
            }
            case 15: {
                expectWire(f, WT_LEN);
                const s = readSparseTensor(w, f.start, f.end, "(sparse initializer)");
                initializerNames.add(s.name);
                w.paramCount += s.count;
                w.initializerCount++;
                break;
            }
            case 11:
                expectWire(f, WT_LEN);
                inputs.push(readValueInfo(r, f.start, f.end));
                break;
            case 12:
                expectWire(f, WT_LEN);
                outputs.push(readValueInfo(r, f.start, f.end));
                break;
        }
    });
    return { inputs: inputs.filter((i) => !initializerNames.has(i.name)), outputs };
}
function readOpset(r, start, end) {
    const o = { domain: "", version: 0 };
    r.fields(start, end, (f) => {
        if (f.no === 1)
            o.domain = r.string(f);
        else if (f.no === 2)
            o.version = r.int(f);
    });
    return o;
}
// ---------------------------------------------------------------------------------------------
// Entry point
const NOT_ONNX_HINT = "Export your model to ONNX (for example with torch.onnx.export) and upload the .onnx file.";
function sniffOtherFormat(bytes) {
    const starts = (...sig) => sig.every((b, i) => bytes[i] === b);
    const ascii = (s, at = 0) => [...s].every((c, i) => bytes[at + i] === c.charCodeAt(0));
    if (starts(0x89, 0x50, 0x4e, 0x47))
        return "a PNG image";
    if (starts(0xff, 0xd8, 0xff))
        return "a JPEG image";
    if (ascii("GIF8"))
        return "a GIF image";
    if (ascii("%PDF"))
        return "a PDF document";
    if (starts(0x50, 0x4b, 0x03, 0x04))
        return "a ZIP archive (a PyTorch .pt/.pth checkpoint, a Keras file or an .npz are ZIP files)";
    if (starts(0x1f, 0x8b))
        return "a gzip archive";
    if (starts(0x89, 0x48, 0x44, 0x46))
        return "an HDF5 file (a Keras .h5 model?)";
    if (bytes.length > 1 && bytes[0] === 0x80 && bytes[1] >= 2 && bytes[1] <= 5)
        return "a Python pickle";
    if (ascii("\x93NUMPY"))
        return "a NumPy .npy array";
    if (ascii("TFL3", 4))
        return "a TensorFlow Lite model";
    if (ascii("GGUF"))
        return "a GGUF model";
    // Mostly printable text in the first KB: JSON, CSV, Python source, an HTML error page...
    const head = bytes.subarray(0, 1024);
    let printable = 0;
    for (const b of head)
        if ((b >= 0x20 && b < 0x7f) || b === 0x09 || b === 0x0a || b === 0x0d)
            printable++;
    if (head.length >= 4 && printable / head.length > 0.95)
        return "a text file";
    return null;
}
/**
 * Reads the signature and a summary of an ONNX model from its bytes.
 * Throws OnnxFormatError (NOT_ONNX or TRUNCATED) when the bytes are not a readable ONNX model.
 */
export function inspectOnnxModel(bytes) {
    return inspectSource(bufferSource(bytes));
}
/** The same, reading the file in bounded memory (a few MB of cache whatever its size). */
export function inspectOnnxFile(path) {
    const fd = openSync(path, "r");
    try {
        return inspectSource(new FileSource(fd));
    }
    finally {
        closeSync(fd);
    }
}
function inspectSource(src) {
    const size = src.length;
    if (size === 0)
        throw new OnnxFormatError("NOT_ONNX", `The file is empty. ${NOT_ONNX_HINT}`);
    const other = sniffOtherFormat(src.bytes(0, Math.min(size, 1024)));
    if (other)
        throw new OnnxFormatError("NOT_ONNX", `The file is not an ONNX model: it looks like ${other}. ${NOT_ONNX_HINT}`);
    const r = new Reader(src);
    const w = {
        r,
        nodeCount: 0,
        domains: new Set(),
        opTypes: new Set(),
        external: [],
        paramCount: 0,
        initializerCount: 0,
        subgraphCount: 0,
    };
    let irVersion = null;
    let irVersionFirst = false;
    let fieldIndex = 0;
    let producerName = "";
    let producerVersion = "";
    const opsetImports = [];
    const functionDomains = new Set();
    let graph = null;
    try {
        r.fields(0, size, (f) => {
            switch (f.no) {
                case 1:
                    irVersion = r.int(f);
                    if (fieldIndex === 0 && irVersion >= 1 && irVersion <= 64)
                        irVersionFirst = true;
                    break;
                case 2:
                    producerName = r.string(f);
                    break;
                case 3:
                    producerVersion = r.string(f);
                    break;
                case 7:
                    expectWire(f, WT_LEN);
                    graph = readGraph(w, f.start, f.end, 0);
                    break;
                case 8:
                    expectWire(f, WT_LEN);
                    opsetImports.push(readOpset(r, f.start, f.end));
                    break;
                case 25:
                    expectWire(f, WT_LEN);
                    r.fields(f.start, f.end, (ff) => {
                        if (ff.no === 10)
                            functionDomains.add(r.string(ff));
                        else if (ff.no === 7) {
                            expectWire(ff, WT_LEN);
                            // Function bodies count towards domains and op types, not towards nodeCount.
                            const before = w.nodeCount;
                            readNode(w, ff.start, ff.end, 1);
                            w.nodeCount = before;
                        }
                    });
                    break;
            }
            fieldIndex++;
        });
    }
    catch (error) {
        if (!(error instanceof WireError))
            throw error;
        // A cut-off length is only "truncated" when the file started like an ONNX model (ir_version
        // first, as every exporter writes it); random bytes hit impossible lengths too.
        if (error.kind === "truncated" && (irVersionFirst || (irVersion !== null && graph !== null))) {
            throw new OnnxFormatError("TRUNCATED", `The ONNX model is incomplete: the file ends after ${size} bytes, before the end of the data it announces. ` +
                "Was the upload or the export interrupted? Upload the whole .onnx file.");
        }
        const detail = irVersionFirst ? `it starts like an ONNX model but is damaged (${error.message})` : "its bytes are not an ONNX protobuf";
        throw new OnnxFormatError("NOT_ONNX", `The file is not a readable ONNX model: ${detail}. ${NOT_ONNX_HINT}`);
    }
    const g = graph;
    if (irVersion === null || g === null) {
        throw new OnnxFormatError("NOT_ONNX", `The file is not an ONNX model: it has no ${irVersion === null ? "IR version" : "graph"}. ${NOT_ONNX_HINT}`);
    }
    return {
        irVersion,
        producerName,
        producerVersion,
        opsetImports,
        inputs: g.inputs,
        outputs: g.outputs,
        nodeCount: w.nodeCount,
        operatorDomains: [...w.domains].sort(),
        opTypes: [...w.opTypes].sort(),
        externalDataTensors: w.external,
        paramCount: w.paramCount,
        initializerCount: w.initializerCount,
        subgraphCount: w.subgraphCount,
        functionDomains: [...functionDomains].sort(),
    };
}
// ---------------------------------------------------------------------------------------------
// As a worker thread (lib/onnx/inspect-in-worker.ts starts this file as one): inspect the files
// asked for, one at a time. This module is plain JavaScript with no import but Node's own, so it
// runs as a thread entry wherever it lies: from the sources, or copied as is by Next's build.
export const INSPECTION_THREAD_ROLE = "goat-onnx-inspection";
if (!isMainThread && workerData?.role === INSPECTION_THREAD_ROLE) {
    parentPort.on("message", ({ id, path }) => {
        let reply;
        try {
            reply = { id, info: inspectOnnxFile(path) };
        }
        catch (error) {
            reply = error instanceof OnnxFormatError
                ? { id, formatError: { code: error.code, message: error.message } }
                : { id, failure: error instanceof Error ? error.message : String(error) };
        }
        parentPort.postMessage(reply);
    });
}
