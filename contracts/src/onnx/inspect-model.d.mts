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
 *
 * Shared by the web intake (lib/onnx) and the worker, which checks again before onnxruntime
 * loads a model (worker/src/sandbox/child.ts).
 *   SparseTensor    values 1, indices 2, dims 3
 *   ValueInfoProto  name 1, type 2
 *   TypeProto       tensor_type 1, sequence_type 4, map_type 5, sparse_tensor_type 8, optional_type 9
 *   TypeProto.Tensor elem_type 1, shape 2;  TensorShapeProto dim 1;  Dimension dim_value 1, dim_param 2
 */
export interface OnnxValueInfo {
    name: string;
    /** float32, float64, int64, int32, uint8, bool, float16, ... ; "unknown(N)" for other elem types;
     *  "sequence" / "map" / "optional" / "sparse_tensor" for non-tensor values; "none" without a type. */
    dtype: string;
    /** Per dim: dim_value (number), dim_param (string) or null (neither). Empty when rankKnown is false. */
    shape: (number | string | null)[];
    /** False when the value declares no shape at all (its rank is unknown). */
    rankKnown: boolean;
}
export interface OnnxModelInfo {
    irVersion: number;
    producerName: string;
    producerVersion: string;
    opsetImports: {
        domain: string;
        version: number;
    }[];
    /** Graph inputs that are not initializers: what a caller must feed. */
    inputs: OnnxValueInfo[];
    outputs: OnnxValueInfo[];
    /** Nodes in the main graph and in every subgraph (Loop/If/Scan bodies), not in local functions. */
    nodeCount: number;
    /** Distinct node domains over all graphs and local functions, sorted; "" is the default domain. */
    operatorDomains: string[];
    /** Distinct op types over all graphs and local functions, sorted. */
    opTypes: string[];
    /** Tensors stored outside the file (data_location = EXTERNAL): initializer names, or
     *  "<node>/<attribute>" for a Constant-style attribute tensor without a name. */
    externalDataTensors: string[];
    /** Sum of the element counts of the initializers of all graphs (sparse ones: stored values). */
    paramCount: number;
    initializerCount: number;
    /** Number of subgraphs (attribute graphs: Loop/If/Scan bodies), nested ones included. */
    subgraphCount: number;
    /** Domains of the model-local functions (ModelProto.functions), distinct. */
    functionDomains: string[];
}
export type OnnxFormatErrorCode = "NOT_ONNX" | "TRUNCATED";
/** The bytes are not an ONNX model, or are one cut short. The message is meant for the participant. */
export declare class OnnxFormatError extends Error {
    readonly code: OnnxFormatErrorCode;
    constructor(code: OnnxFormatErrorCode, message: string);
}
export declare function onnxElemTypeName(elemType: number): string;
/**
 * Reads the signature and a summary of an ONNX model from its bytes.
 * Throws OnnxFormatError (NOT_ONNX or TRUNCATED) when the bytes are not a readable ONNX model.
 */
export declare function inspectOnnxModel(bytes: Uint8Array): OnnxModelInfo;
/** The same, reading the file in bounded memory (a few MB of cache whatever its size). */
export declare function inspectOnnxFile(path: string): OnnxModelInfo;

/** What an inspection thread answers (the end of inspect-model.mjs). */
export type InspectionReply =
    | { id: number; info: OnnxModelInfo }
    | { id: number; formatError: { code: OnnxFormatErrorCode; message: string } }
    | { id: number; failure: string };

/** workerData.role that makes this module an inspection thread. */
export declare const INSPECTION_THREAD_ROLE: "goat-onnx-inspection";
