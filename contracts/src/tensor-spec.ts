import { z } from "zod";

/** Element types a task may declare for a model input or output (and a dataset array may hold). */
export const TENSOR_DTYPES = ["float32", "float64", "int64", "int32", "uint8", "bool"] as const;
export type TensorDtype = (typeof TENSOR_DTYPES)[number];

/** A free dimension (the batch, usually). Any size fits, and a model must leave it symbolic. */
export const FREE_DIM = -1;

/**
 * One model input or output as a task declares it.
 * `shape` uses -1 for a free dimension (the batch), positive integers for fixed sizes.
 */
export const tensorSpecSchema = z.object({
  name: z.string().min(1),
  dtype: z.enum(TENSOR_DTYPES),
  shape: z.array(z.number().int().min(FREE_DIM).refine((d) => d !== 0, "a dimension cannot be 0")).min(1),
});
export type TensorSpec = z.infer<typeof tensorSpecSchema>;

export const tensorSpecListSchema = z.array(tensorSpecSchema).min(1);

export function describeShape(shape: readonly (number | string | null)[]): string {
  return `[${shape.map((d) => (d === FREE_DIM || d === null ? "N" : String(d))).join(", ")}]`;
}

/**
 * Elements per row of a tensor (the product of every dimension after the batch one), or null when
 * one of them is free: a task's outputs must fix them (checked at dataset import), and the worker
 * reads the model's output rows with this width.
 */
export function fixedRowWidth(spec: Pick<TensorSpec, "shape">): number | null {
  const rest = spec.shape.slice(1);
  return rest.includes(FREE_DIM) ? null : rest.reduce((n, d) => n * d, 1);
}
