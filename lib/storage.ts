import "server-only";
import { createModelStorage, type ModelStorage } from "@goat/contracts/model-storage";
import { env } from "./env";

const globalForStorage = globalThis as unknown as { goatModelStorage?: ModelStorage };

/** The model storage backend chosen by configuration (STORAGE_BACKEND). */
export function modelStorage(): ModelStorage {
  globalForStorage.goatModelStorage ??= createModelStorage({ backend: env().STORAGE_BACKEND, root: env().STORAGE_DIR });
  return globalForStorage.goatModelStorage;
}
