// Bundled by tests/unit/sandbox-child-bundle.test.ts the way the sandbox child is: prints where
// onnxruntime-node's binding (and so the CUDA provider library) is looked for, from the bundle.
import * as ort from "onnxruntime-node";
import { onnxruntimeBindingDir } from "../../../worker/src/onnx/execution-provider";

process.stdout.write(`${onnxruntimeBindingDir()} ${typeof ort.InferenceSession.create}`);
