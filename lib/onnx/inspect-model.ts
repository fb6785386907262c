import "server-only";

// The reader is shared with the worker, which checks each model again before it loads it.
export * from "@goat/contracts/onnx/inspect-model";
